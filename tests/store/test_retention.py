from __future__ import annotations

import math
import sqlite3
from datetime import timedelta
from pathlib import Path

from agent.probes.result import Reason
from agent.slo.events import Counts
from agent.store import SqliteStore
from agent.store.checkpoints import BACKSTOP_PAGES
from tests.store.factories import BASE, events, probe_result

HOUR = 3600.0


def pragma(db: Path, name: str) -> int:
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute(f"PRAGMA {name}").fetchone()[0])
    finally:
        conn.close()


def test_prune_removes_old_buckets_and_raw_results_and_keeps_new_ones(tmp_path: Path) -> None:
    store = SqliteStore(
        tmp_path / "store.db",
        raw_retention=timedelta(hours=1),
        bucket_retention=timedelta(hours=3),
    )
    now = BASE + 10 * HOUR
    for at in (now - 5 * HOUR, now - 2 * HOUR, now - 30 * 60):
        store.record(probe_result(at, reason=Reason.TIMEOUT), events(("shop/a", False)))
    store.record(probe_result(now - 4 * HOUR, node="pay"), events(("pay/b", True)))
    store.flush()

    # raw: 3 older than 1 h; buckets: shop/a@-5h and pay/b@-4h, plus their probe buckets and
    # the reason bucket of shop's timeout at -5h, the latency bucket of pay's success (shop's
    # failures are one run, still failing)
    assert store.prune(now) == 3 + 2 + 2 + 1 + 1
    assert store.probe_totals()[("shop", "home")].failures_by_reason == {Reason.TIMEOUT: 2}
    assert store.series_totals() == {"shop/a": Counts(2, 2)}
    assert [r.started_at for r in store.recent_results()] == [now - 30 * 60]
    assert list(store.probe_totals()) == [("shop", "home")]  # the "pay" bucket is gone
    shop = store.probe_totals()[("shop", "home")]
    assert (shop.total, shop.failures_by_reason) == (2, {Reason.TIMEOUT: 2})
    assert store.prune(now) == 0
    store.close()


def test_the_bucket_at_the_retention_edge_is_kept(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "store.db", bucket_retention=timedelta(hours=1))
    now = BASE + 2 * HOUR  # a minute start, so now - 1 h is one too
    store.record(probe_result(now - HOUR - 0.5), events(("shop/a", True)))  # minute before
    store.record(probe_result(now - HOUR + 59.5), events(("shop/a", False)))  # edge minute
    store.flush()
    store.prune(now)
    assert store.series_totals() == {"shop/a": Counts(1, 1)}
    # and the retained window is still complete for a query of exactly that length
    assert store.sums("shop/a", {"1h": (now - HOUR, now)}) == {"1h": Counts(1, 1)}
    store.close()


def test_a_large_backlog_is_pruned_a_bounded_amount_per_call(tmp_path: Path) -> None:
    store = SqliteStore(
        tmp_path / "store.db",
        raw_retention=timedelta(days=365),
        bucket_retention=timedelta(hours=1),
        prune_batch=30,
        prune_limit=100,
    )
    for minute in range(100):  # 5 series x 100 old minutes = 500 old SLI buckets
        at = BASE + minute * 60
        store.record(probe_result(at), events(*((f"s{k}/x", True) for k in range(5))))
    now = BASE + 100 * 60 + HOUR
    store.record(probe_result(now - 60), events(*((f"s{k}/x", True) for k in range(5))))
    store.flush()

    deleted = []
    for _ in range(20):  # bounded: 700 rows at 100 per call need 7 calls and one more for 0
        deleted.append(store.prune(now))
        if deleted[-1] == 0:
            break
    assert deleted == [100] * 7 + [0]  # 500 SLI + 100 probe + 100 latency buckets
    assert store.series_totals() == {f"s{k}/x": Counts(1, 0) for k in range(5)}
    assert store.probe_totals()[("shop", "home")].total == 1
    store.close()


def test_a_shorter_retention_prunes_more_and_returns_the_space(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    store = SqliteStore(db, raw_retention=timedelta(days=2), bucket_retention=timedelta(days=2))
    for minute in range(1440):
        at = BASE + minute * 60
        pairs = [(f"node-{k}/availability", minute % 10 != 0) for k in range(20)]
        store.record(probe_result(at), events(*pairs))
    store.flush()
    full = pragma(db, "page_count")
    now = BASE + 1440 * 60
    assert store.prune(now) == 0  # nothing beyond retention yet (older minutes roll up)

    store.set_bucket_retention(timedelta(hours=1))
    store.prune(now)
    assert store.series_totals()["node-0/availability"] == Counts(60, 6)
    assert pragma(db, "page_count") < full / 2
    store.close()


def test_the_file_stops_growing_under_constant_load_with_pruning(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    period = 20  # minutes of bucket retention; raw results are kept half as long
    periods = 12
    store = SqliteStore(
        db, raw_retention=timedelta(minutes=period // 2), bucket_retention=timedelta(minutes=period)
    )
    series = [f"node-{k}/availability" for k in range(40)]
    reader = sqlite3.connect(db)
    pages: list[int] = []
    wal_sizes: list[int] = []
    try:
        for minute in range(periods * period):  # one flush and one prune per simulated minute
            start = BASE + minute * 60
            for i in range(4):  # four results per series and minute
                for k, name in enumerate(series):
                    at = start + i * 15 + k * 0.1
                    result = probe_result(at, node=f"node-{k}", detail="expected 200, got 503")
                    store.record(result, events((name, (minute + i + k) % 13 != 0)))
            store.flush()
            store.prune(start + 60)
            pages.append(int(reader.execute("PRAGMA page_count").fetchone()[0]))
            wal_sizes.append(Path(f"{db}-wal").stat().st_size)
        page_size = int(reader.execute("PRAGMA page_size").fetchone()[0])
    finally:
        reader.close()
    store.close()

    peak = [max(pages[p * period : (p + 1) * period]) for p in range(periods)]
    # Without pruning the file would grow by the first period's size every period. With it,
    # freed pages are reused: after a few periods of settling the file stays put.
    assert peak[0] > 0.9 * peak[-1]
    assert peak[-1] <= 1.05 * peak[3]
    assert peak[-1] - peak[-4] <= 0.01 * peak[-1] + 1
    # The write-ahead log is checkpointed and reused rather than growing: here the flushes
    # come faster than the checkpoint thread's period, so at most to the backstop.
    assert max(wal_sizes) <= (BACKSTOP_PAGES + 1100) * (page_size + 24)
    assert db.stat().st_size <= peak[-1] * page_size
    with SqliteStore(db) as reopened:
        assert reopened.sums(series[0], {"all": (-math.inf, math.inf)})["all"].total == 4 * period
