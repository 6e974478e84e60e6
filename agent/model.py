"""The internal, version-free model that every part of the agent works on.

Spec modules (``agent.spec.v1``) convert the wire format into these types: percents become
ratios, duration strings become ``timedelta``. Everything here is immutable plain data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal, Protocol

from agent.contract import HeaderCheck, ValueConditions
from agent.errors import SpecProblem
from agent.text_pattern import TextPattern

if TYPE_CHECKING:
    from agent.advisor.policy import DecisionPolicy


class Mode(StrEnum):
    OPERATED = "operated"
    ORCHESTRATED = "orchestrated"


class Severity(StrEnum):
    PAGE = "page"
    TICKET = "ticket"


# --- probes -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TlsSettings:
    """How a probe's TLS client is set up (``tls:`` of a node or a probe); hashable, so the
    prober builds one ``ssl.SSLContext`` per distinct value. Paths are read by the prober."""

    ca_file: str | None = None  # replaces the default trust store
    cert_file: str | None = None  # client certificate (mTLS), with key_file
    key_file: str | None = None
    server_name: str | None = None  # SNI and the name the certificate must match
    min_version: Literal["TLS1.2", "TLS1.3"] | None = None
    verify: bool = True


@dataclass(frozen=True, slots=True)
class BasicAuth:
    user: str
    password: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class BearerAuth:
    """A bearer token: ``token`` (from ${ENV}), or ``file``, re-read when it changes."""

    token: str | None = field(default=None, repr=False)
    file: str | None = None


@dataclass(frozen=True, slots=True)
class ApiKeyAuth:
    header: str
    value: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class OAuth2Auth:
    """OAuth2 client credentials: a token from ``token_url``, cached until shortly before it
    expires and fetched again on a 401."""

    token_url: str
    client_id: str
    client_secret: str = field(repr=False)
    scopes: tuple[str, ...] = ()
    # how the client authenticates to the token endpoint: HTTP Basic, or id and secret in the form
    client_auth: Literal["client_secret_basic", "client_secret_post"] = "client_secret_basic"
    audience: str | None = None  # sent as ``audience`` (Auth0, Okta and others want it)


HttpAuth = BasicAuth | BearerAuth | ApiKeyAuth | OAuth2Auth


@dataclass(frozen=True, slots=True)
class HttpCheck:
    url: str
    method: str = "GET"
    # ${ENV} already expanded: may hold secrets, so it is kept out of repr() and never logged
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    body: bytes | None = None
    timeout: timedelta = timedelta(seconds=5)
    expect_status: frozenset[int] = frozenset(range(200, 300))
    body_contains: str | None = None
    body_regex: TextPattern | None = None  # RE2: linear time whatever the body
    json_equals: Mapping[str, Any] = field(default_factory=dict)  # JSON path -> expected value
    # JSON path -> conditions beyond equality; response headers' checks (agent.contract)
    json_conditions: Mapping[str, ValueConditions] = field(default_factory=dict)
    expect_headers: tuple[HeaderCheck, ...] = ()
    max_body_bytes: int = 1024 * 1024
    verify_tls: bool = True
    keep_alive: bool = False  # False: a fresh connection per probe
    follow_redirects: bool = False
    tls: TlsSettings | None = None
    # a forward proxy URL (may carry userinfo: kept out of repr()); None: the environment's
    # HTTP_PROXY/HTTPS_PROXY/NO_PROXY decide
    proxy: str | None = field(default=None, repr=False)
    auth: HttpAuth | None = None  # the probe's own, else its node's (spec.auth)


class Check(Protocol):
    """What a probe checks: a check of one of the probe kinds (:mod:`agent.probe_kinds`),
    immutable plain data with a timeout. :class:`HttpCheck` is the ``http`` kind's, here
    because journey steps and fallback drills send the same requests."""

    @property
    def timeout(self) -> timedelta: ...


@dataclass(frozen=True, slots=True)
class Probe:
    name: str
    interval: timedelta
    check: Check


# --- SLOs ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RollingWindow:
    length: timedelta


@dataclass(frozen=True, slots=True)
class CalendarWindow:
    unit: Literal["month"] = "month"


Window = RollingWindow | CalendarWindow


@dataclass(frozen=True, slots=True)
class ProbeSli:
    """Good event = the probe succeeded (and, if set, finished in under ``latency_under``, and
    its peer certificate had at least ``cert_valid_for`` left when the probe started)."""

    probe: str
    latency_under: timedelta | None = None
    throttled: Literal["bad", "exclude"] = "bad"  # exclude: a throttled run is no event
    cert_valid_for: timedelta | None = None


@dataclass(frozen=True, slots=True)
class PrometheusSli:
    """Good/bad events from the user's own metrics (Sloth's ``events`` shape).

    Both queries contain ``{{window}}`` and return a per-second rate over that window, e.g.
    ``sum(rate(http_requests_total{job="shop",code=~"5.."}[{{window}}]))``.
    """

    error_query: str
    total_query: str


@dataclass(frozen=True, slots=True)
class JourneySli:
    """Good event = every step of a journey run succeeded (and, if set, the whole run finished
    in under ``latency_under``)."""

    latency_under: timedelta | None = None


Sli = ProbeSli | PrometheusSli | JourneySli


@dataclass(frozen=True, slots=True)
class AlertTier:
    """Fire when ``budget_fraction`` of the budget would burn in ``long`` (and still in ``short``).

    The burn-rate factor is ``budget_fraction * period / long`` for the SLO's period.
    """

    severity: Severity
    budget_fraction: float  # 0.02 for "2% of the budget"
    long: timedelta
    short: timedelta


@dataclass(frozen=True, slots=True)
class AlertWindows:
    name: str
    tiers: tuple[AlertTier, ...]


@dataclass(frozen=True, slots=True)
class Slo:
    name: str
    objective: float  # a ratio strictly between 0 and 1, e.g. 0.999
    window: Window
    sli: Sli
    min_events: int = 3  # fewer events than this in a window reports "no data"


# --- nodes --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Contract:
    availability: float | None = None  # ratio
    latency_under: timedelta | None = None


@dataclass(frozen=True, slots=True)
class Partner:
    name: str
    contract: Contract = Contract()


@dataclass(frozen=True, slots=True)
class Drill:
    every: timedelta
    check: HttpCheck


@dataclass(frozen=True, slots=True)
class Fallback:
    node: str
    drill: Drill | None = None


@dataclass(frozen=True, slots=True)
class Cost:
    fixed_monthly: float = 0.0
    per_request: float = 0.0
    currency: str = "EUR"


@dataclass(frozen=True, slots=True)
class Decision:
    brand_control: int | None = None  # 1..5
    differentiation: int | None = None  # 1..5
    cost: Cost | None = None
    integration_complexity: int | None = None  # 1..5; the advisor estimates it when absent


@dataclass(frozen=True, slots=True)
class Alerting:
    windows: str = "default"  # name of an AlertWindows document, or the built-in default
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Node:
    name: str
    mode: Mode
    owner: str
    capability: str
    probes: tuple[Probe, ...]
    slos: tuple[Slo, ...]
    labels: Mapping[str, str] = field(default_factory=dict)
    partner: Partner | None = None
    alerting: Alerting = Alerting()
    fallbacks: tuple[Fallback, ...] = ()
    decision: Decision = Decision()
    auth: HttpAuth | None = None  # spec.auth: for journey steps to this node without their own
    tls: TlsSettings | None = None  # spec.tls: likewise
    proxy: str | None = field(default=None, repr=False)  # spec.proxy (may carry userinfo)

    @property
    def mode_label(self) -> str:
        """The ``mode`` label of this node's SLO series and alerts."""
        return self.mode.value

    def probe(self, name: str) -> Probe:
        for probe in self.probes:
            if probe.name == name:
                return probe
        raise KeyError(name)


# --- journeys -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StepFallback:
    """Where a failed journey step is retried: another node of the same capability."""

    node: str
    check: HttpCheck


@dataclass(frozen=True, slots=True)
class JourneyStep:
    name: str
    node: str  # a Node declared elsewhere
    check: HttpCheck  # the request and its assertions; ${capture} placeholders still in it
    capture: Mapping[str, str] = field(default_factory=dict)  # variable -> JSON path
    fallback: StepFallback | None = None


@dataclass(frozen=True, slots=True)
class Journey:
    """A cross-partner path probed as one synthetic transaction; its SLOs use JourneySli."""

    name: str
    interval: timedelta
    steps: tuple[JourneyStep, ...]
    slos: tuple[Slo, ...]
    labels: Mapping[str, str] = field(default_factory=dict)
    alerting: Alerting = Alerting()

    @property
    def mode_label(self) -> str:
        """The ``mode`` label of this journey's SLO series and alerts."""
        return JOURNEY_MODE


JOURNEY_MODE = "journey"
"""The ``mode`` label of journey SLO series and alerts (``node`` = the journey's name)."""

SloOwner = Node | Journey
"""What an SLO belongs to: a node, or a journey (named like a node in series and alerts)."""


@dataclass(frozen=True, slots=True)
class SpecSet:
    """Every validated document of one load, in a stable order (sorted by name)."""

    nodes: tuple[Node, ...]
    alert_windows: Mapping[str, AlertWindows]  # always holds "default"
    sources: tuple[str, ...] = ()  # the files it was read from
    journeys: tuple[Journey, ...] = ()
    decision_policy: DecisionPolicy | None = None  # from the specs; None = the built-in one
    warnings: tuple[SpecProblem, ...] = ()  # what loads but is likely not meant (see validate)

    def node(self, name: str) -> Node:
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(name)

    def windows_for(self, owner: SloOwner) -> AlertWindows:
        return self.alert_windows[owner.alerting.windows]

    def owners(self) -> tuple[SloOwner, ...]:
        """Every node, then every journey: whatever has SLOs."""
        return (*self.nodes, *self.journeys)
