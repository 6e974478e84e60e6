"""The whole agent against a loopback target that changes its answers: the last failure per
probe in ``/api/v1/status`` and on the status page, one INFO line per outcome change (not one
per run), and a credential the target echoes back never shown anywhere."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from agent.app import running_agent
from tests.support.agents import options, write_specs
from tests.support.fakes import eventually
from tests.support.targets import Exchange, Reply, Target, response_head

CANARY = "canary-api-key-5f1c9e"

SPEC = """\
apiVersion: slo-agent/v1
kind: Node
metadata: {{name: pay}}
spec:
  mode: operated
  owner: payments
  capability: charges
  probes:
    - name: charge
      interval: 100ms
      http:
        url: "{url}"
        timeout: 100ms
        headers: {{X-Api-Key: "${{PAY_KEY}}"}}
        expect:
          json: {{"$.amount": {{gt: 0}}, "$.key": "expected-key"}}
  slos:
    - {{name: ok, objective: 99, window: 7d, sli: {{probe: charge}}}}
"""


class EchoKey:
    """A JSON answer echoing the request's X-Api-Key (as a careless partner might)."""

    def __init__(self, amount: int) -> None:
        self.amount = amount

    async def serve(self, exchange: Exchange) -> bool:
        key = exchange.request.header("x-api-key") or ""
        body = json.dumps({"amount": self.amount, "key": key}).encode()
        head = {"Content-Type": "application/json", "Content-Length": str(len(body))}
        await exchange.send(response_head(200, head) + body)
        return True


def changes(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "agent.runtime.failures" and r.levelno == logging.INFO
    ]


async def test_last_failure_in_api_and_page_and_one_log_line_per_change(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="agent.runtime.failures")
    async with Target({"/charge": Reply(503, b"down")}) as target:
        spec_dir = write_specs(tmp_path / "specs", pay=SPEC.format(url=target.url("/charge")))
        async with running_agent(
            options(spec_dir, tmp_path / "store.db"), {"PAY_KEY": CANARY}
        ) as running:

            async def runs(count: int) -> None:
                start = target.request_count
                await eventually(lambda: target.request_count >= start + count, within=30)

            await runs(5)  # several failed runs with the same reason
            target.route("/charge", EchoKey(amount=-3))
            await runs(5)
            target.route("/charge", EchoKey(amount=5))  # amount ok, key echoed: still failing
            await runs(5)
            await running.agent.evaluate()
            async with httpx.AsyncClient() as client:
                status = (await client.get(f"{running.url}/api/v1/status")).json()
                page = (await client.get(f"{running.url}/")).text
            target.route("/charge", Reply(200, b'{"amount": 1, "key": "expected-key"}'))
            await runs(5)
            await running.agent.evaluate()
            async with httpx.AsyncClient() as client:
                recovered = (await client.get(f"{running.url}/api/v1/status")).json()
                page_after = (await client.get(f"{running.url}/")).text

    [failure] = status["nodes"][0]["last_failures"]
    assert failure["probe"] == "charge"
    assert failure["failing"] is True
    assert failure["reason"] == "assertion"
    assert failure["detail"] == '$.key: expected "expected-key", got "REDACTED"'
    assert failure["trace_id"] is None  # tracing is off
    assert failure["started_at_iso"].endswith("+00:00")  # deprecated, unchanged
    started = datetime.fromisoformat(failure["run_started_at"])
    assert failure["run_started_at"].endswith("Z")
    assert started.timestamp() == pytest.approx(failure["started_at"], abs=0.001)
    assert abs(started - datetime.fromisoformat(status["evaluated_at"])).total_seconds() < 60
    assert (
        "charge</strong> assertion: <code>$.key: expected &quot;expected-key&quot;, "
        "got &quot;REDACTED&quot;</code>" in page
    )

    [after] = recovered["nodes"][0]["last_failures"]
    assert after["failing"] is False  # the last failure stays, marked as over
    assert after["detail"] == failure["detail"]
    assert '<li class="failure"' in page
    assert '<li class="failure"' not in page_after  # only probes failing now are listed

    assert changes(caplog) == [
        "probe pay/charge failing: status: expected status in [200-299], got 503",
        "probe pay/charge failing for another reason: "
        'assertion: $.key: expected "expected-key", got "REDACTED" (and 1 more) (was status)',
        "probe pay/charge recovered (was failing: assertion)",
    ]
    everything = json.dumps([status, recovered]) + page + page_after + caplog.text
    assert CANARY not in everything
