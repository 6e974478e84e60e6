"""Measured signals per node, over its SLO window, from the evidence handed in.

The caller reads the evidence and passes it in with ``now``; nothing here does I/O or reads a
clock. Every figure counts every run: per-minute probe buckets (availability, contract failures,
volume, cost), per-minute latency histograms (percentiles, known to the bucket: "p99 at most
700ms"), every run of consecutive failures (incidents) and every drill run (drills, failovers).
The sampled raw results are never counted from.

Signals: attainment against the objective, budget left and burn trend per SLO; incidents and
mean time to recovery; latency p50/p99 and its dispersion across the nodes of a capability;
contract failures (answered, but failing body/JSON assertions) against transport failures;
fallback drills (success rate, detection-to-failover time, added latency); volume and its
stability; cost per good transaction from the declared cost model; and, for partners,
compliance with the contract and the shortfall against it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from agent.advisor.incidents import Incident, failovers, mean_recovery, node_incidents
from agent.model import Mode, Node
from agent.probes.result import Reason
from agent.slo.status import SloStatus
from agent.slo.windows import period_of
from agent.store.buckets import ProbeCounts
from agent.store.evidence import DrillSummary, FailureRun, MinuteVolume
from agent.store.latency import LatencyHistogram, LatencyRange

MONTH = 30 * 86400.0  # seconds: the declared cost model's "monthly"
DEFAULT_SPAN = 28 * 86400.0  # for a node without SLOs
TRANSPORT_REASONS = frozenset(
    {Reason.TIMEOUT, Reason.CONNECT, Reason.DNS, Reason.TLS, Reason.ERROR}
)
TREND_MARGIN = 1.2  # the recent burn is "rising" above 1.2x the period's, "falling" below 1/1.2


@dataclass(frozen=True, slots=True)
class NodeEvidence:
    """What was measured for one node over its span (:func:`evidence_span`), as read from the
    store: totals, merged histograms and summaries whose size does not grow with the span."""

    counts: ProbeCounts = field(default_factory=ProbeCounts)  # all probes, the span
    recent_counts: ProbeCounts = field(default_factory=ProbeCounts)  # the recent span
    latency: LatencyHistogram = field(default_factory=LatencyHistogram)  # the span
    recent_latency: LatencyHistogram = field(default_factory=LatencyHistogram)
    volume: MinuteVolume = field(default_factory=MinuteVolume)  # runs per minute, the span
    # the runs of the node's own probes with at least ``incident_failures`` failures
    failure_runs: tuple[FailureRun, ...] = ()
    drills: Mapping[str, DrillSummary] = field(default_factory=dict)  # by fallback
    slos: tuple[SloStatus, ...] = ()  # the node's SLO statuses at ``now``


@dataclass(frozen=True, slots=True)
class EvidenceSpan:
    """The spans a node's evidence covers at ``now``: ``[start, now)`` and the recent
    ``[recent_start, now)``; the store counts the buckets whose minute starts in them."""

    start: float
    recent_start: float
    now: float


def evidence_span(node: Node, now: float, recent: float) -> EvidenceSpan:
    start = span_start(node, now)
    return EvidenceSpan(start, max(start, now - recent), now)


@dataclass(frozen=True, slots=True)
class SloSignal:
    slo: str
    objective: float  # ratio
    attainment: float | None  # the period's SLI; None = no data
    budget_remaining: float | None  # ratio of the budget left (negative when overspent)
    burn_recent: float | None  # 1h burn rate
    burn_period: float | None

    @property
    def exhausted(self) -> bool:
        return self.budget_remaining is not None and self.budget_remaining <= 0

    @property
    def trend(self) -> str:
        """``rising``, ``falling`` or ``steady`` (recent burn against the period's)."""
        recent, period = self.burn_recent, self.burn_period
        if recent is None or period is None:
            return "no data"
        if recent > max(period * TREND_MARGIN, period + 0.1):
            return "rising"
        if recent < period / TREND_MARGIN - 0.1 or (period > 0 and recent == 0):
            return "falling"
        return "steady"


@dataclass(frozen=True, slots=True)
class Latency:
    """Percentiles of the successful runs' durations, each known to its histogram bucket."""

    samples: int  # successful probe runs measured
    p50: LatencyRange | None  # None: no successful run
    p99: LatencyRange | None


@dataclass(frozen=True, slots=True)
class Contract:
    """Probe runs by how they failed: answered but breaking the contract (``assertion``),
    answered with a wrong status, or not answered at all (transport)."""

    runs: int
    contract_failures: int
    status_failures: int
    transport_failures: int

    @property
    def answered(self) -> int:
        return self.runs - self.transport_failures

    @property
    def contract_rate(self) -> float | None:
        return self.contract_failures / self.answered if self.answered else None

    @property
    def transport_rate(self) -> float | None:
        return self.transport_failures / self.runs if self.runs else None


@dataclass(frozen=True, slots=True)
class Drill:
    """A fallback route and how its drills fared."""

    fallback: str
    drilled: bool  # the spec drills this fallback
    runs: int
    successes: int
    incidents_drilled: int  # incidents of the node during which a drill ran
    failovers: int  # of those, incidents during which a drill succeeded
    failover: float | None  # mean seconds from detection to the first successful drill
    added_latency: float | None  # drill p50 minus the node's own p50, seconds

    @property
    def success_rate(self) -> float | None:
        return self.successes / self.runs if self.runs else None


@dataclass(frozen=True, slots=True)
class Volume:
    total: int  # probe runs in the span
    per_hour: float
    variation: float | None  # coefficient of variation of the per-minute volume


@dataclass(frozen=True, slots=True)
class Cost:
    currency: str
    span_cost: float  # fixed share of the span plus per-request cost of its volume
    good: int  # successful probe runs in the span
    monthly: float  # fixed_monthly + per_request x volume per 30 days

    @property
    def per_good(self) -> float | None:
        return self.span_cost / self.good if self.good else None


@dataclass(frozen=True, slots=True)
class PartnerCompliance:
    partner: str
    promised_availability: float | None
    availability: float | None  # measured: successful runs over all runs in the span
    promised_latency: float | None  # seconds
    p99: LatencyRange | None

    @property
    def shortfall(self) -> float | None:
        """Promised minus measured availability (ratio), when below the promise."""
        if self.promised_availability is None or self.availability is None:
            return None
        return max(0.0, self.promised_availability - self.availability)

    @property
    def latency_met(self) -> bool | None:
        """Whether the p99 is within the promise; None when unknown (no promise, no runs, or
        a promise inside the p99's bucket)."""
        if self.promised_latency is None or self.p99 is None:
            return None
        return self.p99.at_most(self.promised_latency)

    @property
    def availability_met(self) -> bool | None:
        shortfall = self.shortfall
        return None if shortfall is None else shortfall == 0


@dataclass(frozen=True, slots=True)
class Dispersion:
    """The node's median latency against the other nodes of its capability."""

    peers: int  # other nodes of the capability with a measured median
    fastest: str  # the node with the lowest median (maybe this one)
    ratio_to_fastest: float  # this node's p50 / the fastest p50 (1 = fastest)
    spread: float  # slowest p50 / fastest p50 across the capability


@dataclass(frozen=True, slots=True)
class NodeSignals:
    node: str
    mode: Mode
    capability: str
    start: float  # the span measured: [start, now)
    now: float
    recent_span: float  # seconds: the span of the recent latency and availability
    slos: tuple[SloSignal, ...]
    incidents: tuple[Incident, ...]
    mttr: float | None  # mean seconds to recovery over recovered incidents
    latency: Latency
    recent_latency: Latency
    availability: float | None  # probe runs that succeeded, over the span
    recent_availability: float | None
    contract: Contract
    drills: tuple[Drill, ...]
    volume: Volume
    cost: Cost | None  # None: no cost model declared
    partner: PartnerCompliance | None
    dispersion: Dispersion | None = None

    @property
    def span(self) -> float:
        return self.now - self.start

    def incident_hours_per_month(self) -> float:
        hours = sum(incident.duration(self.now) for incident in self.incidents) / 3600
        return hours * MONTH / self.span if self.span > 0 else 0.0


def span_start(node: Node, now: float) -> float:
    """Start of the span a node's signals cover: its longest SLO period."""
    starts = [period_of(slo.window, now).start for slo in node.slos]
    return min(starts) if starts else now - DEFAULT_SPAN


def _slo_signal(status: SloStatus) -> SloSignal:
    period = status.window(status.period)
    recent = status.window("1h")
    return SloSignal(
        slo=status.slo,
        objective=status.objective,
        attainment=period.sli,
        budget_remaining=status.budget.remaining_ratio,
        burn_recent=recent.burn_rate,
        burn_period=period.burn_rate,
    )


def _latency(histogram: LatencyHistogram) -> Latency:
    return Latency(histogram.total, histogram.percentile(0.5), histogram.percentile(0.99))


def _availability(counts: ProbeCounts) -> float | None:
    return 1.0 - counts.failures / counts.total if counts.total else None


def _contract(counts: ProbeCounts) -> Contract:
    reasons = counts.failures_by_reason
    return Contract(
        runs=counts.total,
        contract_failures=reasons.get(Reason.ASSERTION, 0),
        status_failures=reasons.get(Reason.STATUS, 0),
        transport_failures=sum(n for r, n in reasons.items() if r in TRANSPORT_REASONS),
    )


def _volume(volume: MinuteVolume, span: float) -> Volume:
    total = volume.total
    return Volume(total, total / (span / 3600) if span > 0 else 0.0, volume.variation)


def _cost(node: Node, counts: ProbeCounts, span: float) -> Cost | None:
    model = node.decision.cost
    if model is None:
        return None
    span_cost = model.fixed_monthly * span / MONTH + model.per_request * counts.total
    monthly = model.fixed_monthly + model.per_request * counts.total * MONTH / max(span, 1.0)
    return Cost(model.currency, span_cost, counts.total - counts.failures, monthly)


def _drills(
    node: Node,
    evidence: NodeEvidence,
    incidents: Sequence[Incident],
    own_p50: LatencyRange | None,
    start: float,
    now: float,
) -> tuple[Drill, ...]:
    drills: list[Drill] = []
    for fallback in node.fallbacks:
        summary = evidence.drills.get(fallback.node, DrillSummary())
        during = [r for r in summary.during_failures if start <= r.started_at < now]
        fared = failovers(incidents, during, now)
        drill_p50 = summary.ok_p50
        # against the upper bound of the node's own median bucket: the least it adds
        added = None if drill_p50 is None or own_p50 is None else drill_p50 - own_p50.upper
        drills.append(
            Drill(
                fallback=fallback.node,
                drilled=fallback.drill is not None,
                runs=summary.runs,
                successes=summary.successes,
                incidents_drilled=fared.drilled,
                failovers=len(fared.seconds),
                failover=fared.mean_seconds,
                added_latency=added,
            )
        )
    return tuple(drills)


def node_signals(
    node: Node, evidence: NodeEvidence, now: float, *, recent: float, incident_failures: int
) -> NodeSignals:
    """The signals of ``node`` at ``now`` over its longest SLO period; ``recent`` (seconds) is
    the span of the recent latency and availability."""
    start = evidence_span(node, now, recent).start
    span = now - start
    counts = evidence.counts
    incidents = node_incidents(evidence.failure_runs, incident_failures, start, now)
    latency = _latency(evidence.latency)
    partner = None
    if node.partner is not None:
        contract = node.partner.contract
        limit = contract.latency_under
        partner = PartnerCompliance(
            partner=node.partner.name,
            promised_availability=contract.availability,
            availability=_availability(counts),
            promised_latency=None if limit is None else limit.total_seconds(),
            p99=latency.p99,
        )
    return NodeSignals(
        node=node.name,
        mode=node.mode,
        capability=node.capability,
        start=start,
        now=now,
        recent_span=recent,
        slos=tuple(_slo_signal(status) for status in evidence.slos),
        incidents=incidents,
        mttr=mean_recovery(incidents),
        latency=latency,
        recent_latency=_latency(evidence.recent_latency),
        availability=_availability(counts),
        recent_availability=_availability(evidence.recent_counts),
        contract=_contract(counts),
        drills=_drills(node, evidence, incidents, latency.p50, start, now),
        volume=_volume(evidence.volume, span),
        cost=_cost(node, counts, span),
        partner=partner,
    )


def with_dispersion(signals: Mapping[str, NodeSignals]) -> dict[str, NodeSignals]:
    """``signals`` with each node's latency dispersion across its capability (recent medians)
    filled in, for nodes whose capability has at least two measured nodes."""
    by_capability: dict[str, list[NodeSignals]] = {}
    for s in signals.values():
        if s.recent_latency.p50 is not None:
            by_capability.setdefault(s.capability, []).append(s)
    out = dict(signals)
    for members in by_capability.values():
        if len(members) < 2:
            continue
        # by the upper bounds of the median buckets
        medians = {
            s.node: s.recent_latency.p50.upper if s.recent_latency.p50 else 0.0 for s in members
        }
        fastest = min(medians, key=lambda name: (medians[name], name))
        low, high = medians[fastest], max(medians.values())
        for s in members:
            ratio = medians[s.node] / low if low > 0 else 1.0
            spread = high / low if low > 0 else 1.0
            out[s.node] = replace(
                s, dispersion=Dispersion(len(members) - 1, fastest, ratio, spread)
            )
    return out
