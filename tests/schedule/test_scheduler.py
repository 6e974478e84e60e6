"""The scheduler with real APScheduler and short real intervals; assertions are on counts."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import timedelta

from agent.model import HttpCheck, Mode, Node, Probe
from agent.schedule.scheduler import ProbeScheduler, Target
from tests.support.fakes import RecordingTelemetry, eventually


def _target(node: str, probe: str, interval: float = 0.1) -> Target:
    p = Probe(probe, timedelta(seconds=interval), HttpCheck(url=f"http://{node}.invalid/"))
    n = Node(node, Mode.OPERATED, "team", "cap", probes=(p,), slos=())
    return Target(n, p)


async def test_a_hanging_probe_delays_no_other_probe() -> None:
    runs: Counter[str] = Counter()
    never = asyncio.Event()

    async def run(target: Target) -> None:
        runs[target.key] += 1
        if target.node.name == "hangs":
            await never.wait()

    telemetry = RecordingTelemetry()
    scheduler = ProbeScheduler(run, telemetry, clock=time.time)
    targets = {t.key: t for t in (_target("hangs", "p"), _target("a", "p"), _target("b", "p"))}
    scheduler.start()
    try:
        scheduler.apply(targets)
        await eventually(lambda: runs["a/p"] >= 5 and runs["b/p"] >= 5)
        await eventually(lambda: telemetry.skipped.get("max_instances", 0) >= 3)
    finally:
        scheduler.shutdown()
        never.set()
    assert runs["hangs/p"] == 1  # its own next runs were skipped, not queued
    assert telemetry.lags
    assert all(lag >= 0 for lag in telemetry.lags)


async def test_apply_adds_removes_and_keeps_jobs() -> None:
    runs: Counter[str] = Counter()

    async def run(target: Target) -> None:
        runs[target.key] += 1

    scheduler = ProbeScheduler(run, RecordingTelemetry(), clock=time.time)
    scheduler.start()
    try:
        first = {t.key: t for t in (_target("a", "p"), _target("b", "p"))}
        change = scheduler.apply(first)
        assert change.added == ("a/p", "b/p")
        assert not change.removed
        await eventually(lambda: runs["a/p"] >= 2 and runs["b/p"] >= 2)

        slower_b = _target("b", "p", interval=0.5)
        second = {t.key: t for t in (_target("a", "p"), slower_b, _target("c", "p"))}
        change = scheduler.apply(second)
        assert change.added == ("c/p",)
        assert change.removed == ()
        assert change.rescheduled == ("b/p",)
        assert change.updated == ()

        change = scheduler.apply({"c/p": second["c/p"]})
        assert change.removed == ("a/p", "b/p")
        a_runs = runs["a/p"]
        await eventually(lambda: runs["c/p"] >= 3)
        assert runs["a/p"] == a_runs  # removed jobs never run again
        assert set(scheduler.targets) == {"c/p"}
    finally:
        scheduler.shutdown()


async def test_runs_that_apscheduler_coalesces_are_counted_as_skipped() -> None:
    telemetry = RecordingTelemetry()

    async def run(target: Target) -> None:
        return None

    scheduler = ProbeScheduler(run, telemetry, clock=time.time)
    scheduler.start()
    try:
        scheduler.apply({"a/p": _target("a", "p", interval=0.05)})
        await eventually(lambda: scheduler.executed >= 2)
        time.sleep(0.3)  # noqa: ASYNC251 - block the loop on purpose: ~5 runs fall due while it is stuck
        await eventually(lambda: telemetry.skipped.get("coalesced", 0) >= 3)
    finally:
        scheduler.shutdown()
    assert telemetry.skipped.get("max_instances", 0) == 0


async def test_settle_lets_runs_under_way_finish_and_reports_the_ones_cut_short() -> None:
    started: Counter[str] = Counter()
    finished: Counter[str] = Counter()
    release, never = asyncio.Event(), asyncio.Event()

    async def run(target: Target) -> None:
        started[target.key] += 1
        await (never if target.node.name == "hangs" else release).wait()
        finished[target.key] += 1

    scheduler = ProbeScheduler(run, RecordingTelemetry(), clock=time.time)
    scheduler.start()
    try:
        scheduler.apply({t.key: t for t in (_target("hangs", "p"), _target("slow", "p"))})
        await eventually(lambda: started["hangs/p"] == 1 and started["slow/p"] == 1)
        asyncio.get_running_loop().call_later(0.05, release.set)
        still_running = await scheduler.settle(0.5)
        runs_then = sum(started.values())
        await asyncio.sleep(0.3)  # three intervals: a paused scheduler starts nothing new
    finally:
        scheduler.shutdown()
        never.set()
    assert still_running == 1  # the hanging run, which shutdown cancels
    assert finished["slow/p"] == 1  # the slow run finished inside the settle
    assert finished["hangs/p"] == 0
    assert sum(started.values()) == runs_then


async def test_a_run_skipped_for_max_instances_is_not_counted_again_as_coalesced() -> None:
    """Every run time counts once: run, or skipped for one reason. A run that found the one
    before still under way was counted as max_instances and again as coalesced by the next."""
    telemetry = RecordingTelemetry()
    interval = 0.1
    started: list[float] = []

    async def run(target: Target) -> None:
        started.append(time.monotonic())
        await asyncio.sleep(interval * 1.5)  # each run overlaps the next run time

    scheduler = ProbeScheduler(run, telemetry, clock=time.time)
    scheduler.start()
    try:
        scheduler.apply({"a/p": _target("a", "p", interval=interval)})
        await eventually(lambda: scheduler.executed >= 6)
    finally:
        scheduler.shutdown()
    skipped = telemetry.skipped
    assert skipped.get("max_instances", 0) >= 3
    # the run times between the first and the last run: each executed or skipped once
    span = round((started[-1] - started[0]) / interval) + 1
    counted = scheduler.executed + sum(skipped.values())
    assert span - 2 <= counted <= span + 2, (span, scheduler.executed, skipped)
