"""Probe kinds: the contract one kind fulfils, and the registry of kinds.

A probe kind (``http``, ``tcp``) lives in one module of this package, the way blackbox_exporter
keeps one prober per file. The module defines a :class:`ProbeKind`: its wire model (the value
of the probe's ``<kind>:`` key in a v1 spec), its check type in the model, how one becomes the
other, its prober, what it measures and the failure reasons it can produce.
:mod:`agent.probe_kinds.registry` registers the kinds the agent ships with, one line each;
nothing else in the agent names every kind. The spec, the probers, the tracer and the advisor
reach a kind through :class:`ProbeKinds`.

This module imports no network library: a kind's prober module is imported by its ``prober``
factory, when probers are built.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Generic, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict

from agent.probes.result import Observation, Reason
from agent.spec.problems import Loc
from agent.spec.variables import HeaderExpander

__all__ = [
    "DEFAULT_TIMEOUT",
    "KindSpec",
    "ProbeKind",
    "ProbeKinds",
    "Prober",
    "SpanTarget",
    "timeout_for",
]

# A probe's timeout when its spec sets none: this, or the probe's interval if shorter.
DEFAULT_TIMEOUT = timedelta(seconds=5)


def timeout_for(timeout: timedelta | None, every: timedelta) -> timedelta:
    """A probe's timeout: ``timeout`` from its spec, else :data:`DEFAULT_TIMEOUT` or the
    probe's interval ``every`` if shorter."""
    return timeout or min(DEFAULT_TIMEOUT, every)


Clock = Callable[[], float]
S = TypeVar("S", bound="KindSpec")
C = TypeVar("C")
CheckT_contra = TypeVar("CheckT_contra", contravariant=True)

# Span name verb and OpenTelemetry attributes (semantic conventions) of a probe's target.
SpanTarget = tuple[str, Mapping[str, str | int]]


def socket_target(operation: str, host: str, port: int) -> SpanTarget:
    """The span target of a probe that opens one TCP connection to ``host:port``."""
    return operation, {"server.address": host, "server.port": port, "network.transport": "tcp"}


class KindSpec(BaseModel):
    """Base of a kind's wire model: strict, frozen, unknown keys are errors (as all of v1).
    A ``timeout: Duration | None`` field, where a kind has one, is checked to be no longer
    than the probe's interval."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Prober(Protocol[CheckT_contra]):
    """Observes checks of one kind. A failing target is an Observation with a reason, never
    an exception; nothing is retried. ``headers`` (a ``traceparent``) go with the request
    where the kind has a place for them and are ignored otherwise."""

    async def observe(
        self, check: CheckT_contra, headers: Mapping[str, str] | None = None
    ) -> Observation: ...

    async def aclose(self) -> None: ...


def _no_contract_checks(check: Any) -> int:
    return 0


def _no_certificate(check: Any) -> bool:
    return False


@dataclass(frozen=True, slots=True)
class ProbeKind(Generic[S, C]):
    """One probe kind behind the agent's small contract."""

    name: str  # the probe's key in a spec, e.g. ``http``; also the span's kind
    measures: str  # one line for docs: what a probe of this kind observes and times
    spec: type[S]  # the v1 wire model of the value under ``name``
    check: type[C]  # the model's check type (immutable plain data)
    convert: Callable[[S, timedelta, Loc, HeaderExpander], C]  # spec, interval, location
    prober: Callable[[Clock], Prober[C]]  # builds the kind's prober on a monotonic clock
    reasons: frozenset[Reason]  # the failure reasons its prober can produce (besides ok)
    # span name verb and attributes for a probe's span; None: "probe" and no attributes
    span: Callable[[C], SpanTarget] | None = None
    # data-contract assertions a check makes (the advisor's integration estimate)
    contract_checks: Callable[[C], int] = field(default=_no_contract_checks)
    # whether a probe of the check does a TLS handshake, and so records its peer certificate's
    # expiry (the certificate metric, its alert and ``cert_valid_for`` SLIs apply)
    certificate: Callable[[C], bool] = field(default=_no_certificate)


class ProbeKinds:
    """The registered probe kinds, by name and by check type. Frozen on first use: the v1
    probe model is built from it when the spec is first loaded."""

    def __init__(self, kinds: tuple[ProbeKind[Any, Any], ...] = ()) -> None:
        self._by_name: dict[str, ProbeKind[Any, Any]] = {}
        self._by_check: dict[type, ProbeKind[Any, Any]] = {}
        self._frozen = False
        for kind in kinds:
            self.register(kind)

    def register(self, kind: ProbeKind[Any, Any]) -> None:
        if self._frozen:
            raise RuntimeError(
                f"probe kind {kind.name!r} registered after the kinds were first used"
            )
        if kind.name in self._by_name or kind.check in self._by_check:
            raise ValueError(f"probe kind {kind.name!r} (or its check type) is registered twice")
        if Reason.OK in kind.reasons:
            raise ValueError(f"probe kind {kind.name!r} lists ok among its failure reasons")
        self._by_name[kind.name] = kind
        self._by_check[kind.check] = kind

    def freeze(self) -> ProbeKinds:
        self._frozen = True
        return self

    def __iter__(self) -> Iterator[ProbeKind[Any, Any]]:
        return iter(self._by_name.values())

    def names(self) -> tuple[str, ...]:
        return tuple(self._by_name)

    def named(self, name: str) -> ProbeKind[Any, Any]:
        return self._by_name[name]

    def of(self, check: object) -> ProbeKind[Any, Any]:
        """The kind of ``check``; KeyError for a check of no registered kind."""
        return self._by_check[type(check)]

    def reasons(self) -> frozenset[Reason]:
        """Every failure reason some registered kind can produce."""
        return frozenset(reason for kind in self for reason in kind.reasons)
