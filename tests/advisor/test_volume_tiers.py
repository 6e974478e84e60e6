"""The advisor's volume stability over a store whose older buckets are rolled up: a rolled
bucket's runs are spread over its minutes, so a steady probe stays steady."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from agent.advisor.signals import NodeEvidence, node_signals
from agent.model import HttpCheck, Mode, Node, Probe, ProbeSli, RollingWindow, Slo
from agent.store import SqliteStore
from tests.store.factories import BASE, probe_result

DAYS = 4
NOW = BASE + DAYS * 86400.0


def _node() -> Node:
    check = HttpCheck(url="http://127.0.0.1:9/", expect_status=frozenset({200}))
    probe = Probe(name="home", interval=timedelta(minutes=1), check=check)
    slo = Slo("availability", 0.999, RollingWindow(timedelta(days=28)), ProbeSli("home"))
    return Node(
        name="shop", mode=Mode.OPERATED, owner="o", capability="c", probes=(probe,), slos=(slo,)
    )


def test_a_steady_probe_keeps_a_steady_volume_after_its_history_is_rolled_up(
    tmp_path: Path,
) -> None:
    with SqliteStore(tmp_path / "store.db", clock=lambda: NOW) as store:
        for minute in range(DAYS * 1440):  # one run a minute
            store.record(probe_result(BASE + minute * 60 + 5), ())
        store.flush()
        store.prune(NOW)  # rolls everything older than 5 h up
        buckets = store.probe_minutes("shop", 0, NOW)
    assert len(buckets) < DAYS * 1440 / 4  # it did roll up
    volume = node_signals(
        _node(), NodeEvidence(buckets=buckets), NOW, recent=3600, incident_failures=3
    ).volume
    assert volume.total == DAYS * 1440
    assert volume.variation is not None
    # the only unevenness left: the first hour bucket holds the minutes from the first run on
    assert volume.variation < 0.05  # (about 5 when each hour's runs sit in its first minute)
