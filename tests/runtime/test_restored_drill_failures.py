"""A fallback drill's last failure survives a restart: the whole agent against a loopback
partner whose fallback route fails, stopped and started again on the same store file, shows
the same drill failure (node, fallback, reason, time, failing) in its book, ``/api/v1/status``
and status page before the drill runs again; a failure the book saw since the start wins over
the stored one, one stored before layout 8 shows no reason, as ``report`` shows it, and a drill
a reload adds gets its stored last failure too."""

from __future__ import annotations

import dataclasses
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from agent.api.timestamps import rfc3339
from agent.app import running_agent
from agent.model import Drill, Fallback, HttpCheck, SpecSet
from agent.probes.result import Observation, Outcome, Reason
from agent.runtime.failures import STORED_DETAIL, FailureBook
from agent.runtime.restored_failures import restore_drill_failures, restore_from_store
from agent.slo.failures import DrillFailure
from agent.store import SqliteStore
from agent.store.evidence import DrillKey, DrillRun
from agent.store.last_drill_failures import LastDrillFailure
from tests.store.factories import to_layout_7
from tests.support.agents import options, partner_node, write_specs
from tests.support.builders import node, spec_set
from tests.support.fakes import eventually
from tests.support.targets import Hang, Reply, Target

ROUTE = DrillKey("acme-pay", "backup-pay")


async def _status(url: str) -> tuple[dict[str, Any], str]:
    async with httpx.AsyncClient() as client:
        status = (await client.get(f"{url}/api/v1/status")).json()
        page = (await client.get(f"{url}/")).text
    return status, page


def _drills(status: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return {n["node"]: n["drill_failures"] for n in status["nodes"]}


async def test_a_drills_last_failure_is_shown_the_same_after_a_restart(tmp_path: Path) -> None:
    store = tmp_path / "store.db"
    async with Target({"/health": Reply(200, b"ok"), "/backup": Reply(503, b"down")}) as target:
        url = target.url("").rstrip("/")
        specs = write_specs(
            tmp_path / "specs",
            acme=partner_node("acme-pay", url, drill="backup-pay"),
            backup=partner_node("backup-pay", url),
        )
        async with running_agent(options(specs, store), {}) as running:
            book = running.agent.pipeline.failures
            await eventually(lambda: bool(book.drills_of(running.agent.specs)), within=30)
            await running.agent.evaluate()
            before, _ = await _status(running.url)
        before_book = book.drills_of(running.agent.specs)  # as it was at the stop

        # the drill's next run would hang (30 s timeout) and its interval is now an hour: the
        # agent started again shows what the store gave it, not a new run
        target.route("/backup", Hang())
        write_specs(specs, acme=partner_node("acme-pay", url, drill="backup-pay", every="1h"))
        async with running_agent(options(specs, store), {}) as running:
            await eventually(lambda: running.agent.ready, within=30)
            after_book = running.agent.pipeline.failures.drills_of(running.agent.specs)
            after, page = await _status(running.url)

    [failure] = before_book
    assert (failure.node, failure.fallback, failure.reason, failure.failing) == (
        "acme-pay",
        "backup-pay",
        "status",
        True,
    )
    [restored] = after_book
    assert restored == DrillFailure(
        failure.node, failure.fallback, failure.started_at, "status", STORED_DETAIL, True
    )
    [shown_before] = _drills(before)["acme-pay"]
    [shown_after] = _drills(after)["acme-pay"]
    assert shown_before["detail"] == "expected status in [200-299], got 503"
    assert shown_after == {
        **shown_before,
        "run_started_at": rfc3339(failure.started_at),  # the last run before the stop
        "detail": STORED_DETAIL,
    }
    assert _drills(after)["backup-pay"] == []
    assert 'data-drill="acme-pay/backup-pay"' in page  # still failing: listed on the page


def _drilled() -> SpecSet:
    """acme-pay drilling its route to backup-pay every hour."""
    drill = Drill(timedelta(hours=1), HttpCheck(url="http://127.0.0.1:9/backup"))
    acme = dataclasses.replace(node("acme-pay"), fallbacks=(Fallback("backup-pay", drill),))
    return spec_set(acme, node("backup-pay"))


def test_a_failure_seen_since_the_start_wins_over_the_stored_one() -> None:
    specs = _drilled()
    book = FailureBook()
    failed = Observation(Outcome.FAILURE, Reason.TIMEOUT, 5.0, detail="no answer in 5s")
    book.record_drill("acme-pay", "backup-pay", 2_000.0, failed)

    taken = restore_drill_failures(book, {ROUTE: LastDrillFailure(1_000.0, Reason.TLS, True)})

    assert taken == 0
    [kept] = book.drills_of(specs)
    assert (kept.started_at, kept.reason, kept.detail) == (2_000.0, "timeout", "no answer in 5s")


def test_a_drill_that_passed_since_the_start_is_no_longer_failing() -> None:
    specs = _drilled()
    book = FailureBook()
    book.record_drill(
        "acme-pay", "backup-pay", 2_000.0, Observation(Outcome.SUCCESS, Reason.OK, 0.1)
    )

    taken = restore_drill_failures(book, {ROUTE: LastDrillFailure(1_000.0, Reason.TLS, True)})

    assert taken == 1
    [kept] = book.drills_of(specs)
    assert (kept.started_at, kept.reason, kept.failing) == (1_000.0, "tls", False)


async def test_a_layout_7_store_restores_failures_without_reasons(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    with SqliteStore(path) as store:
        store.record_drill(DrillRun(ROUTE, 1_000.0, False, 0.1, Reason.CONNECT))
        store.record_drill(DrillRun(ROUTE, 1_060.0, False, 0.1, Reason.STATUS))
        store.flush()
    conn = sqlite3.connect(path, isolation_level=None)
    to_layout_7(conn)
    conn.close()
    specs = _drilled()
    book = FailureBook()

    with SqliteStore(path) as store:
        taken = await restore_from_store(book, specs, store)

    assert taken == 1
    [restored] = book.drills_of(specs)
    assert (restored.started_at, restored.reason, restored.failing) == (1_060.0, None, True)
    assert restored.text == f"-: {STORED_DETAIL}"  # "-" as report's table shows it


async def test_a_drill_a_reload_adds_gets_its_stored_last_failure(tmp_path: Path) -> None:
    store = tmp_path / "store.db"
    with SqliteStore(store) as kept:  # the route's runs from an earlier life of the spec
        kept.record_drill(DrillRun(ROUTE, 1_000.0, False, 0.1, Reason.DNS))
        kept.record_drill(DrillRun(ROUTE, 1_060.0, True, 0.1))
        kept.flush()
    async with Target({"/health": Reply(200, b"ok"), "/backup": Hang()}) as target:
        url = target.url("").rstrip("/")
        specs = write_specs(
            tmp_path / "specs",
            acme=partner_node("acme-pay", url),
            backup=partner_node("backup-pay", url),
        )
        async with running_agent(options(specs, store), {}) as running:
            await eventually(lambda: running.agent.ready, within=30)
            book = running.agent.pipeline.failures
            assert book.drills_of(running.agent.specs) == ()  # not drilled yet

            write_specs(specs, acme=partner_node("acme-pay", url, drill="backup-pay", every="1h"))
            assert await running.agent.reload()
            restored = book.drills_of(running.agent.specs)

    assert restored == (
        DrillFailure("acme-pay", "backup-pay", 1_000.0, "dns", STORED_DETAIL, False),
    )
