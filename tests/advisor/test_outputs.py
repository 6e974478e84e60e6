"""The running agent's decision outputs: ``/api/v1/decisions``, the decision gauges on
``/metrics``, the status page rows, and ``NodeDecisionReview`` pushed to Alertmanager when
enabled; plus ``slo-agent advise`` on the store it leaves behind."""

from __future__ import annotations

import dataclasses
import io
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from agent.app import running_agent
from agent.cli.advise import advise
from agent.errors import UserError
from agent.store.sqlite import SqliteStore
from exporters.alerting import DECISION_REVIEW
from tests.support.agents import options, scrape, write_specs
from tests.support.fakes import eventually
from tests.support.targets import Reply, Target

ALERTS = "/api/v2/alerts"
QUICK_POLICY = """\
apiVersion: slo-agent/v1
kind: DecisionPolicy
metadata: {name: quick}
spec: {interval: 1s, sustain: 1s, clear: 1s, recent: 1m}
"""


def partner(name: str, url: str) -> str:
    return f"""\
apiVersion: slo-agent/v1
kind: Node
metadata: {{name: {name}}}
spec:
  mode: orchestrated
  owner: payments
  capability: payments
  partner: {{name: {name}}}
  probes:
    - {{name: health, interval: 200ms, http: {{url: "{url}", timeout: 200ms}}}}
  slos:
    - {{name: availability, objective: 99.95, window: 3d, sli: {{probe: health}}}}
  alerting: {{labels: {{team: payments}}}}
"""


def flags(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float],
) -> dict[tuple[str, str], float]:
    return {
        (dict(labels)["node"], dict(labels)["recommendation"]): value
        for (name, labels), value in samples.items()
        if name == "slo_agent_decision_flag"
    }


async def test_flags_reach_the_api_metrics_and_alertmanager(tmp_path: Path) -> None:
    async with (
        Target({"/health": Reply(503)}) as down,
        Target({"/health": Reply(200)}) as up,
        Target({ALERTS: Reply(200)}) as alertmanager,
    ):
        spec_dir = write_specs(
            tmp_path / "specs",
            policy=QUICK_POLICY,
            down=partner("down-pay", down.url("/health")),
            up=partner("up-pay", up.url("/health")),
        )
        store = tmp_path / "store.db"
        run = dataclasses.replace(
            options(spec_dir, store),
            alertmanager_urls=(alertmanager.base_url,),
            alertmanager_resend_interval=0.5,
            decision_alerts=True,
        )
        async with running_agent(run, {}) as running, httpx.AsyncClient() as client:

            async def flagged() -> bool:
                response = await client.get(f"{running.url}/api/v1/decisions")
                return response.status_code == 200 and response.json()["flagged"] == ["down-pay"]

            await eventually(flagged, within=20)
            body = (await client.get(f"{running.url}/api/v1/decisions")).json()
            samples = await scrape(running.url)

            def pushed() -> bool:
                return any(
                    alert["labels"]["alertname"] == DECISION_REVIEW
                    for request in alertmanager.requests
                    if request.path == ALERTS
                    for alert in json.loads(request.body)
                )

            await eventually(pushed, within=10)
            page = (await client.get(f"{running.url}/")).text
    down_review = {n["node"]: n for n in body["nodes"]}["down-pay"]
    assert down_review["recommendation"] == "review: operate"
    assert down_review["flagged"] is True
    assert down_review["scores"]["slo_criticality"]["score"] == 5
    assert down_review["signals"]["contract"]["status_failures"] > 0
    assert any("0 fallback routes" in r["text"] for r in down_review["reasons"])
    assert body["policy"] == "quick"
    assert flags(samples)[("down-pay", "review: operate")] == 1
    assert flags(samples)[("up-pay", "review: operate")] == 0
    assert flags(samples)[("down-pay", "reroute")] == 0
    axes = {
        dict(labels)["axis"]
        for (name, labels), _ in samples.items()
        if name == "slo_agent_decision_axis_score" and dict(labels)["node"] == "up-pay"
    }
    assert axes == {
        "slo_criticality",
        "total_cost",
        "integration_complexity",
        "brand_differentiation",
        "resilience",
    }
    alert = _decision_alert(alertmanager)
    assert alert["labels"] == {
        "alertname": DECISION_REVIEW,
        "severity": "info",
        "node": "down-pay",
        "mode": "orchestrated",
        "recommendation": "review: operate",
        "team": "payments",
    }
    assert "0 fallback routes" in alert["annotations"]["description"]
    assert "review: operate" in page

    out = io.StringIO()
    code = advise([str(spec_dir)], {}, store, as_json=True, now=time.time(), out=out)
    assert code == 1
    assert json.loads(out.getvalue())["flagged"] == ["down-pay"]
    table = io.StringIO()
    assert advise([str(spec_dir)], {}, store, as_json=False, now=time.time(), out=table) == 1
    assert "down-pay" in table.getvalue()
    assert "1 of 2 nodes flagged for review" in table.getvalue()


def _decision_alert(alertmanager: Target) -> dict[str, Any]:
    for request in reversed(alertmanager.requests):
        if request.path != ALERTS:
            continue
        for alert in json.loads(request.body):
            if alert["labels"]["alertname"] == DECISION_REVIEW:
                found: dict[str, Any] = alert
                return found
    raise AssertionError("no NodeDecisionReview alert was pushed")


async def test_without_decision_alerts_no_review_alert_is_pushed(tmp_path: Path) -> None:
    async with Target({"/health": Reply(503)}) as down, Target({ALERTS: Reply(200)}) as am:
        spec_dir = write_specs(
            tmp_path / "specs", policy=QUICK_POLICY, down=partner("down-pay", down.url("/health"))
        )
        run = dataclasses.replace(
            options(spec_dir, tmp_path / "store.db"),
            alertmanager_urls=(am.base_url,),
            alertmanager_resend_interval=0.5,
        )
        async with running_agent(run, {}) as running:
            await eventually(
                lambda: (
                    running.advisor is not None
                    and running.advisor.report is not None
                    and bool(running.advisor.report.flagged)
                ),
                within=20,
            )
            await eventually(lambda: any(r.path == ALERTS for r in am.requests), within=10)
    names = {
        alert["labels"]["alertname"]
        for request in am.requests
        if request.path == ALERTS
        for alert in json.loads(request.body)
    }
    assert names
    assert DECISION_REVIEW not in names


def test_advise_exits_0_when_nothing_is_flagged_and_needs_a_store(tmp_path: Path) -> None:
    spec_dir = write_specs(tmp_path / "specs", up=partner("up-pay", "http://127.0.0.1:9/health"))
    with pytest.raises(UserError, match="no store here"):
        advise([str(spec_dir)], {}, tmp_path / "none.db", as_json=False, now=0.0, out=io.StringIO())
    SqliteStore(tmp_path / "empty.db").close()
    out = io.StringIO()
    empty = tmp_path / "empty.db"
    assert advise([str(spec_dir)], {}, empty, as_json=False, now=time.time(), out=out) == 0
    assert "0 of 1 nodes flagged" in out.getvalue()
