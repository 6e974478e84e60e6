"""Journey steps and fallback drills feed the last-failure book like probes: the whole agent
against loopback partners, ``/api/v1/status`` says per journey step (with its node, the
fallback's failure and the run's trace id field) and per drilled fallback why it fails, the page
lists those failing now, and the log says it once per change."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest

from agent.app import running_agent
from tests.support.agents import options, partner_node, write_specs
from tests.support.fakes import eventually
from tests.support.targets import Reply, Target, json_reply


def _journey(url: str) -> str:
    return f"""\
apiVersion: slo-agent/v1
kind: Journey
metadata: {{name: checkout}}
spec:
  interval: 200ms
  steps:
    - name: cart
      node: acme-pay
      http: {{url: "{url}/cart"}}
    - name: authorize
      node: acme-pay
      http: {{url: "{url}/pay", expect: {{json: {{"$.status": "approved"}}}}}}
      fallback:
        node: backup-pay
        http: {{url: "{url}/backup"}}
  slos:
    - {{name: success, objective: 99, window: 3d}}
"""


def changes(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "agent.runtime.failures" and "probe " not in r.getMessage()
    ]


async def test_journey_steps_and_drills_say_why_they_fail(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="agent.runtime.failures")
    routes = {
        "/health": Reply(200, b"ok"),
        "/cart": Reply(200, b"ok"),
        "/pay": json_reply({"status": "declined"}),
        "/backup": Reply(503, b"backup down"),
    }
    async with Target(routes) as target:
        url = target.url("").rstrip("/")
        specs = write_specs(
            tmp_path / "specs",
            acme=partner_node("acme-pay", url, drill="backup-pay"),
            backup=partner_node("backup-pay", url),
            checkout=_journey(url),
        )
        async with running_agent(options(specs, tmp_path / "store.db"), {}) as running:
            book = running.agent.pipeline.failures

            def seen() -> bool:
                specs_now = running.agent.specs
                return bool(book.steps_of(specs_now)) and bool(book.drills_of(specs_now))

            await eventually(seen, within=30)
            await running.agent.evaluate()
            async with httpx.AsyncClient() as client:
                status = (await client.get(f"{running.url}/api/v1/status")).json()
                page = (await client.get(f"{running.url}/")).text
            target.route("/pay", json_reply({"status": "approved"}))
            target.route("/backup", Reply(200, b"ok"))
            count = target.request_count
            await eventually(lambda: target.request_count >= count + 10, within=30)
            await running.agent.evaluate()
            async with httpx.AsyncClient() as client:
                after = (await client.get(f"{running.url}/api/v1/status")).json()
                page_after = (await client.get(f"{running.url}/")).text

    [journey] = status["journeys"]
    [step] = journey["last_failures"]  # the cart step never failed
    assert {k: step[k] for k in ("step", "node", "failing", "reason", "detail")} == {
        "step": "authorize",
        "node": "acme-pay",
        "failing": True,
        "reason": "assertion",
        "detail": '$.status: expected "approved", got "declined"; '
        "fallback backup-pay: status: expected status in [200-299], got 503",
    }
    assert step["trace_id"] is None  # tracing is off in these options
    assert step["run_started_at"].endswith("Z")  # RFC 3339, as every time in the API
    nodes = {n["node"]: n for n in status["nodes"]}
    [drill] = nodes["acme-pay"]["drill_failures"]
    assert {k: drill[k] for k in ("fallback", "failing", "reason", "detail")} == {
        "fallback": "backup-pay",
        "failing": True,
        "reason": "status",
        "detail": "expected status in [200-299], got 503",
    }
    assert nodes["backup-pay"]["drill_failures"] == []
    assert nodes["acme-pay"]["last_failures"] == []  # the probes passed throughout
    assert 'data-step="checkout/authorize"' in page
    assert 'data-drill="acme-pay/backup-pay"' in page

    [step_after] = after["journeys"][0]["last_failures"]
    assert step_after["failing"] is False
    assert step_after["detail"] == step["detail"]
    [drill_after] = {n["node"]: n for n in after["nodes"]}["acme-pay"]["drill_failures"]
    assert drill_after["failing"] is False
    assert "data-step=" not in page_after
    assert "data-drill=" not in page_after

    lines = changes(caplog)
    assert sorted(lines) == sorted(
        [
            "journey checkout step authorize failing: assertion: " + step["detail"],
            "drill acme-pay -> backup-pay failing: status: " + drill["detail"],
            "journey checkout step authorize recovered (was failing: assertion)",
            "drill acme-pay -> backup-pay recovered (was failing: status)",
        ]
    )
