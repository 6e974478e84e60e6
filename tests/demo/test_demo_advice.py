"""The demo ecosystem, probed as the bundled demo specs say and reviewed with the demo's own
DecisionPolicy, raises every kind of flag within one 10-minute fault cycle, and none that
is odd (a reroute to an unhealthy or flagged node, agreement with a node missing its objective).

The ecosystem runs on a manual clock and answers delayed requests at once; the probers' clock
moves by each delay instead, so a latency spike is measured without waiting for it. Probes run
through the real pipeline into a real store, and the advisor reviews every 10 simulated seconds
as it goes, with its hysteresis state carried along like the running agent's.
"""

from __future__ import annotations

from pathlib import Path

from agent.advisor.hysteresis import FlagState
from agent.advisor.recommend import healthy as healthy_node
from agent.advisor.review import DecisionReport
from agent.demo.ecosystem import Ecosystem
from agent.demo.templates import render_demo_specs
from agent.probes import Probers
from agent.runtime.advice import policy_of, review_at
from agent.runtime.evaluator import evaluate
from agent.spec.loader import load_specs
from agent.store.sqlite import SqliteStore
from tests.advisor.ecosystem import START, FakeClock, run_timeline

CYCLE = 600


class ManualClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_every_kind_of_flag_within_one_cycle(tmp_path: Path) -> None:
    moment = ManualClock()  # the demo's moment, and the probers' clock for durations
    probe_clock = ManualClock()

    async def delayed(seconds: float) -> None:
        probe_clock.now += seconds

    async with Ecosystem(clock=moment, sleep=delayed) as eco:
        specs = load_specs(render_demo_specs(eco.urls, eco.ports, tmp_path / "specs"), {})
        policy = policy_of(specs)
        assert (policy.name, policy.sustain.total_seconds()) == ("demo-fast", 30.0)

        timeline: list[DecisionReport] = []
        state: dict[str, FlagState] = {}

        def script(elapsed: float) -> None:
            nonlocal state
            moment.now = elapsed
            if elapsed % 10 == 0:  # review what was measured before this moment
                now = START + elapsed
                snapshot = evaluate(specs, store, now)
                report, state = review_at(specs, store, snapshot, now, policy, state)
                timeline.append(report)

        with SqliteStore(tmp_path / "demo.db") as store:
            await run_timeline(
                specs,
                store,
                FakeClock(),
                seconds=CYCLE,
                step=1.0,
                script=script,
                probers=Probers(clock=probe_clock),
            )
    flags = {
        (review.node, review.recommendation, review.target)
        for report in timeline
        for review in report.flagged
    }
    assert ("inventory", "review: orchestrate", None) in flags
    assert ("fastship", "reroute", "slowfreight") in flags
    assert ("acme-pay", "review: operate", None) in flags
    assert {recommendation for _, recommendation, _ in flags} == {
        "review: operate",
        "review: orchestrate",
        "reroute",
    }
    healthy = {"storefront", "slowfreight"}
    assert not {node for node, _, _ in flags} & healthy
    # no odd flag: acme-pay, down and flagged itself, is no alternative for backup-pay's broken
    # contract, and a reroute goes only to a node meeting its objectives and flagged by nothing
    assert ("backup-pay", "review: operate", None) in flags
    assert ("backup-pay", "reroute", "acme-pay") not in flags
    for report in timeline:
        for review in report.reviews:
            target = review.advice.target
            if target is not None:
                assert healthy_node(report.review(target).signals), (review.node, target)
                assert not report.review(target).flagged, (review.node, target)
            if not healthy_node(review.signals):
                assert not any("agree with the mode" in r.text for r in review.advice.reasons)
    first = {
        (review.node, review.recommendation): report.evaluated_at - START
        for report in reversed(timeline)
        for review in report.flagged
    }
    assert first[("inventory", "review: orchestrate")] <= 300
    assert first[("fastship", "reroute")] <= 360
