"""Alert tiers that fire across a restart: the agent saves its firing tiers in the store and its
first evaluation after a start holds them while their long window still burns, instead of
ending the page because the stop emptied the short window (a resolve and re-fire pushed to
Alertmanager). The agent's own evaluation over a real store, clock injected."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Collection, Mapping
from pathlib import Path

import pytest

from agent.model import Severity
from agent.probes import Probers
from agent.probes.http import HttpProber
from agent.runtime.agent import Agent, AgentSettings
from agent.runtime.held_tiers import HeldTiers
from agent.runtime.source import SpecSource
from agent.slo.status import SloKey, Snapshot, TierKey
from agent.store.sqlite import SqliteStore
from tests.store.factories import BASE, events, probe_result
from tests.support.agents import write_specs
from tests.support.fakes import RecordingTelemetry
from tests.support.outage import Clock

SPEC = """\
apiVersion: slo-agent/v1
kind: AlertWindows
metadata: {name: quick}
spec:
  page: [{budget_percent: 2, long: 1h, short: 1m}]
---
apiVersion: slo-agent/v1
kind: Node
metadata: {name: acme}
spec:
  mode: operated
  owner: sre
  capability: payments
  probes:
    - {name: health, interval: 1s, http: {url: "http://127.0.0.1:9/health"}}
  slos:
    - {name: availability, objective: 99, window: 30d, sli: {probe: health}}
  alerting: {windows: quick}
"""
PAGE = TierKey(Severity.PAGE, "1h", "1m")
ACME = SloKey("acme", "availability")
NO_LOOPS = AgentSettings(flush_interval=1.0, evaluation_interval=10.0, watch_interval=0.0)


def _agent(specs: Path, store: SqliteStore, clock: Clock) -> Agent:
    source = SpecSource([str(specs)], {})
    return Agent(
        source=source,
        specs=source.load(),
        store=store,
        probers=Probers(http=HttpProber()),
        telemetry=RecordingTelemetry(),
        clock=clock,
        settings=NO_LOOPS,
    )


def _firing(snapshot: Snapshot) -> frozenset[TierKey]:
    return snapshot.firing_tiers().get(ACME, frozenset())


async def _outage_then_stop(tmp_path: Path) -> tuple[Path, Path, Clock]:
    """Ten minutes of failing runs, one a second, evaluated until the page fires; then the
    agent stops (its store closed) and two minutes pass: the 1m short window is empty."""
    specs = write_specs(tmp_path / "specs", acme=SPEC)
    db = tmp_path / "store.db"
    clock = Clock(BASE)
    store = SqliteStore(db, clock=clock)
    agent = _agent(specs, store, clock)
    for second in range(600):
        clock.now = BASE + second
        store.record(probe_result(clock.now, node="acme"), events(("acme/availability", False)))
    clock.now = BASE + 600
    await agent.flush(upkeep=False)
    snapshot = await agent.evaluate()
    assert _firing(snapshot) == {PAGE}
    store.close()
    clock.now = BASE + 720
    return specs, db, clock


async def test_a_page_firing_at_the_stop_holds_at_the_first_evaluation_after_the_start(
    tmp_path: Path,
) -> None:
    specs, db, clock = await _outage_then_stop(tmp_path)
    with SqliteStore(db, clock=clock) as store:
        assert store.firing_tiers() == {ACME: frozenset({PAGE})}
        snapshot = await _agent(specs, store, clock).evaluate()
    status = snapshot.nodes[0].slos[0]
    assert status.alerts[0].short_burn is None  # no data in the short window: the stop emptied it
    assert _firing(snapshot) == {PAGE}


async def test_without_the_saved_tiers_the_first_evaluation_ends_the_page(tmp_path: Path) -> None:
    """What the saved tiers prevent: the same restart with nothing saved."""
    specs, db, clock = await _outage_then_stop(tmp_path)
    conn = sqlite3.connect(db)
    conn.execute("DELETE FROM firing_tier")
    conn.commit()
    conn.close()
    with SqliteStore(db, clock=clock) as store:
        snapshot = await _agent(specs, store, clock).evaluate()
    assert _firing(snapshot) == frozenset()


async def test_the_saved_tiers_follow_the_evaluations(tmp_path: Path) -> None:
    """Saved when they change, and emptied when the page ends (here: an hour of recovery)."""
    specs, db, clock = await _outage_then_stop(tmp_path)
    with SqliteStore(db, clock=clock) as store:
        agent = _agent(specs, store, clock)
        await agent.evaluate()
        for second in range(720, 720 + 3600):
            clock.now = BASE + second
            store.record(probe_result(clock.now, node="acme"), events(("acme/availability", True)))
        clock.now = BASE + 720 + 3600
        await agent.flush(upkeep=False)
        snapshot = await agent.evaluate()
        assert _firing(snapshot) == frozenset()
        assert store.firing_tiers() == {}


class _Recording:
    """The store's firing tiers, recording every save."""

    def __init__(self, store: SqliteStore) -> None:
        self.store = store
        self.saved: list[Mapping[SloKey, Collection[TierKey]]] = []

    def firing_tiers(self) -> Mapping[SloKey, frozenset[TierKey]]:
        return self.store.firing_tiers()

    def save_firing_tiers(self, firing: Mapping[SloKey, Collection[TierKey]]) -> None:
        self.saved.append(firing)
        self.store.save_firing_tiers(firing)


async def test_the_tiers_saved_are_the_ones_the_next_evaluation_starts_from(
    tmp_path: Path,
) -> None:
    """One mapping per evaluation: the one saved is the snapshot's own, which the next
    evaluation reads as the tiers firing before (``evaluate_in_steps``' ``previous``) and
    holds while the short window is empty."""
    specs = write_specs(tmp_path / "specs", acme=SPEC)
    clock = Clock(BASE)
    with SqliteStore(tmp_path / "store.db", clock=clock) as store:
        agent = _agent(specs, store, clock)
        recording = _Recording(store)
        agent.held_tiers = HeldTiers(recording)
        for at in range(600):
            clock.now = BASE + at
            result = probe_result(clock.now, node="acme")
            store.record(result, events(("acme/availability", False)))
        clock.now = BASE + 600
        await agent.flush(upkeep=False)
        first = await agent.evaluate()
        clock.now = BASE + 720  # no runs since: the 1m short window is empty
        second = await agent.evaluate()
    assert recording.saved == [{ACME: frozenset({PAGE})}]  # saved once: it did not change
    assert recording.saved[0] is first.firing_tiers()
    assert second.nodes[0].slos[0].alerts[0].short_burn is None
    assert second.firing_tiers() == first.firing_tiers()  # held from the first


def test_rows_that_cannot_be_right_are_ignored(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    with SqliteStore(db) as store:
        store.save_firing_tiers({ACME: {PAGE}})
    conn = sqlite3.connect(db)
    conn.executemany(
        "INSERT INTO firing_tier VALUES (?, ?, ?, ?, ?)",
        [
            ("acme", "latency", "urgent", "1h", "5m"),  # no such severity
            ("", "availability", "page", "6h", "30m"),  # no owner
            ("x" * 300, "availability", "page", "6h", "30m"),  # longer than any name
        ],
    )
    conn.commit()
    conn.close()
    with SqliteStore(db) as store:
        assert store.firing_tiers() == {ACME: frozenset({PAGE})}


class _Unreadable:
    def firing_tiers(self) -> dict[SloKey, frozenset[TierKey]]:
        from agent.errors import StoreError

        raise StoreError("the store /x is locked")

    def save_firing_tiers(self, firing: object) -> None:
        raise AssertionError("not expected")


async def test_an_unreadable_store_starts_without_held_tiers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR):
        assert await HeldTiers(_Unreadable()).restore() == {}
    assert "reading the alert tiers firing before the start failed: the store /x is locked" in (
        caplog.text
    )
