"""The real agent runs a journey on its schedule: its SLO, blame and ceiling show in
``/api/v1/journeys`` and ``/metrics``, and ``slo-agent report`` reads them back afterwards."""

from __future__ import annotations

import io
import json
import logging
import time
from pathlib import Path

import httpx
import pytest

from agent.app import running_agent
from agent.cli.report import report
from tests.journeys.support import checkout_specs
from tests.support.agents import options, scrape, write_specs
from tests.support.fakes import eventually
from tests.support.targets import FailEvery, Reply, Target, json_reply

APPROVED = json_reply({"status": "approved"})


async def test_the_agent_runs_journeys_and_blames_the_partner(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="agent.runtime.agent")
    shop, pay = Target({"/cart": json_reply({"id": "c-1"})}), Target()
    backup, ship = Target({"/pay": Reply(503, b"down too")}), Target({"/quote": APPROVED})
    pay.route("/pay", FailEvery(2, Reply(503, b"down"), APPROVED))
    async with shop, pay, backup, ship:
        text = checkout_specs(
            shop.base_url,
            pay.base_url,
            backup.base_url,
            ship.base_url,
            interval="400ms",
            timeout="400ms",  # not shorter: on a loaded machine it would fail other hops too
        )
        spec_dir = write_specs(tmp_path / "specs", checkout=text)
        store = tmp_path / "store.db"
        async with running_agent(options(spec_dir, store), {}) as running:
            async with httpx.AsyncClient(base_url=running.url) as client:

                async def ceiling_known() -> bool:
                    response = await client.get("/api/v1/journeys")
                    if response.status_code != 200:
                        return False
                    (journey,) = response.json()["journeys"]
                    hops = journey["blame"]["hops"]
                    enough = bool(hops) and hops[0]["bad_runs"] >= 10
                    return enough and journey["ceiling"]["availability"] is not None

                await eventually(ceiling_known, within=30)  # 10 runs per step, 10 bad
                body = (await client.get("/api/v1/journeys")).json()
            samples = await scrape(running.url)

    (journey,) = body["journeys"]
    (hop,) = journey["blame"]["hops"]
    assert (hop["step"], hop["node"], hop["partner"]) == ("authorize", "acme-pay", "Acme Pay")
    assert hop["budget_fraction"] == 1.0
    assert hop["reasons"] == {"status": hop["bad_runs"]}
    assert hop["trace_ids"] == []  # tracing is off: no examples to show
    assert journey["slos"][0]["slo"] == "success"
    assert hop["bad_runs"] >= 10
    # payments work every second time and the failover never: 50% at best, under the 99%
    assert journey["ceiling"]["availability"] == pytest.approx(0.5, abs=0.1)
    assert journey["ceiling"]["objectives_above"] == ["success"]
    warnings = [r.getMessage() for r in caplog.records if "dependency ceiling" in r.getMessage()]
    assert len(warnings) == 1  # once, not at every evaluation
    assert warnings[0].startswith("journey checkout: the objective of success is above")
    # every journey request carried the captured cart id to the payment partners
    assert {r.target for r in pay.requests} == {"/pay?cart=c-1"}
    assert {r.target for r in backup.requests} == {"/pay?cart=c-1"}
    blame = frozenset(
        {
            "journey": "checkout",
            "node": "acme-pay",
            "mode": "orchestrated",
            "reason": "status",
        }.items()
    )
    assert samples[("slo_agent_journey_hop_blame_total", blame)] >= 2
    events = frozenset({"node": "checkout", "slo": "success", "mode": "journey"}.items())
    assert samples[("slo_agent_sli_bad_events_total", events)] >= 2

    # the agent is gone; the store still answers
    out = io.StringIO()
    report([str(spec_dir)], {}, store, as_json=True, now=time.time(), out=out)
    (stored,) = json.loads(out.getvalue())["journeys"]
    assert stored["bad_runs"] >= journey["bad_runs"]
    assert stored["blame"]["hops"][0]["node"] == "acme-pay"
