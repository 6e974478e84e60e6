"""Synthetic history for benchmarks: a store file holding N nodes x M days of buckets.

Each node has one HTTP probe ``health`` run every 30-60 s and two SLOs on it,
``availability`` and ``latency`` (300 ms), as :func:`bench.history_store.nodes` declares them.
The buckets are what the agent would hold after that many days (layout of
:mod:`agent.store.schema`, tiers of :mod:`agent.store.tiers`): SLI, probe, failure-reason and
latency buckets, per minute for the last 5 h, then per 5 and 10 minutes, then per hour, with a
failure rate of about 0.1 % and a few incidents per node; plus the sampled raw results of the
last 48 h (every failure, one success per probe per ``RAW_SUCCESS_EVERY``), as the agent keeps
them.
Rows go straight into the file in bulk, not through ``SqliteStore.record``.

    python -m bench.history_store --nodes 500 --days 28 -o store.db
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

from agent.model import HttpCheck, Mode, Node, Probe, ProbeSli, RollingWindow, Slo
from agent.store import layout5, schema, tiers
from agent.store.latency import bucket_of
from agent.store.sqlite import RAW_SUCCESS_EVERY

PROBE = "health"
NOW = 1_790_000_000.0  # the time the history ends at (a fixed instant: runs are comparable)
RAW_HOURS = 48


def nodes(count: int) -> tuple[Node, ...]:
    """The nodes whose history :func:`write` generates: ``node-00000`` ... with two SLOs."""
    out = []
    for i in range(count):
        check = HttpCheck(url="http://127.0.0.1:9/", expect_status=frozenset({200}))
        probe = Probe(name=PROBE, interval=timedelta(seconds=30 + i % 31), check=check)
        out.append(
            Node(
                name=f"node-{i:05d}",
                mode=Mode.OPERATED,
                owner="bench",
                capability="bench",
                probes=(probe,),
                slos=(
                    Slo("availability", 0.999, RollingWindow(timedelta(days=28)), ProbeSli(PROBE)),
                    Slo(
                        "latency",
                        0.99,
                        RollingWindow(timedelta(days=28)),
                        ProbeSli(PROBE, timedelta(milliseconds=300)),
                    ),
                ),
            )
        )
    return tuple(out)


def _spans(first: int, last: int, now_minute: int) -> Iterator[tuple[int, int]]:
    """(bucket start, minutes it covers) of every bucket over minutes ``[first, last)`` as the
    tiers hold them at ``now_minute``."""
    minute = first
    while minute < last:
        grain = tiers.grain_at(minute, now_minute)
        end = min(last, minute - minute % grain + grain)
        yield minute, end - minute
        minute = end


def write(
    path: Path, node_count: int, days: float, *, now: float = NOW, seed: int = 1, layout: int = 5
) -> int:
    """Create the store at ``path`` (it must not exist) with ``days`` of history for
    ``node_count`` nodes ending at ``now``; return the rows written. ``layout=4`` writes what
    a layout-4 agent held instead (text keys, every bucket per minute), to time a migration."""
    if path.exists():
        raise FileExistsError(f"{path} exists: give a new file")
    rng = random.Random(seed)
    conn = schema.connect(path, busy_timeout=5.0, clock=lambda: now)
    now_minute = int(now // 60)
    first = now_minute - round(days * 1440)
    rows = 0
    try:
        conn.execute("BEGIN IMMEDIATE")
        if layout == 4:
            conn.execute("ALTER TABLE drill_run DROP COLUMN reason")  # layout 8's
            for table in (
                *("sli_bucket", "probe_bucket", "probe_reason_bucket", "series", "rollup"),
                *("advisor_state", "kept_sum", "firing_tier"),  # layouts 6 and 7
            ):
                conn.execute(f"DROP TABLE {table}")
            for ddl in layout5.LAYOUT_4_DDL:
                conn.execute(ddl)
            conn.execute("PRAGMA user_version = 4")
        for node in nodes(node_count):
            rows += _node(conn, rng, node, first, now_minute, layout)
        if layout != 4:
            tiers.mark_rolled(conn, now_minute)
        conn.execute("COMMIT")
    finally:
        conn.close()
    return rows


def _node(
    conn: sqlite3.Connection, rng: random.Random, node: Node, first: int, now: int, layout: int
) -> int:
    interval = node.probes[0].interval.total_seconds()
    per_minute = 60.0 / interval
    incidents = [
        (rng.randrange(first, now), rng.randrange(5, 90)) for _ in range(3 * (first < now))
    ]
    ids: dict[str, tuple[object, ...]] = {}
    for slo in node.slos:
        name = f"{node.name}/{slo.name}"
        if layout == 4:
            ids[slo.name] = (name,)
            continue
        conn.execute("INSERT INTO series (kind, name, part) VALUES ('sli', ?, '')", (name,))
        ids[slo.name] = (conn.execute("SELECT last_insert_rowid()").fetchone()[0],)
    probe_key: tuple[object, ...] = (node.name, PROBE)
    if layout != 4:
        conn.execute("INSERT INTO series (kind, name, part) VALUES ('probe', ?, ?)", probe_key)
        probe_key = (conn.execute("SELECT last_insert_rowid()").fetchone()[0],)
    spans = _spans(first, now, now) if layout != 4 else ((m, 1) for m in range(first, now))
    sli: list[tuple[object, ...]] = []
    probes: list[tuple[object, ...]] = []
    reasons: list[tuple[object, ...]] = []
    latency: list[tuple[str, str, int, int, int]] = []
    raw: list[tuple[object, ...]] = []
    raw_from = now - RAW_HOURS * 60
    for start, span in spans:
        runs = max(1, round(per_minute * span + rng.uniform(-0.5, 0.5)))
        down = any(s <= start < s + length for s, length in incidents)
        failures = runs if down else sum(rng.random() < 0.001 for _ in range(min(runs, 60)))
        slow = failures + sum(rng.random() < 0.005 for _ in range(min(runs - failures, 60)))
        sli.append((*ids["availability"], start, runs, failures))
        sli.append((*ids["latency"], start, runs, min(runs, slow)))
        ok = runs - failures
        probes.append((*probe_key, start, runs, failures, runs * 0.05))
        if failures:
            reasons.append((*probe_key, start, "timeout" if down else "status", failures))
        if ok:
            fast = round(ok * 0.9)
            latency.append((node.name, PROBE, start, bucket_of(0.04), fast))
            if ok - fast:
                latency.append((node.name, PROBE, start, bucket_of(0.2), ok - fast))
        every = int(RAW_SUCCESS_EVERY.total_seconds() // 60)  # one success per that many minutes
        for minute in range(max(start, raw_from), start + span):
            if minute % every:
                continue
            raw.append((minute * 60.0 + 1, node.name, PROBE, "success", "ok", 200, 0.05, ""))
        if start >= raw_from:  # and every failure
            raw.extend(
                (
                    start * 60.0 + 31 + i / 100,
                    node.name,
                    PROBE,
                    "failure",
                    "status",
                    503,
                    0.05,
                    "503",
                )
                for i in range(failures)
            )
    for table, rows in (
        ("sli_bucket", sli),
        ("probe_bucket", probes),
        ("probe_reason_bucket", reasons),
    ):
        if rows:
            marks = ", ".join("?" for _ in rows[0])
            conn.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
    conn.executemany(
        "INSERT INTO latency_bucket (node, probe, minute, bucket, runs) VALUES (?, ?, ?, ?, ?)",
        latency,
    )
    conn.executemany(
        "INSERT INTO probe_result (started_at, node, probe, outcome, reason, status, duration,"
        " connect_seconds, tls_seconds, first_byte_seconds, detail)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, 0.01, NULL, 0.04, ?)",
        raw,
    )
    return len(sli) + len(probes) + len(reasons) + len(latency) + len(raw)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=500, help="nodes (2 SLOs each), default 500")
    ap.add_argument("--days", type=float, default=28.0, help="days of history, default 28")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--layout", type=int, choices=(4, 5), default=5, help="4: as layout 4 held it (per minute)"
    )
    ap.add_argument("-o", "--output", type=Path, required=True, help="the new store file")
    args = ap.parse_args()
    started = time.perf_counter()
    rows = write(args.output, args.nodes, args.days, seed=args.seed, layout=args.layout)
    size = args.output.stat().st_size
    print(
        f"{args.output}: {args.nodes} nodes, {args.days:g} days, {rows:,} rows,"
        f" {size / 1e6:.1f} MB in {time.perf_counter() - started:.1f} s"
    )


if __name__ == "__main__":
    main()
