"""One SLO state, shown the same everywhere: one snapshot with an SLO in each state, read back
from the status page (badges and header counts), ``/api/v1/status``, ``report`` (table and
JSON) and the alerts the agent pushes to Alertmanager."""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Mapping

import httpx
from rich.console import Console

from agent.api.app import create_app
from agent.api.page import PageData, status_page
from agent.api.server import AppServer
from agent.api.status_json import snapshot_json
from agent.cli.report import render_table
from agent.model import Node, SpecSet
from agent.slo.events import Counts
from agent.slo.status import SloState, Snapshot
from exporters.alerting import BURN, EXHAUSTED
from exporters.alertmanager.payload import firing_alerts
from tests.exporters.alertmanager.statuses import BURNING, CLEAN, TICKET_ONLY, snapshot
from tests.support.builders import node, spec_set
from tests.support.fakes import StaticView
from tests.support.status_page import badge_counts, header_counts, slo_rows

HALF_SPENT = Counts(300000, 150)  # half the 30-day budget of 99.9%
SPENT = Counts(300000, 400)  # 1.33x the budget

# SLO name -> (its event counts, the state they must give)
CASES: Mapping[str, tuple[Mapping[str, Counts], SloState]] = {
    "fine": (CLEAN, SloState.OK),
    "silent": ({}, SloState.NO_DATA),
    "slow-burn": ({**TICKET_ONLY, "30d": HALF_SPENT}, SloState.TICKET),
    "outage": ({**BURNING, "30d": HALF_SPENT}, SloState.PAGE),
    "spent": ({**CLEAN, "30d": SPENT}, SloState.EXHAUSTED),
    "outage-spent": (BURNING, SloState.PAGE),  # pages, and its budget is gone too
}


def every_state() -> tuple[SpecSet, Snapshot]:
    base = node()
    slos = tuple(dataclasses.replace(base.slos[0], name=name) for name in CASES)
    one: Node = dataclasses.replace(base, slos=slos)
    specs = spec_set(one)
    return specs, snapshot(specs, {name: counts for name, (counts, _) in CASES.items()})


EXPECTED = {name: state for name, (_, state) in CASES.items()}


def test_the_snapshot_holds_one_slo_in_each_state() -> None:
    _, current = every_state()
    assert {s.slo: s.state for s in current.slos()} == EXPECTED
    assert set(EXPECTED.values()) == set(SloState)


def test_the_page_badges_and_header_counts_show_the_state() -> None:
    _, current = every_state()
    page = status_page(PageData(current))

    rows = slo_rows(page)
    assert {r.slo: (r.row_state, r.badge_class, r.badge_text) for r in rows} == {
        name: (state.value, state.value, state.label) for name, state in EXPECTED.items()
    }
    # the header counts exactly the badges below it, a count for every state
    assert header_counts(page) == {
        state.label: badge_counts(page)[state.label] for state in SloState
    }
    assert header_counts(page) == {"page": 2, "exhausted": 1, "ticket": 1, "no data": 1, "ok": 1}
    # no SLO that is not fine shows a green "ok"
    assert [r.slo for r in rows if r.badge_text == "ok"] == ["fine"]
    # the node card takes its worst SLO's state
    assert (
        '<h3><a class="name" href="/nodes/acme-pay">acme-pay</a> '
        '<span class="badge page">page</span></h3>' in page
    )


async def test_the_status_api_gives_the_state_of_each_slo() -> None:
    _, current = every_state()
    app = create_app(StaticView(current), lambda: b"", "text/plain; version=0.0.4")
    async with AppServer(app) as server, httpx.AsyncClient(base_url=server.url) as client:
        body = (await client.get("/api/v1/status")).json()

    [acme] = body["nodes"]
    assert {s["slo"]: s["state"] for s in acme["slos"]} == {
        name: state.value for name, state in EXPECTED.items()
    }
    # alert_state stays what it was: the most severe firing burn tier only
    assert {s["slo"]: s["alert_state"] for s in acme["slos"]} == {
        "fine": "ok",
        "silent": "ok",
        "slow-burn": "ticket",
        "outage": "page",
        "spent": "ok",
        "outage-spent": "page",
    }


def test_report_shows_the_state_in_its_table_and_json() -> None:
    _, current = every_state()
    out = io.StringIO()
    render_table(current, Console(file=out, width=200, color_system=None))

    text = out.getvalue()
    [header] = [line for line in text.splitlines() if "┃" in line]
    lines = [line for line in text.splitlines() if "│" in line]
    columns = [cell.strip() for cell in header.split("┃")]
    slo, state = columns.index("slo"), columns.index("state")
    shown = {cells[slo]: cells[state] for cells in (line.split("│") for line in lines)}
    assert {k.strip(): v.strip() for k, v in shown.items()} == {
        name: s.label for name, s in EXPECTED.items()
    }
    body = snapshot_json(current)  # report --json prints this
    assert {s["slo"]: s["state"] for s in body["nodes"][0]["slos"]} == {
        name: s.value for name, s in EXPECTED.items()
    }


def test_the_push_agrees_with_the_state() -> None:
    specs, current = every_state()
    alerts = firing_alerts(current, specs, {}).values()

    exhausted = {a.labels["slo"] for a in alerts if a.name == EXHAUSTED}
    paging = {a.labels["slo"] for a in alerts if a.name == BURN and a.labels["severity"] == "page"}
    ticket = {
        a.labels["slo"] for a in alerts if a.name == BURN and a.labels["severity"] == "ticket"
    }
    in_state = {state: {n for n, s in EXPECTED.items() if s is state} for state in SloState}
    # ErrorBudgetExhausted exactly for the SLOs whose budget is gone: those shown
    # "exhausted", and those shown "page" that have spent their budget as well
    assert exhausted == in_state[SloState.EXHAUSTED] | {"outage-spent"}
    assert exhausted <= in_state[SloState.EXHAUSTED] | in_state[SloState.PAGE]
    assert paging == in_state[SloState.PAGE]
    assert ticket - paging == in_state[SloState.TICKET]
    # an SLO shown "ok" or "no data" has no alert pushed at all
    quiet = in_state[SloState.OK] | in_state[SloState.NO_DATA]
    assert not quiet & {a.labels["slo"] for a in alerts}
