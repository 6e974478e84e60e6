"""Spec version ``slo-agent/v1``: the wire format of the kinds ``Node`` and ``AlertWindows``
(``Journey`` and ``DecisionPolicy`` in modules of their own; all four are registered in
:mod:`agent.spec.v1_kinds`).

Strict frozen pydantic models (unknown keys are errors); :mod:`agent.spec.v1_convert` turns a
validated document into the version-free :mod:`agent.model`. Durations become timedeltas here
(through the scalar types of :mod:`agent.spec.scalars`), percents become ratios there, and
nowhere else. A new spec version is a new module; this one keeps its meaning.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator

from agent.durations import format_duration
from agent.probe_kinds import ProbeKind, ProbeKinds
from agent.probe_kinds.http import HttpSpec
from agent.probe_kinds.registry import KINDS
from agent.spec.problems import Loc, did_you_mean, validation_error
from agent.spec.scalars import (
    Currency,
    Duration,
    Interval,
    LabelName,
    Name,
    ObjectivePercent,
    Percent,
    PromQuery,
    Url,
    WindowSpec,
)
from agent.spec.v1_auth import AuthSpec
from agent.spec.v1_convert import DEFAULT_INTERVAL
from agent.spec.v1_transport import TlsSpec

API_VERSION = "slo-agent/v1"
# labels slo-agent puts on every alert itself; a spec may not set them
RESERVED_ALERT_LABELS = frozenset(
    {"alertname", "severity", "node", "slo", "mode", "long", "short", "burn_rate"}
    | {"sloth_id", "sloth_service", "sloth_slo"}
)


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Metadata(_Spec):
    name: Name = Field(description="unique among documents of the same kind")
    labels: dict[LabelName, str] = Field(default_factory=dict)


# --- probes -------------------------------------------------------------------------------


def _too_long(at: Loc, timeout: timedelta | None, limit: timedelta, what: str) -> None:
    if timeout is not None and timeout > limit:
        message = f"must not be longer than {what} ({format_duration(limit)}), got "
        raise validation_error("timeout", [(at, message + format_duration(timeout))])


class _ProbeSpecBase(_Spec):
    """A probe: a name, an interval and exactly one check, under its kind's key (``http:``,
    ``tcp:``, ...). The keys are those of the registered probe kinds
    (:mod:`agent.probe_kinds.registry`); :data:`ProbeSpec` adds one optional field per kind."""

    name: Name
    interval: Interval | None = Field(None, description="default 30s")

    def check_spec(self) -> tuple[ProbeKind[Any, Any], BaseModel]:
        """The probe's kind and the wire model of its check."""
        for kind in KINDS:
            value = getattr(self, kind.name)
            if value is not None:
                return kind, value
        raise AssertionError("the model validator guarantees exactly one check")

    @model_validator(mode="after")
    def _one_check(self) -> _ProbeSpecBase:
        given = [kind.name for kind in KINDS if getattr(self, kind.name) is not None]
        if len(given) != 1:
            allowed = " or ".join(KINDS.names())
            got = " and ".join(given) if given else "none"
            if len(KINDS.names()) == 2:  # the wording of the two kinds v1 started with
                got = "both" if given else "neither"
            raise validation_error("probe", [((), f"needs exactly one of {allowed}, got {got}")])
        what = "the interval" if self.interval else "the default interval"
        every = self.interval or DEFAULT_INTERVAL
        name = given[0]
        _too_long((name, "timeout"), getattr(getattr(self, name), "timeout", None), every, what)
        return self


def _probe_spec(kinds: ProbeKinds) -> type[_ProbeSpecBase]:
    fields: dict[str, Any] = {kind.name: (kind.spec | None, None) for kind in kinds.freeze()}
    return create_model("ProbeSpec", __base__=_ProbeSpecBase, __module__=__name__, **fields)


if TYPE_CHECKING:
    ProbeSpec = _ProbeSpecBase
else:
    ProbeSpec = _probe_spec(KINDS)


# --- SLOs ---------------------------------------------------------------------------------


class PrometheusSliSpec(_Spec):
    """Good and bad events from the user's own metrics, as two PromQL queries."""

    error_query: PromQuery = Field(description="per-second rate of bad events over {{window}}")
    total_query: PromQuery = Field(description="per-second rate of all events over {{window}}")


class SliSpec(_Spec):
    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [
                {"required": ["probe"], "not": {"required": ["prometheus"]}},
                {
                    "required": ["prometheus"],
                    "not": {
                        "anyOf": [
                            {"required": ["probe"]},
                            {"required": ["latency_under"]},
                            {"required": ["throttled"]},
                            {"required": ["cert_valid_for"]},
                        ]
                    },
                },
            ]
        }
    )

    probe: Name | None = Field(None, description="a probe of this node; good = it succeeded")
    latency_under: Duration | None = Field(None, description="good also needs a faster probe")
    throttled: Literal["bad", "exclude"] = Field(
        "bad", description="a throttled run (429, 503 + Retry-After): bad, or no event at all"
    )
    cert_valid_for: Duration | None = Field(
        None, description="good also needs the peer certificate valid at least this much longer"
    )
    prometheus: PrometheusSliSpec | None = Field(
        None, description="good/bad events from Prometheus queries instead of a probe"
    )

    @model_validator(mode="after")
    def _one_source(self) -> SliSpec:
        if (self.probe is None) == (self.prometheus is None):
            got = "both" if self.probe is not None else "neither"
            message = f"needs exactly one of probe or prometheus, got {got}"
            raise validation_error("sli", [((), message)])
        if self.prometheus is not None and self.latency_under is not None:
            message = (
                "only applies to a probe; a prometheus SLI counts slow requests "
                "in its error_query (e.g. from histogram buckets)"
            )
            raise validation_error("sli", [(("latency_under",), message)])
        if self.prometheus is not None and "throttled" in self.model_fields_set:
            message = "only applies to a probe; a prometheus SLI counts what its queries count"
            raise validation_error("sli", [(("throttled",), message)])
        if self.prometheus is not None and self.cert_valid_for is not None:
            message = "only applies to a probe that does a TLS handshake"
            raise validation_error("sli", [(("cert_valid_for",), message)])
        return self


class SloSpec(_Spec):
    name: Name
    objective: ObjectivePercent = Field(description="percent of good events, e.g. 99.9")
    window: WindowSpec
    sli: SliSpec
    min_events: int = Field(3, ge=1, description="fewer events in the window means no data")


# --- node ---------------------------------------------------------------------------------


class ContractSpec(_Spec):
    availability_percent: Percent | None = None
    latency_under: Duration | None = None


class PartnerSpec(_Spec):
    name: str = Field(min_length=1)
    contract: ContractSpec = Field(default_factory=ContractSpec)


class AlertingSpec(_Spec):
    windows: Name = Field("default", description="the name of an AlertWindows document")
    labels: dict[LabelName, str] = Field(default_factory=dict)
    annotations: dict[LabelName, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _not_reserved(self) -> AlertingSpec:
        taken = sorted(RESERVED_ALERT_LABELS)
        problems: list[tuple[Loc, str]] = [
            (
                ("labels", name),
                f"is reserved for the labels slo-agent sets itself: {', '.join(taken)}",
            )
            for name in self.labels
            if name in RESERVED_ALERT_LABELS
        ]
        if problems:
            raise validation_error("alerting", problems)
        return self


class DrillSpec(_Spec):
    every: Interval
    http: HttpSpec

    @model_validator(mode="after")
    def _timeout(self) -> DrillSpec:
        _too_long(("http", "timeout"), self.http.timeout, self.every, "the drill's every")
        return self


class FallbackSpec(_Spec):
    node: Name = Field(description="another Node of the same capability")
    drill: DrillSpec | None = None


class CostSpec(_Spec):
    fixed_monthly: float = Field(0.0, ge=0)
    per_request: float = Field(0.0, ge=0)
    currency: Currency = "EUR"


class DecisionSpec(_Spec):
    brand_control: int | None = Field(None, ge=1, le=5)
    differentiation: int | None = Field(None, ge=1, le=5)
    cost: CostSpec | None = None
    integration_complexity: int | None = Field(
        None, ge=1, le=5, description="1..5; estimated from the probed contract when absent"
    )


class NodeSpec(_Spec):
    mode: Literal["operated", "orchestrated"]
    owner: str = Field(min_length=1)
    capability: Name = Field(description="nodes with the same capability are alternatives")
    partner: PartnerSpec | None = None
    probes: list[ProbeSpec] = Field(min_length=1)
    auth: AuthSpec | None = Field(None, description="for every HTTP request of this node")
    slos: list[SloSpec] = Field(default_factory=list)
    alerting: AlertingSpec = Field(default_factory=AlertingSpec)
    fallbacks: list[FallbackSpec] = Field(default_factory=list)
    decision: DecisionSpec = Field(default_factory=DecisionSpec)
    tls: TlsSpec | None = Field(None, description="TLS client settings of every HTTP request")
    proxy: Url | None = Field(None, description="forward proxy of every HTTP request")

    @model_validator(mode="after")
    def _consistent(self) -> NodeSpec:
        problems: list[tuple[Loc, str]] = []
        if self.mode == "orchestrated" and self.partner is None:
            problems.append((("partner",), "is required for an orchestrated node"))
        if self.mode == "operated" and self.partner is not None:
            problems.append((("partner",), "is only allowed for an orchestrated node"))
        problems += _duplicates("probes", [probe.name for probe in self.probes], "probe name")
        problems += _duplicates("slos", [slo.name for slo in self.slos], "SLO name")
        problems += _duplicates("fallbacks", [fb.node for fb in self.fallbacks], "fallback", "node")
        probes = [probe.name for probe in self.probes]
        for index, slo in enumerate(self.slos):
            if slo.sli.probe is not None and slo.sli.probe not in probes:
                hint = did_you_mean(slo.sli.probe, probes) or f"; probes: {', '.join(probes)}"
                message = f'unknown probe "{slo.sli.probe}"{hint}'
                problems.append((("slos", index, "sli", "probe"), message))
        if problems:
            raise validation_error("node", problems)
        return self


def _duplicates(
    field: str, names: list[str], what: str, key: str = "name"
) -> list[tuple[Loc, str]]:
    first: dict[str, int] = {}
    problems: list[tuple[Loc, str]] = []
    for index, name in enumerate(names):
        if name in first:
            message = f'duplicate {what} "{name}" (first at {field}[{first[name]}])'
            problems.append(((field, index, key), message))
        first.setdefault(name, index)
    return problems


class NodeDocument(_Spec):
    """A node the team operates or orchestrates: its probes, SLOs, alerting and fallbacks."""

    api_version: Literal["slo-agent/v1"] = Field(alias="apiVersion")
    kind: Literal["Node"]
    metadata: Metadata
    spec: NodeSpec


# --- alert windows ------------------------------------------------------------------------


class AlertTierSpec(_Spec):
    budget_percent: Percent = Field(description="the share of the error budget burnt in `long`")
    long: Duration
    short: Duration

    @model_validator(mode="after")
    def _short_first(self) -> AlertTierSpec:
        if self.short >= self.long:
            message = (
                f"must be shorter than long ({format_duration(self.long)}), "
                f"got {format_duration(self.short)}"
            )
            raise validation_error("tier", [(("short",), message)])
        return self


class AlertWindowsSpec(_Spec):
    page: list[AlertTierSpec] = Field(default_factory=list)
    ticket: list[AlertTierSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _some_tier(self) -> AlertWindowsSpec:
        if not self.page and not self.ticket:
            raise validation_error("windows", [((), "needs at least one page or ticket tier")])
        return self


class AlertWindowsDocument(_Spec):
    """Multi-window, multi-burn-rate alert tiers, chosen by a node's alerting.windows."""

    api_version: Literal["slo-agent/v1"] = Field(alias="apiVersion")
    kind: Literal["AlertWindows"]
    metadata: Metadata
    spec: AlertWindowsSpec
