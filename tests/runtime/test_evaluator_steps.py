"""Evaluating in steps gives the snapshot evaluating at once gives."""

from __future__ import annotations

from pathlib import Path

from agent.runtime.evaluator import evaluate, evaluate_in_steps
from agent.store.sqlite import SqliteStore
from tests.store.factories import BASE, events, probe_result
from tests.support.builders import journey, node, spec_set


async def test_steps_give_the_same_snapshot_as_one_evaluation(tmp_path: Path) -> None:
    nodes = [node(f"node-{i}", objective=0.99) for i in range(5)]
    checkout = journey("checkout", steps_to=("node-0", "node-1"))
    specs = spec_set(*nodes, journeys=(checkout,))
    with SqliteStore(tmp_path / "store.db") as store:
        for minute in range(30):
            for i, n in enumerate(nodes):
                good = (minute + i) % 7 != 0
                at = BASE + 60 * minute
                store.record(
                    probe_result(at, node=n.name), events((f"{n.name}/availability", good))
                )
            store.record(probe_result(at, node="x"), events(("checkout/success", minute % 5 != 0)))
        store.flush()
        now = BASE + 30 * 60

        whole = evaluate(specs, store, now)
        stepped = await evaluate_in_steps(specs, store, now, per_step=2)

    assert stepped == whole
    assert [s.node for s in stepped.nodes] == [n.name for n in nodes]
    assert [j.journey for j in stepped.journeys] == ["checkout"]
    assert any(w.bad for s in stepped.slos() for w in s.windows)  # not a trivially empty match


async def test_an_empty_spec_set_evaluates_to_an_empty_snapshot(tmp_path: Path) -> None:
    specs = spec_set()
    with SqliteStore(tmp_path / "store.db") as store:
        snapshot = await evaluate_in_steps(specs, store, BASE)
    assert (snapshot.nodes, snapshot.journeys, snapshot.evaluated_at) == ((), (), BASE)


async def test_slices_of_any_size_give_the_same_snapshot_with_the_alerts_before(
    tmp_path: Path,
) -> None:
    nodes = [node(f"node-{i}", objective=0.99) for i in range(7)]
    specs = spec_set(*nodes)
    with SqliteStore(tmp_path / "store.db") as store:
        for minute in range(90):
            at = BASE + 60 * minute
            for i, n in enumerate(nodes):
                good = minute < 60 or i % 2 == 0  # odd nodes fail from minute 60 on
                store.record(
                    probe_result(at, node=n.name), events((f"{n.name}/availability", good))
                )
        store.flush()
        earlier = evaluate(specs, store, BASE + 80 * 60)
        now = BASE + 90 * 60
        whole = evaluate(specs, store, now, firing_before=earlier.firing_tiers())
        sliced = [
            await evaluate_in_steps(specs, store, now, previous=earlier, per_step=most)
            for most in (1, 3, 500)
        ]

    assert earlier.firing_tiers()  # the alerts before matter to this evaluation
    assert all(snapshot == whole for snapshot in sliced)
