"""Evaluations that reuse the statuses and window counts of the one before give what evaluating
afresh gives, over random event streams and times: spec reloads, tiers starting and ending to
fire, a calendar month rolling over, windows crossing slot, minute and tier boundaries, flushes,
pruning and roll-ups. And the reuse happens: unchanged statuses and counts are the same objects.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

from agent.model import (
    AlertTier,
    AlertWindows,
    CalendarWindow,
    Node,
    RollingWindow,
    Severity,
    SpecSet,
)
from agent.probes.result import Reason
from agent.runtime.evaluator import evaluate, evaluate_in_steps, node_requests
from agent.slo.events import Counts, SliEvent, sli_events
from agent.slo.status import Snapshot
from agent.slo.status_memo import StatusMemo
from agent.store.sqlite import SqliteStore
from tests.store.factories import probe_result
from tests.support.builders import WORKBOOK, journey, node

FAST = AlertWindows(
    "fast",
    (
        AlertTier(Severity.PAGE, 0.02, timedelta(minutes=20), timedelta(minutes=2)),
        AlertTier(Severity.TICKET, 0.1, timedelta(hours=3), timedelta(minutes=10)),
    ),
)


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Fresh:
    """The store's sums on a track of their own: every window counted from the slots, the
    unflushed buckets and the file (kept sums patched, as before the reuse), never handed back
    from the read before."""

    def __init__(self, store: SqliteStore) -> None:
        self.store = store

    def sums_many(
        self, requests: Mapping[str, Mapping[str, tuple[float, float]]]
    ) -> dict[str, dict[str, Counts]]:
        return self.store.sums_many(requests, track="fresh")


def _fast(n: Node, **changes: object) -> Node:
    alerting = dataclasses.replace(n.alerting, windows="fast")
    return dataclasses.replace(n, alerting=alerting, **changes)  # type: ignore[arg-type]


def _specs(version: int) -> SpecSet:
    plain = node("plain", objective=0.99)
    latency = node(
        "latency",
        objective=0.995 if version % 2 else 0.99,
        latency_under=timedelta(milliseconds=300),
    )
    month = _fast(node("month", objective=0.95))
    month = dataclasses.replace(
        month,
        slos=tuple(
            dataclasses.replace(s, window=CalendarWindow(), min_events=1) for s in month.slos
        ),
    )
    day = _fast(node("day", objective=0.9))
    day = dataclasses.replace(
        day,
        slos=tuple(
            dataclasses.replace(s, window=RollingWindow(timedelta(days=1))) for s in day.slos
        ),
    )
    idle = dataclasses.replace(  # never probed: only its period's length changes
        node("idle"), slos=(dataclasses.replace(month.slos[0], min_events=1),)
    )
    nodes = [plain, latency, month, idle] + (
        [day] if version % 3 != 2 else [node("late", objective=0.9)]
    )
    return SpecSet(
        nodes=tuple(sorted(nodes, key=lambda n: n.name)),
        alert_windows={"default": WORKBOOK, "fast": FAST},
        journeys=(journey("checkout", objective=0.9, steps_to=("plain",)),),
    )


STEPS = (1, 2, 5, 10, 10, 10, 10, 29, 31, 59, 60, 61, 119, 600, 1800, 3600, 5 * 3600)


def test_reusing_evaluations_equal_fresh_ones_over_random_streams(tmp_path: Path) -> None:
    rng = random.Random(14)
    # a calendar month ends ~20 hours in
    clock = Clock(datetime(2026, 11, 29, 22, 0, 7, tzinfo=UTC).timestamp())
    start = clock.now
    stores = [SqliteStore(tmp_path / f"{name}.db", clock=clock) for name in ("memo", "fresh")]
    memo_store, fresh_store = stores
    memo = StatusMemo()
    version = 0
    specs = _specs(version)
    before: dict[str, Snapshot | None] = {"memo": None, "fresh": None}
    fired, ended, reused, rebuilt = 0, 0, 0, 0
    months: set[object] = set()
    outage = False
    for step in range(400):
        if rng.random() < 0.03:
            version += 1
            specs = _specs(version)
        if rng.random() < 0.08:
            outage = not outage
        dt = rng.choice(STEPS)
        target = clock.now + dt
        while clock.now < target:  # runs every few seconds, each node at its own pace
            clock.now = min(target, clock.now + rng.choice((1.0, 3.0, 7.0, 20.0, 45.0, 300.0)))
            for n in specs.nodes:
                if n.name == "idle" or rng.random() < 0.5:
                    continue
                fails = rng.random() < (0.6 if outage and n.name != "plain" else 0.02)
                late = rng.random() < 0.05
                at = clock.now - (rng.uniform(30, 110) if late else rng.uniform(0, 1))
                result = probe_result(
                    at,
                    node=n.name,
                    probe="authorize",
                    reason=Reason.STATUS if fails else Reason.OK,
                    duration=rng.uniform(0.05, 0.6 if outage else 0.25),
                )
                for store in stores:
                    store.record(result, sli_events(n, result))
            if rng.random() < 0.3:
                journey_event = [SliEvent("checkout/success", rng.random() < 0.9)]
                for store in stores:
                    store.record(probe_result(clock.now - 0.5, node="x"), journey_event)
            if rng.random() < 0.7:
                for store in stores:
                    store.flush()
        if rng.random() < 0.1:
            for store in stores:
                store.prune(clock.now)
        previous = before["memo"]
        ours = evaluate(
            specs,
            memo_store,
            clock.now,
            firing_before=previous.firing_tiers() if previous else None,
            memo=memo,
        )
        fresh_before = before["fresh"]
        fresh = evaluate(
            specs,
            Fresh(fresh_store),
            clock.now,
            firing_before=fresh_before.firing_tiers() if fresh_before else None,
        )
        assert ours == fresh, f"step {step} at {clock.now - start:.0f} s"
        firing_now = ours.firing_tiers()
        firing_then = previous.firing_tiers() if previous else {}
        fired += any(t - firing_then.get(k, frozenset()) for k, t in firing_now.items())
        ended += any(t - firing_now.get(k, frozenset()) for k, t in firing_then.items())
        reused += memo.reused
        rebuilt += len(ours.slos()) - memo.reused
        months.update(s.period for s in ours.slos() if s.node == "month")
        months.add(datetime.fromtimestamp(clock.now, tz=UTC).month)
        before = {"memo": ours, "fresh": fresh}
    for store in stores:
        store.close()
    assert clock.now - start > 3 * 86400  # minute buckets rolled up into every tier
    assert fired > 3
    assert ended > 3
    assert {11, 12} <= months  # the calendar month rolled over
    assert reused
    assert rebuilt


def test_an_unchanged_slo_is_handed_back_and_a_changed_one_is_built(tmp_path: Path) -> None:
    specs = _specs(0)
    clock = Clock(1_790_000_005.0)
    with SqliteStore(tmp_path / "store.db", clock=clock) as store:
        for n in specs.nodes:
            for k in range(30):
                result = probe_result(clock.now - 600 + 20 * k, node=n.name, probe="authorize")
                store.record(result, sli_events(n, result))
        memo = StatusMemo()
        first = evaluate(specs, store, clock.now, memo=memo)
        second = evaluate(specs, store, clock.now, firing_before=first.firing_tiers(), memo=memo)
        assert memo.reused == len(second.slos())
        assert all(a is b for a, b in zip(first.nodes, second.nodes, strict=True))

        changed = specs.nodes[0]
        result = probe_result(clock.now - 1, node=changed.name, probe="authorize")
        store.record(result, sli_events(changed, result))
        third = evaluate(specs, store, clock.now, firing_before=second.firing_tiers(), memo=memo)
        fresh = evaluate(specs, Fresh(store), clock.now, firing_before=second.firing_tiers())

    assert third == fresh
    assert third.nodes[0] is not second.nodes[0]
    assert (
        third.nodes[0].slos[0].window("5m").total == second.nodes[0].slos[0].window("5m").total + 1
    )
    assert all(a is b for a, b in zip(second.nodes[1:], third.nodes[1:], strict=True))


def test_a_read_hands_back_the_counts_of_windows_nothing_changed(tmp_path: Path) -> None:
    specs = _specs(0)
    clock = Clock(1_790_000_005.0)
    with SqliteStore(tmp_path / "store.db", clock=clock) as store:
        for n in specs.nodes:
            for k in range(100):
                result = probe_result(clock.now - 7200 + 70 * k, node=n.name, probe="authorize")
                store.record(result, sli_events(n, result))
        store.flush()
        requests = node_requests(specs, specs.nodes, clock.now)
        first = store.sums_many(requests)
        clock.now += 1.0  # the fine windows' slots move on, no minute range does
        requests = node_requests(specs, specs.nodes, clock.now)
        second = store.sums_many(requests)
        touched = specs.nodes[0]
        result = probe_result(clock.now - 0.5, node=touched.name, probe="authorize")
        store.record(result, sli_events(touched, result))
        third = store.sums_many(requests)
        fresh = Fresh(store).sums_many(requests)

    assert third == fresh
    minute_labels = ("1h", "2h", "6h", "1d", "3d", "30d")
    for series, counts in second.items():
        for label in minute_labels:
            if label in counts:
                assert counts[label] is first[series][label], (series, label)
    mine = f"{touched.name}/{touched.slos[0].name}"
    assert third[mine]["1h"].total == second[mine]["1h"].total + 1
    others = [s for s in third if not s.startswith(f"{touched.name}/")]
    assert others
    assert all(third[s][label] is second[s][label] for s in others for label in third[s])


async def test_evaluating_in_steps_hands_back_what_did_not_change(tmp_path: Path) -> None:
    specs = _specs(0)
    clock = Clock(1_790_000_005.0)
    with SqliteStore(tmp_path / "store.db", clock=clock) as store:
        for n in specs.nodes:
            for k in range(30):
                result = probe_result(clock.now - 600 + 20 * k, node=n.name, probe="authorize")
                store.record(result, sli_events(n, result))
        memo = StatusMemo()
        first = await evaluate_in_steps(specs, store, clock.now, per_step=2, memo=memo)
        second = await evaluate_in_steps(
            specs, store, clock.now, previous=first, per_step=3, memo=memo
        )
        fresh = evaluate(specs, Fresh(store), clock.now, firing_before=first.firing_tiers())

    assert second == fresh
    assert memo.reused == len(second.slos())
    assert all(a is b for a, b in zip(first.nodes, second.nodes, strict=True))
    assert all(a is b for a, b in zip(first.slos(), second.slos(), strict=True))
