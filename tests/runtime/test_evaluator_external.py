"""The evaluator takes probe SLOs from the store and Prometheus SLOs from the counts passed in."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.probes.result import Observation, Outcome, ProbeResult, Reason
from agent.runtime.evaluator import evaluate
from agent.slo.events import Counts, SliEvent
from agent.store.sqlite import SqliteStore
from tests.sources.specs import load, prometheus_node
from tests.support.agents import node_spec

NOW = 1_700_000_000.0


def record(store: SqliteStore, series: str, node: str, good: int, bad: int) -> None:
    for i in range(good + bad):
        ok = i >= bad
        outcome, reason = (Outcome.SUCCESS, Reason.OK) if ok else (Outcome.FAILURE, Reason.STATUS)
        result = ProbeResult(node, "health", NOW - 100 + i, Observation(outcome, reason, 0.01))
        store.record(result, [SliEvent(series, ok)])


def test_each_slo_is_read_from_where_it_is_measured(tmp_path: Path) -> None:
    specs = load(
        tmp_path / "specs",
        shop=prometheus_node(),
        probed=node_spec("probed", "http://127.0.0.1:9/"),
    )
    with SqliteStore(tmp_path / "store.db") as store:
        record(store, "probed/availability", "probed", good=18, bad=2)
        # events stored under the Prometheus SLO's key (say, before it moved to Prometheus)
        record(store, "shop/availability", "shop", good=0, bad=50)
        external = {
            "shop/availability": {"5m": Counts(1000.0, 2.5)},
            "probed/availability": {"5m": Counts(1000.0, 1000.0)},  # ignored: probes measure it
        }
        snapshot = evaluate(specs, store, NOW, external)
        without = evaluate(specs, store, NOW)
    shop = {s.node: s for s in snapshot.slos()}["shop"]
    probed = {s.node: s for s in snapshot.slos()}["probed"]
    assert (shop.window("5m").total, shop.window("5m").bad) == (1000.0, 2.5)
    assert shop.window("5m").sli == pytest.approx(0.9975)
    assert shop.window("1h").sli is None  # a window Prometheus did not answer for: no data
    assert (probed.window("5m").total, probed.window("5m").bad) == (20, 2)
    assert {s.node: s.window("5m").sli for s in without.slos()} == {"probed": 0.9, "shop": None}
