"""The gauges read from the agent's state: node info from the specs, SLO gauges from the latest
immutable :class:`~agent.slo.status.Snapshot`, the advisor's gauges from its latest review.

They change only when a new spec set, snapshot or review is set, so their lines are rendered once
per change (in a background thread as soon as it is set, or by the first scrape after it, which
runs in a worker thread: :mod:`agent.api.scrape_cache`) and reused until the next one; one copy
serves both exposition formats, joined with each format's headers by the scrape.

``window_gauges=False`` leaves out ``slo_agent_sli_ratio{window}`` and
``slo_agent_burn_rate{window}``: the generated recording rules compute both from the event
counters (README, "Series budget").
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from agent.advisor.recommend import FLAGS
from agent.advisor.review import DecisionReport
from agent.model import SpecSet
from agent.slo.status import Snapshot
from exporters.prometheus import names
from exporters.prometheus.text import GaugeFamily, escape_value, header, number

# each family's help; its label names are in its renderer, sorted as prometheus-client prints them
NODE_INFO_HELP = "Static facts about a node: mode, owner, partner and capability."
CERT_HELP = "Unix time the peer certificate of the probe's last TLS handshake expires (notAfter)."
OBJECTIVE_HELP = "SLO objective as a ratio."
SLI_HELP = "Good events over all events in the window (absent when there is no data)."
REMAINING_HELP = "Error budget left over the SLO period, as a ratio (negative when overspent)."
BURN_HELP = "Error ratio in the window divided by the allowed one (1 = on budget)."
EXHAUSTION_HELP = "Seconds until the remaining budget is spent at the current 1h burn rate."
ALERT_HELP = "1 while a multi-window burn-rate alert of that severity fires."
FLAG_HELP = "1 while the advisor flags the node's operate-or-orchestrate decision for review."
SCORE_HELP = "The node's score on an axis of the operate-or-orchestrate framework (1 to 5)."


def _e(value: str) -> str:
    return escape_value(value)


def node_info(specs: SpecSet | None) -> list[GaugeFamily]:
    info = GaugeFamily(names.NODE_INFO, NODE_INFO_HELP)
    for node in specs.nodes if specs else ():
        partner = node.partner.name if node.partner else ""
        info.add(
            f'capability="{_e(node.capability)}",mode="{_e(node.mode.value)}",'
            f'node="{_e(node.name)}",owner="{_e(node.owner)}",partner="{_e(partner)}"',
            1,
        )
    return [info]


def slo_gauges(snapshot: Snapshot, window_gauges: bool = True) -> list[GaugeFamily]:
    """The SLO gauges' text: ~20 lines per SLO, so the lines are built here directly (one
    f-string each, the SLO's label text escaped once) rather than through a helper per line."""
    objective = GaugeFamily(names.OBJECTIVE, OBJECTIVE_HELP)
    sli = GaugeFamily(names.SLI_RATIO, SLI_HELP)
    remaining = GaugeFamily(names.BUDGET_REMAINING, REMAINING_HELP)
    burn = GaugeFamily(names.BURN_RATE, BURN_HELP)
    exhaustion = GaugeFamily(names.BUDGET_EXHAUSTION, EXHAUSTION_HELP)
    alert = GaugeFamily(names.ALERT_ACTIVE, ALERT_HELP)
    o, si, r, b, x, a = (f.lines for f in (objective, sli, remaining, burn, exhaustion, alert))
    on, sn, rn, bn, xn, an = (f.name for f in (objective, sli, remaining, burn, exhaustion, alert))
    window_label: dict[str, str] = {}  # window -> ',window="1h"} '
    for s in snapshot.slos():
        node, slo = _e(s.node), _e(s.slo)
        key = f'node="{node}",slo="{slo}"'
        o.append(f"{on}{{{key}}} {_n(s.objective)}\n")
        if window_gauges:
            for w in s.windows:
                label = window_label.get(w.window)
                if label is None:
                    label = window_label[w.window] = f',window="{_e(w.window)}"}} '
                if w.sli is not None:
                    si.append(f"{sn}{{{key}{label}{_n(w.sli)}\n")
                if w.burn_rate is not None:
                    b.append(f"{bn}{{{key}{label}{_n(w.burn_rate)}\n")
        if s.budget.remaining_ratio is not None:
            r.append(f"{rn}{{{key}}} {_n(s.budget.remaining_ratio)}\n")
        if s.exhaustion_seconds is not None:
            x.append(f"{xn}{{{key}}} {_n(s.exhaustion_seconds)}\n")
        if s.alerts:
            for severity in sorted({alert.severity for alert in s.alerts}):
                active = any(alert.firing for alert in s.alerts if alert.severity == severity)
                a.append(
                    f'{an}{{node="{node}",severity="{_e(severity.value)}",slo="{slo}"}} '
                    f"{'1.0' if active else '0.0'}\n"
                )
    families = [objective, sli, remaining, burn, exhaustion, alert]
    if not window_gauges:
        families = [objective, remaining, exhaustion, alert]
    expiry = GaugeFamily(names.TLS_CERT_EXPIRY, CERT_HELP)
    for cert in snapshot.certificates:
        expiry.add(f'node="{_e(cert.node)}",probe="{_e(cert.probe)}"', cert.not_after)
    return [*families, expiry]


def _n(value: float) -> str:
    """:func:`~exporters.prometheus.text.number`, inlined for the common case: a float whose
    ``repr`` is already Go's formatting (finite, no exponent under a million)."""
    return repr(value) if value.__class__ is float and -1e6 < value < 1e6 else number(value)


def decision_gauges(report: DecisionReport | None) -> list[GaugeFamily]:
    flag = GaugeFamily(names.DECISION_FLAG, FLAG_HELP)
    score = GaugeFamily(names.DECISION_AXIS_SCORE, SCORE_HELP)
    for review in report.reviews if report is not None else ():
        node, mode = _e(review.node), _e(review.mode.value)
        for recommendation in FLAGS:
            active = review.recommendation == recommendation.value
            flag.add(
                f'mode="{mode}",node="{node}",recommendation="{_e(recommendation.value)}"', active
            )
        for axis, axis_score in review.scores.items():
            score.add(f'axis="{_e(axis.value)}",node="{node}"', axis_score.score)
    return [flag, score]


class StateGauges:
    """The text of every state-derived gauge, re-rendered only after something new was set.

    Setting is one attribute write (safe on the event loop); :meth:`text` renders what changed
    since the last call for that format, under a lock, in whichever thread asks.
    """

    def __init__(self, window_gauges: bool = True, background: bool = False) -> None:
        """``background``: :meth:`changed` renders the Prometheus text in a thread of its own
        at once, so the first scrape after an evaluation finds it ready."""
        self.window_gauges = window_gauges
        self.background = background
        self._worker_lock = threading.Lock()
        self._busy = False  # a background render is running
        self._again = False  # something changed while it ran: render once more
        self.specs: SpecSet | None = None
        self.snapshot: Snapshot | None = None
        self.report: DecisionReport | None = None
        self._lock = threading.Lock()
        # part -> (the object rendered, its families' segments), shared by both formats
        self._parts: dict[str, tuple[object, list[Segment]]] = {}
        self.renders = 0  # parts rendered so far (for the tests)

    @property
    def version(self) -> tuple[int, int, int]:
        """Changes whenever a new spec set, snapshot or review is set."""
        return (id(self.specs), id(self.snapshot), id(self.report))

    def changed(self) -> None:
        """Call after setting specs, snapshot or report: with ``background``, starts (or asks
        the running one for) a render in a daemon thread; returns at once."""
        if not self.background:
            return
        with self._worker_lock:
            if self._busy:
                self._again = True
                return
            self._busy = True
        threading.Thread(target=self._render_changes, name="metrics-gauges", daemon=True).start()

    @property
    def busy(self) -> bool:
        """A background render is running."""
        with self._worker_lock:
            return self._busy

    def rendered(self, openmetrics: bool = False) -> str | None:
        """The text for the current state if its parts are rendered already (renders nothing)."""
        with self._lock:
            current = (("specs", self.specs), ("snapshot", self.snapshot), ("report", self.report))
            parts = [self._parts.get(key) for key, _ in current]
            if any(
                p is None or p[0] is not source
                for p, (_, source) in zip(parts, current, strict=True)
            ):
                return None
            return _joined([seg for p in parts if p is not None for seg in p[1]], openmetrics)

    def _render_changes(self) -> None:
        while True:
            self._render_parts()  # the lines both formats share; joined by the scrape
            with self._worker_lock:
                if not self._again:
                    self._busy = False
                    return
                self._again = False

    def text(self, openmetrics: bool = False) -> str:
        """The text of every gauge for the current state: parts rendered since they last
        changed, joined now (a copy as long as the text, dropped after the scrape)."""
        return _joined(self._render_parts(), openmetrics)

    def _render_parts(self) -> list[Segment]:
        specs, snapshot, report = self.specs, self.snapshot, self.report
        with self._lock:
            return [
                *self._part("specs", specs, lambda: node_info(specs)),
                *self._part("snapshot", snapshot, lambda: self._slos(snapshot)),
                *self._part("report", report, lambda: decision_gauges(report)),
            ]

    def _slos(self, snapshot: Snapshot | None) -> list[GaugeFamily]:
        return [] if snapshot is None else slo_gauges(snapshot, self.window_gauges)

    def _part(
        self, key: str, source: object, render: Callable[[], list[GaugeFamily]]
    ) -> list[Segment]:
        """One part's families as (name, help, lines): the lines are the same in both formats,
        only the header's help escaping differs, so one copy serves both (issue 14: four copies
        of the gauge text, parts and whole in two formats, held ~80 MB at 10,000 SLOs)."""
        done = self._parts.get(key)
        if done is not None and done[0] is source:
            return done[1]
        segments = [(f.name, f.documentation, "".join(f.lines)) for f in render()]
        self._parts[key] = (source, segments)
        self.renders += 1
        return segments


Segment = tuple[str, str, str]  # a gauge family's name, help and lines


def _joined(segments: list[Segment], openmetrics: bool) -> str:
    out = []
    for name, documentation, lines in segments:
        out.append(header(name, documentation, "gauge", openmetrics))
        out.append(lines)
    return "".join(out)
