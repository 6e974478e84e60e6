"""Probe results and SLI events for store tests."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from agent.probes.result import Observation, Outcome, Phases, ProbeResult, Reason
from agent.slo.events import SliEvent
from agent.store import layout5

BASE = 1_700_000_040.0  # a minute start: 1_700_000_040 / 60 = 28_333_334


def probe_result(
    at: float,
    *,
    node: str = "shop",
    probe: str = "home",
    reason: Reason = Reason.OK,
    duration: float = 0.25,
    status: int | None = 200,
    phases: Phases | None = None,
    detail: str = "",
) -> ProbeResult:
    outcome = Outcome.SUCCESS if reason is Reason.OK else Outcome.FAILURE
    observation = Observation(outcome, reason, duration, status, phases or Phases(), detail)
    return ProbeResult(node=node, probe=probe, started_at=at, observation=observation)


def events(*pairs: tuple[str, bool]) -> list[SliEvent]:
    return [SliEvent(series, good) for series, good in pairs]


# Layout 3's probe_bucket, as that version wrote it: one counter column per failure reason.
V3_REASONS = ("timeout", "connect", "dns", "tls", "status", "assertion", "body_too_large", "error")
V3_PROBE_BUCKET = f"""CREATE TABLE probe_bucket (
    node TEXT NOT NULL,
    probe TEXT NOT NULL,
    minute INTEGER NOT NULL,
    total INTEGER NOT NULL,
    failures INTEGER NOT NULL,
    duration_sum REAL NOT NULL,
{"".join(f"    failed_{reason} INTEGER NOT NULL,{chr(10)}" for reason in V3_REASONS)}\
    PRIMARY KEY (node, probe, minute)
) WITHOUT ROWID"""


def to_layout_8(conn: sqlite3.Connection) -> None:
    """Undo layout 9 (``drill_run`` without its index by route) and mark the file as layout 8."""
    conn.execute("DROP INDEX IF EXISTS drill_run_by_route")
    conn.execute("PRAGMA user_version = 8")


def to_layout_7(conn: sqlite3.Connection) -> None:
    """Undo layouts 9 and 8 (``drill_run`` without its ``reason`` column, ``kept_sum`` without
    its index) and mark the file as layout 7."""
    to_layout_8(conn)
    conn.execute("DROP INDEX IF EXISTS kept_sum_by_lo")
    columns = [row[1] for row in conn.execute("PRAGMA table_info(drill_run)")]
    if "reason" in columns:
        conn.execute("ALTER TABLE drill_run DROP COLUMN reason")
    conn.execute("PRAGMA user_version = 7")


def to_layout_4(conn: sqlite3.Connection) -> None:
    """Turn today's series-id tables back into layout 4's (text keys, no series or rollup
    table, no table or column of a later layout) and mark the file as layout 4."""
    to_layout_7(conn)
    conn.execute("DROP TABLE IF EXISTS advisor_state")
    conn.execute("DROP TABLE IF EXISTS kept_sum")
    conn.execute("DROP TABLE IF EXISTS firing_tier")
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'series'").fetchone():
        return
    join = "JOIN series AS s ON s.id = b.sid"
    sli = conn.execute(f"SELECT s.name, b.minute, b.total, b.bad FROM sli_bucket AS b {join}")
    sli_rows = sli.fetchall()
    probes = conn.execute(
        "SELECT s.name, s.part, b.minute, b.total, b.failures, b.duration_sum"
        f" FROM probe_bucket AS b {join}"
    ).fetchall()
    reasons = conn.execute(
        "SELECT s.name, s.part, b.minute, b.reason, b.failures"
        f" FROM probe_reason_bucket AS b {join}"
    ).fetchall()
    for table in ("sli_bucket", "probe_bucket", "probe_reason_bucket", "series", "rollup"):
        conn.execute(f"DROP TABLE {table}")
    for ddl in layout5.LAYOUT_4_DDL:
        conn.execute(ddl)
    conn.executemany("INSERT INTO sli_bucket VALUES (?, ?, ?, ?)", sli_rows)
    conn.executemany("INSERT INTO probe_bucket VALUES (?, ?, ?, ?, ?, ?)", probes)
    conn.executemany("INSERT INTO probe_reason_bucket VALUES (?, ?, ?, ?, ?)", reasons)
    conn.execute("PRAGMA user_version = 4")


def to_layout_3(conn: sqlite3.Connection) -> None:
    """Turn today's probe tables back into layout 3's (reason counts back in columns)."""
    to_layout_4(conn)
    reasons = {
        (node, probe, minute, reason): n
        for node, probe, minute, reason, n in conn.execute("SELECT * FROM probe_reason_bucket")
    }
    rows = conn.execute(
        "SELECT node, probe, minute, total, failures, duration_sum FROM probe_bucket"
    ).fetchall()
    conn.execute("DROP TABLE probe_reason_bucket")
    conn.execute("DROP TABLE probe_bucket")
    conn.execute(V3_PROBE_BUCKET)
    marks = ", ".join("?" for _ in range(6 + len(V3_REASONS)))
    for row in rows:
        counts = [reasons.get((*row[:3], reason), 0) for reason in V3_REASONS]
        conn.execute(f"INSERT INTO probe_bucket VALUES ({marks})", (*row, *counts))


def sli_table(
    conn: sqlite3.Connection, series: Sequence[str], rows: Sequence[tuple[str, int, int, int]]
) -> None:
    """Layout 5's ``series`` and ``sli_bucket`` in ``conn``, holding ``series`` (ids 1, 2, ...)
    and ``rows`` of (series, minute, total, bad) (bad capped at total)."""
    conn.execute(layout5.SERIES_DDL)
    conn.execute(layout5.SLI_BUCKET_DDL)
    conn.executemany(
        "INSERT INTO series (id, kind, name, part) VALUES (?, 'sli', ?, '')",
        [(i + 1, name) for i, name in enumerate(series)],
    )
    ids = {name: i + 1 for i, name in enumerate(series)}
    conn.executemany(
        "INSERT INTO sli_bucket (sid, minute, total, bad) VALUES (?, ?, ?, ?)",
        [(ids[name], minute, total, min(bad, total)) for name, minute, total, bad in rows],
    )
