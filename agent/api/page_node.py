"""The pages of one node (``/nodes/<node>``) and one journey (``/journeys/<journey>``): its SLOs,
each alert tier in words with its live figures, runbook links, charts of the history series
(:mod:`agent.api.history`), and an incident timeline from the sampled raw results (which only
illustrate; every figure comes from the series). Pure: data to HTML."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from agent.api.history import History
from agent.api.history_types import LatencyBoundJson
from agent.api.page_chart import STYLE as CHART_STYLE
from agent.api.page_chart import Line, chart
from agent.api.page_failures import failures_list
from agent.api.page_parts import document, slo_table, state_badge, utc_text
from agent.probes.result import ProbeResult
from agent.slo.failures import ProbeFailure
from agent.slo.status import SloStatus, multiple, worst_state

TIMES = "\u00d7"  # the multiplication sign

NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
"""What a node or journey name in a page path may be (the spec's ``[a-z0-9-]+``)."""

PAGE_STYLE = """
.tierlist{margin:4px 0 8px;padding-left:18px;font-size:13px}
.tierlist .firing{color:var(--page);font-weight:600}
.timeline{font-size:13px}.timeline td{overflow-wrap:anywhere}
.back{font-size:13px}
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def trace_link(template: str | None, trace_id: str | None) -> str:
    if not trace_id:
        return ""
    if template is None:
        return f"<code>{_e(trace_id)}</code>"
    return f'<a class="trace" href="{_e(template.replace("{trace_id}", trace_id))}">trace</a>'


def tier_sentences(slo: SloStatus) -> str:
    """Each alert tier of ``slo`` in words with its live burn rates."""
    items = []
    for a in slo.alerts:
        now = f"{_burn(a.long_burn)} and {_burn(a.short_burn)}"
        factor = _e(multiple(a.factor)) + TIMES
        state = "firing" if a.firing else "not firing"
        items.append(
            f'<li class="tier{" firing" if a.firing else ""}" '
            f'data-severity="{_e(a.severity.value)}">'
            f"<b>{_e(a.severity.value)}</b> fires when the burn over {_e(a.long)} ≥ "
            f"{factor} and over {_e(a.short)} ≥ {factor}; "
            f"now {_e(now)} ({state})</li>"
        )
    return f'<ul class="tierlist">{"".join(items)}</ul>' if items else ""


def _burn(value: float | None) -> str:
    return "no data" if value is None else f"{multiple(value)}{TIMES}"


def runbooks(annotations: Mapping[str, str]) -> str:
    links = [
        f'<a class="runbook" href="{_e(v)}">{_e(k)}</a>'
        for k, v in sorted(annotations.items())
        if v.startswith(("https://", "http://"))
    ]
    return f'<p class="who">Runbooks: {" · ".join(links)}</p>' if links else ""


@dataclass(frozen=True, slots=True)
class Incident:
    probe: str
    start: float
    end: float | None  # None: still failing
    reasons: tuple[str, ...]
    detail: str
    runs: int


def incidents(results: Sequence[ProbeResult]) -> list[Incident]:
    """Runs of consecutive failed results per probe, newest first."""
    open_: dict[str, list[ProbeResult]] = {}
    out: list[Incident] = []

    def close(probe: str, end: float | None) -> None:
        failed = open_.pop(probe)
        reasons = tuple(dict.fromkeys(str(r.observation.reason) for r in failed))
        out.append(
            Incident(
                probe,
                failed[0].started_at,
                end,
                reasons,
                failed[-1].observation.detail,
                len(failed),
            )
        )

    for result in sorted(results, key=lambda r: r.started_at):
        if result.ok:
            if result.probe in open_:
                close(result.probe, result.started_at)
        else:
            open_.setdefault(result.probe, []).append(result)
    for probe in list(open_):
        close(probe, None)
    return sorted(out, key=lambda i: i.start, reverse=True)


def timeline(
    found: Sequence[Incident], failures: Sequence[ProbeFailure], template: str | None
) -> str:
    if not found:
        return (
            '<section id="incidents"><h2>Incidents</h2>'
            '<p class="empty">No failed runs kept.</p></section>'
        )
    traces = {f.probe: f for f in failures}
    rows = []
    for inc in found[:50]:
        last = traces.get(inc.probe)
        trace = ""
        if last is not None and (inc.end is None or inc.start <= last.started_at < inc.end):
            trace = trace_link(template, last.trace_id)
        end = "ongoing" if inc.end is None else utc_text(inc.end)
        rows.append(
            f'<tr class="incident"><td>{_e(utc_text(inc.start))}</td><td>{_e(end)}</td>'
            f"<td>{_e(inc.probe)}</td><td>{_e(', '.join(inc.reasons))}</td>"
            f"<td><code>{_e(inc.detail)}</code> <small>{inc.runs} failed runs</small></td>"
            f"<td>{trace}</td></tr>"
        )
    return (
        '<section id="incidents"><h2>Incidents <small>from the kept raw results</small></h2>'
        '<table class="timeline"><thead><tr><th>start</th><th>end</th><th>probe</th>'
        "<th>reason</th><th>detail</th><th>trace</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></section>"
    )


def slo_charts(slo: SloStatus, period: History, recent: History) -> str:
    """The charts of one SLO: budget over its period, SLI and burn per tier over the last day."""
    budget = period.body["series"]["budget"]
    sli = recent.body["series"]["sli"]
    figures = [
        chart(
            f"{slo.slo}: error budget remaining over {period.body['period']}",
            [Line("remaining", period.points([p["remaining_ratio"] for p in budget]))],
            threshold=0.0,
            fmt="{:,.0%}",
        ),
        chart(
            f"{slo.slo}: SLI per step, last day",
            [Line("SLI", recent.points([p["sli"] for p in sli]))],
            threshold=slo.objective,
            fmt="{:.2%}",
        ),
    ]
    for tier in recent.body["series"]["burn"]:
        figures.append(
            chart(
                f"{slo.slo}: {tier['severity']} burn {tier['long']}/{tier['short']}, "
                f"fires at {multiple(tier['factor'])}{TIMES}",
                [
                    Line(tier["long"], recent.points([p["long_burn"] for p in tier["points"]])),
                    Line(tier["short"], recent.points([p["short_burn"] for p in tier["points"]])),
                ],
                threshold=tier["factor"],
                floor=0.0,
                unit=TIMES,
            )
        )
    return "".join(figures)


def node_charts(recent: History) -> str:
    outcomes = recent.body["series"]["outcomes"]
    reasons = sorted({r for p in outcomes for r in p["by_reason"]})
    lines = [Line("runs", recent.points([p["total"] for p in outcomes]))] + [
        Line(r, recent.points([float(p["by_reason"].get(r, 0)) for p in outcomes])) for r in reasons
    ]
    latency = recent.body["series"]["latency"]
    quant = [
        Line(f"{k} ≤", recent.points([_upper(p[k]) for p in latency]))
        for k in ("p50", "p90", "p99")
    ]
    return chart("probe runs and failures by reason, last day", lines, floor=0.0) + chart(
        "latency percentiles (bucket upper bounds), last day", quant, unit="s", floor=0.0
    )


def _upper(bound: LatencyBoundJson | None) -> float | None:
    return None if bound is None else bound["upper"]


@dataclass(frozen=True, slots=True)
class OwnerPage:
    kind: str  # "node" or "journey"
    name: str
    slos: Sequence[SloStatus]
    evaluated_at: float
    who: str  # one line: owner, partner, capability (already text)
    annotations: Mapping[str, str]
    charts: Mapping[str, tuple[History, History]]  # slo -> (budget over its period, last day)
    probe_history: History | None  # the node's outcomes and latency, last day
    failures: Sequence[ProbeFailure] = ()
    incidents: Sequence[Incident] = ()
    trace_url_template: str | None = None
    blame: str = ""  # journey pages: blame per hop over time (already HTML)
    refresh: int = 30


def owner_page(page: OwnerPage) -> str:
    state = worst_state(s.state for s in page.slos)
    tiers = "".join(
        f'<h3 class="slo-tiers">{_e(s.slo)} {state_badge(s.state)}</h3>{tier_sentences(s)}'
        for s in page.slos
    )
    figures = "".join(slo_charts(s, *page.charts[s.slo]) for s in page.slos if s.slo in page.charts)
    if page.probe_history is not None:
        figures += node_charts(page.probe_history)
    incident_part = ""
    if page.kind == "node":
        incident_part = timeline(page.incidents, page.failures, page.trace_url_template)
    header = (
        f'<header><p class="back"><a href="/">← all nodes</a></p>'
        f'<h1><span class="name">{_e(page.name)}</span> {state_badge(state)}</h1>'
        f'<p class="who">{_e(page.kind)} · {_e(page.who)} · evaluated '
        f"{_e(utc_text(page.evaluated_at))}</p></header>"
    )
    main = (
        f'<main><article class="card state-{_e(state.value)}">'
        f"{failures_list(page.failures)}{slo_table(page.slos)}</article>"
        f"{runbooks(page.annotations)}"
        f'<section id="alerts"><h2>Alert tiers</h2>{tiers}</section>'
        f'<section id="charts"><h2>History</h2><div class="charts">{figures}</div></section>'
        f"{page.blame}"
        f"{incident_part}"
        "</main>"
    )
    return document(
        f"{page.name} · slo-agent",
        page.refresh,
        header + main,
        extra_style=CHART_STYLE + PAGE_STYLE,
    )


def not_found_page(kind: str, name: str) -> str:
    body = (
        '<header><p class="back"><a href="/">← all nodes</a></p><h1>Not found</h1></header>'
        f"<main><p>No {_e(kind)} named <code>{_e(name)}</code> in the specs in force.</p></main>"
    )
    return document("not found · slo-agent", 60, body)
