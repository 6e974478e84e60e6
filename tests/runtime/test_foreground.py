"""Foreground work goes first: background pause points wait while it runs, for a bounded time,
and the evaluation's steps and the advisor's reviews have such pause points."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping
from pathlib import Path

import pytest

from agent.runtime.advice import policy_of, read_evidence, replay
from agent.runtime.evaluator import evaluate, evaluate_in_steps
from agent.runtime.foreground import Foreground
from agent.slo.events import Counts
from agent.store.sqlite import SqliteStore
from tests.store.factories import BASE, events, probe_result
from tests.support.builders import node, spec_set

PATIENCE = 30.0  # a pause point's wait in tests that release the foreground themselves


def test_an_idle_pause_point_does_not_wait() -> None:
    foreground = Foreground()
    assert not foreground.busy
    assert foreground.yield_to() == 0.0
    assert foreground.yielded == 0.0


def test_a_pause_point_waits_until_the_foreground_work_is_done() -> None:
    foreground = Foreground(max_wait=PATIENCE)
    waited: list[float] = []
    with foreground.held():
        with foreground.held():  # nested: the outer block still holds it
            pass
        assert foreground.busy
        background = threading.Thread(target=lambda: waited.append(foreground.yield_to()))
        background.start()
        background.join(0.05)
        assert background.is_alive()  # still waiting: the foreground work goes on
    background.join(PATIENCE)
    assert not background.is_alive()
    assert not foreground.busy
    assert 0.05 <= waited[0] < PATIENCE
    assert foreground.yielded == pytest.approx(waited[0])


def test_a_pause_point_waits_at_most_max_wait() -> None:
    foreground = Foreground(max_wait=0.05)
    with foreground.held():  # never let go while the background waits
        waited = foreground.yield_to()
    assert 0.05 <= waited < PATIENCE


def test_max_wait_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_wait"):
        Foreground(max_wait=0.0)


async def test_an_async_pause_point_wakes_when_another_thread_lets_go() -> None:
    foreground = Foreground(max_wait=PATIENCE)
    holding, release = threading.Event(), threading.Event()

    def flush() -> None:  # foreground work in a worker thread, as the agent's flush
        with foreground.held():
            holding.set()
            assert release.wait(PATIENCE)

    worker = threading.Thread(target=flush)
    worker.start()
    assert holding.wait(PATIENCE)
    waiting = asyncio.create_task(foreground.yield_to_async())
    await asyncio.sleep(0.05)
    assert not waiting.done()  # the loop goes on while it waits
    release.set()
    waited = await asyncio.wait_for(waiting, PATIENCE)
    worker.join(PATIENCE)
    assert 0.05 <= waited < PATIENCE


async def test_an_async_pause_point_waits_at_most_max_wait() -> None:
    foreground = Foreground(max_wait=0.05)
    with foreground.held():
        waited = await foreground.yield_to_async()
    assert 0.05 <= waited < PATIENCE
    assert await foreground.yield_to_async() == 0.0


class CountedReads:
    """A store whose window-sum reads are counted."""

    def __init__(self, store: SqliteStore) -> None:
        self.store = store
        self.reads = 0

    def sums_many(
        self, requests: Mapping[str, Mapping[str, tuple[float, float]]]
    ) -> dict[str, dict[str, Counts]]:
        self.reads += 1
        return self.store.sums_many(requests)


async def test_the_evaluation_steps_wait_for_foreground_work(tmp_path: Path) -> None:
    nodes = [node(f"node-{i}", objective=0.99) for i in range(4)]
    specs = spec_set(*nodes)
    foreground = Foreground(max_wait=PATIENCE)
    with SqliteStore(tmp_path / "store.db") as store:
        for minute in range(20):
            for i, n in enumerate(nodes):
                at = BASE + 60 * minute
                good = (minute + i) % 5 != 0
                store.record(
                    probe_result(at, node=n.name), events((f"{n.name}/availability", good))
                )
        store.flush()
        now = BASE + 20 * 60
        counted = CountedReads(store)
        with foreground.held():
            stepped = asyncio.create_task(
                evaluate_in_steps(specs, counted, now, per_step=2, foreground=foreground)  # type: ignore[arg-type]
            )
            await asyncio.sleep(0.05)
            assert counted.reads == 0  # no step starts while the foreground work runs
        snapshot = await asyncio.wait_for(stepped, PATIENCE)
        assert counted.reads == 3  # two steps of two nodes, and the journeys' read
        assert snapshot == evaluate(specs, store, now)
    assert foreground.yielded >= 0.05


def test_the_advisor_pauses_before_each_nodes_evidence_and_each_replayed_read(
    tmp_path: Path,
) -> None:
    nodes = [node(f"node-{i}", objective=0.99) for i in range(3)]
    specs = spec_set(*nodes)
    policy = policy_of(specs)
    with SqliteStore(tmp_path / "store.db") as store:
        for minute in range(0, 120, 5):
            for n in nodes:
                at = BASE + 60 * minute
                store.record(
                    probe_result(at, node=n.name), events((f"{n.name}/availability", True))
                )
        store.flush()
        now = BASE + 120 * 60
        pauses: list[float] = []
        read_evidence(specs, store, now, None, policy, pause=lambda: pauses.append(now))
        assert len(pauses) == len(nodes)

        paused = 0

        def pause() -> None:
            nonlocal paused
            paused += 1

        plain, _ = replay(specs, store, now, policy)
        with_pauses, _ = replay(specs, store, now, policy, pause=pause)
    assert with_pauses == plain  # pausing changes nothing reviewed
    # the review at now pauses before each node's evidence; each past one also before its
    # evaluation's two reads (the nodes', the journeys')
    past_steps, left = divmod(paused - len(nodes), len(nodes) + 2)
    assert (past_steps > 1, left) == (True, 0)
