"""Advisor scenarios with a known right answer, through the real probe -> store -> advisor path:
loopback targets scripted minute by minute on a fake clock, reviewed every few fake minutes
with the hysteresis state carried along, as the running agent does."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.advisor.figures import Reason
from agent.advisor.review import DecisionReport
from agent.runtime.advice import policy_of, replay
from agent.store.sqlite import SqliteStore
from tests.support.targets import FailEvery, Reply, Target, json_reply

from .ecosystem import MINUTE, START, Delayed, FakeClock, load, probe_timeline, reviews

OK = json_reply({"status": "ok"})
DOWN = Reply(503, b"unavailable")

# sustain/clear of 30 fake minutes, reviewed every 5; recent latency over 30 minutes
POLICY = """
apiVersion: slo-agent/v1
kind: DecisionPolicy
metadata: {name: scenario}
spec: {interval: 5m, sustain: 30m, clear: 30m, recent: 30m, orchestrate: {min_recovery: 10m}}
---
# a tier that fits the nodes' 1h SLO window (the built-in ones look back up to 3d), its short
# window long enough for min_events runs at the slowest probe interval here (2m)
apiVersion: slo-agent/v1
kind: AlertWindows
metadata: {name: default}
spec: {page: [{budget_percent: 2, long: 1h, short: 10m}]}
"""


def node(
    name: str,
    url: str,
    *,
    mode: str = "orchestrated",
    capability: str = "payments",
    objective: float = 99.5,
    extra: str = "",
    decision: str = "{brand_control: 2, differentiation: 2}",
    interval: str = "1m",
) -> str:
    partner = (
        f"  partner: {{name: {name}, contract: {{availability_percent: 99.9}}}}\n"
        if mode == "orchestrated"
        else ""
    )
    return f"""
---
apiVersion: slo-agent/v1
kind: Node
metadata: {{name: {name}}}
spec:
  mode: {mode}
  owner: platform
  capability: {capability}
{partner}  probes:
    - name: check
      interval: {interval}
      http: {{url: "{url}", timeout: 2s, expect: {{status: [200], json: {{"$.status": "ok"}}}}}}
  slos:
    - {{name: availability, objective: {objective}, window: 1h, sli: {{probe: check}}}}
  decision: {decision}
{extra}"""


def low_value_operated(name: str, url: str) -> str:
    """An operated node the framework would orchestrate: little brand control or
    differentiation, a complex integration, a 99 % objective."""
    return node(
        name,
        url,
        mode="operated",
        capability="inventory",
        objective=99,
        decision="{brand_control: 1, differentiation: 1, integration_complexity: 4}",
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    with SqliteStore(tmp_path / "store.db") as opened:
        yield opened


def every_reason(report: DecisionReport) -> Iterator[Reason]:
    for review in report.reviews:
        yield from review.advice.reasons
        for score in review.scores.values():
            yield score.reason


def assert_reasons_quote_figures(report: DecisionReport) -> None:
    """Every reason quotes each figure it rests on, and rests on at least one."""
    for reason in every_reason(report):
        assert reason.figures, reason.text
        assert re.search(r"\d", reason.text), reason.text
        for figure in reason.figures:
            assert figure.text in reason.text, (figure, reason.text)


async def test_strict_partner_with_exhausted_budget_and_failing_drills_is_review_operate(
    tmp_path: Path, store: SqliteStore
) -> None:
    async with (
        Target({"/health": OK, "/backup": DOWN}) as primary,
        Target({"/health": OK}) as backup,
    ):
        drill = (
            "  fallbacks:\n    - node: backup-pay\n      drill: {every: 5m, http: {url: "
            f'"{primary.url("/backup")}", timeout: 2s}}}}\n'
        )
        specs = load(
            tmp_path,
            POLICY
            + node("acme-pay", primary.url("/health"), objective=99.95, extra=drill)
            + node("backup-pay", backup.url("/health")),
        )

        def script(minute: int) -> None:
            primary.route("/health", OK if minute < 20 else DOWN)

        await probe_timeline(specs, store, FakeClock(), minutes=120, script=script)
    timeline = reviews(specs, store, range(0, 121, 5))
    final = timeline[-1]
    acme = final.review("acme-pay")
    assert (acme.recommendation, acme.flagged) == ("review: operate", True)
    text = " | ".join(reason.text for reason in acme.advice.reasons)
    assert "strict SLO" in text
    assert "availability error budget exhausted" in text
    assert "drills succeeded 0 of 12 (0%)" in text
    assert acme.signals.drills[0].runs == 12
    assert final.review("backup-pay").recommendation == "keep"
    # flagged only once the signal had held for the policy's 30 minutes
    first = next(i for i, r in enumerate(timeline) if r.review("acme-pay").flagged)
    pointed = next(
        i for i, r in enumerate(timeline) if r.review("acme-pay").advice.recommendation != "keep"
    )
    assert (first - pointed) * 5 * MINUTE >= 30 * MINUTE
    assert_reasons_quote_figures(final)
    # the one-shot replay (slo-agent advise) reaches the same verdict from the store
    replayed, _ = replay(specs, store, START + 120 * MINUTE, policy_of(specs))
    assert replayed.review("acme-pay").recommendation == "review: operate"


async def test_low_value_operated_node_with_long_recoveries_is_review_orchestrate(
    tmp_path: Path, store: SqliteStore
) -> None:
    async with Target({"/health": OK}) as target:
        specs = load(
            tmp_path,
            POLICY + low_value_operated("inventory", target.url("/health")),
        )

        def script(minute: int) -> None:  # down 13 minutes in every 25
            target.route("/health", DOWN if minute % 25 >= 12 else OK)

        await probe_timeline(specs, store, FakeClock(), minutes=120, script=script)
    final = reviews(specs, store, range(0, 121, 5))[-1]
    inventory = final.review("inventory")
    assert (inventory.recommendation, inventory.flagged) == ("review: orchestrate", True)
    signals = inventory.signals
    assert len(signals.incidents) >= 2
    assert signals.mttr == pytest.approx(13 * MINUTE)
    text = " | ".join(reason.text for reason in inventory.advice.reasons)
    assert "mean time to recovery 13m" in text
    assert "lean -0.67" in text
    assert_reasons_quote_figures(final)


async def test_partner_failing_contract_assertions_is_flagged_with_the_rate(
    tmp_path: Path, store: SqliteStore
) -> None:
    degraded = json_reply({"status": "degraded"})
    async with Target({"/quote": FailEvery(4, failure=degraded, success=OK)}) as target:
        specs = load(tmp_path, POLICY + node("shipco", target.url("/quote"), objective=99))
        await probe_timeline(specs, store, FakeClock(), minutes=60)
    final = reviews(specs, store, range(0, 61, 5))[-1]
    shipco = final.review("shipco")
    assert shipco.flagged
    assert shipco.recommendation == "review: operate"
    contract = shipco.signals.contract
    assert (contract.contract_failures, contract.answered) == (15, 60)
    broken = shipco.advice.reasons[0]
    assert "25% of answered probes failed their contract assertions (15 of 60" in broken.text
    assert {f.name: f.value for f in broken.figures}["contract_failure_rate"] == 0.25
    assert_reasons_quote_figures(final)


async def test_the_steadily_slower_and_costlier_partner_is_rerouted_to_the_other(
    tmp_path: Path, store: SqliteStore
) -> None:
    async with Target({"/quote": OK}) as fast, Target({"/quote": Delayed(0.08, OK)}) as slow:
        specs = load(
            tmp_path,
            POLICY
            + node(
                "fastship",
                fast.url("/quote"),
                capability="shipping",
                decision="{cost: {per_request: 0.005}}",
                interval="2m",
            )
            + node(
                "slowfreight",
                slow.url("/quote"),
                capability="shipping",
                decision="{cost: {per_request: 0.02}}",
                interval="2m",
            ),
        )
        await probe_timeline(specs, store, FakeClock(), minutes=60)
    final = reviews(specs, store, range(0, 61, 5))[-1]
    slowfreight = final.review("slowfreight")
    assert (slowfreight.recommendation, slowfreight.target) == ("reroute", "fastship")
    assert final.review("fastship").recommendation == "keep"
    slower, costlier, _ = slowfreight.advice.reasons
    assert "against" in slower.text
    assert "on fastship" in slower.text
    expected = "cost per good transaction 0.02 EUR against 0.005 EUR on fastship (4\u00d7 costlier)"
    assert expected in costlier.text
    dispersion = slowfreight.signals.dispersion
    assert dispersion is not None
    assert dispersion.fastest == "fastship"
    assert dispersion.ratio_to_fastest >= 1.5
    assert_reasons_quote_figures(final)


async def test_healthy_node_and_one_short_incident_keep_without_a_flag(
    tmp_path: Path, store: SqliteStore
) -> None:
    async with Target({"/health": OK}) as steady, Target({"/health": OK}) as blip:
        policy = POLICY.replace("sustain: 30m", "sustain: 90m")
        specs = load(
            tmp_path,
            policy
            + node("steady", steady.url("/health"), objective=99.95)
            + node("blip", blip.url("/health"), objective=99.95, capability="shipping"),
        )

        def script(minute: int) -> None:
            blip.route("/health", DOWN if 70 <= minute < 73 else OK)

        await probe_timeline(specs, store, FakeClock(), minutes=180, script=script)
    timeline = reviews(specs, store, range(0, 181, 5))
    for report in timeline:
        assert report.flagged == ()
        assert report.review("steady").advice.recommendation == "keep"
    # the incident exhausted blip's budget for an hour: the signal was there, but not for 90m
    pointed = [r.evaluated_at for r in timeline if r.review("blip").advice.recommendation != "keep"]
    assert pointed
    assert max(pointed) - min(pointed) < 90 * MINUTE
    blip_review = timeline[-1].review("blip")
    assert len(blip_review.signals.incidents) == 0  # out of the 1h window by now
    assert blip_review.recommendation == "keep"
    for report in timeline:
        assert_reasons_quote_figures(report)
