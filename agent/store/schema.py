"""The store's file layout, and how a file is recognised, created and opened.

A store file carries ``PRAGMA application_id`` = :data:`APPLICATION_ID` and its layout version
in ``PRAGMA user_version``. Opening refuses, with :class:`~agent.errors.StoreError`, a file that
is not SQLite, an SQLite database of another application, or a store written by a newer
version; an empty or missing file becomes a new store, and a store of an older layout is
migrated in place (:data:`MIGRATIONS`).

Layout versions: 1, SLI and probe buckets and raw probe results; 2, plus the journey tables of
:mod:`agent.store.journeys`; 3, plus the advisor's evidence of :mod:`agent.store.evidence_sql`
(latency histograms, drill runs, failure runs), empty after a migration: they count from then;
4, failures by reason as rows of ``probe_reason_bucket`` (one per node, probe, minute and
reason seen) instead of one ``failed_<reason>`` column each in ``probe_bucket``, so a new reason
or probe kind needs no new layout; the counts are moved, not lost; 5, integer series ids
(``series``) in the SLI and probe buckets and tiered history (:mod:`agent.store.layout5`,
:mod:`agent.store.tiers`): the counts are moved and older ones rolled up, not lost; 6, plus
``advisor_state``, the advisor's persisted hysteresis state (empty after a migration: the
first start replays); 7, plus ``kept_sum``, the evaluations' window sums saved at a clean close
(:mod:`agent.store.saved_sums`; empty after a migration: the first start sums afresh), and
``firing_tier``, the alert tiers firing at the last evaluation (:mod:`agent.store.firing_sql`); 8,
a ``reason`` column in ``drill_run`` (why a drill run failed: NULL for passed runs and for runs
stored before it) and an index on ``kept_sum (lo)`` for the deletes a roll-up chunk or a
pruning step makes (:mod:`agent.store.saved_sums`); every row is kept; 9, an index on
``drill_run (node, fallback, ok, started_at)``, so a start reads each drill's last failure in two
seeks (:mod:`agent.store.last_drill_failures`); every row is kept. Each
step refuses the file to older versions, which would write to it without knowing the table.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from agent.errors import StoreError
from agent.store import (
    evidence_sql,
    firing_sql,
    journeys,
    last_drill_failures,
    layout5,
    saved_sums,
)

APPLICATION_ID = 0x534C4F41  # "SLOA"
SCHEMA_VERSION = 9

# After a checkpoint the write-ahead log is truncated to at most this many bytes.
WAL_SIZE_LIMIT = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class BucketTable:
    """A table of per-minute buckets: primary key ``(*keys, minute)``."""

    name: str
    keys: tuple[str, ...]


SLI_BUCKETS = BucketTable("sli_bucket", ("sid",))
PROBE_BUCKETS = BucketTable("probe_bucket", ("sid",))
PROBE_REASON_BUCKETS = BucketTable("probe_reason_bucket", ("sid",))
JOURNEY_STEP_BUCKETS = BucketTable("journey_step_bucket", ("journey", "step"))
JOURNEY_BLAME_BUCKETS = BucketTable("journey_blame_bucket", ("journey", "step", "node", "reason"))
LATENCY_BUCKETS = BucketTable("latency_bucket", ("node", "probe"))

_PROBE_BUCKET_DDL = """CREATE TABLE probe_bucket (
    node TEXT NOT NULL,
    probe TEXT NOT NULL,
    minute INTEGER NOT NULL,
    total INTEGER NOT NULL,
    failures INTEGER NOT NULL,
    duration_sum REAL NOT NULL,
    PRIMARY KEY (node, probe, minute)
) WITHOUT ROWID"""
_PROBE_REASON_BUCKET_DDL = """CREATE TABLE probe_reason_bucket (
    node TEXT NOT NULL,
    probe TEXT NOT NULL,
    minute INTEGER NOT NULL,
    reason TEXT NOT NULL,      -- a failure reason's name: "timeout", "status", ...
    failures INTEGER NOT NULL,
    PRIMARY KEY (node, probe, minute, reason)
) WITHOUT ROWID"""

DDL: tuple[str, ...] = (
    *layout5.DDL,  # series, sli_bucket, probe_bucket, probe_reason_bucket, rollup
    # Append-only with a rowid: two results may share (node, probe, started_at).
    """CREATE TABLE probe_result (
    id INTEGER PRIMARY KEY,
    started_at REAL NOT NULL,
    node TEXT NOT NULL,
    probe TEXT NOT NULL,
    outcome TEXT NOT NULL,
    reason TEXT NOT NULL,
    status INTEGER,
    duration REAL NOT NULL,
    connect_seconds REAL,
    tls_seconds REAL,
    first_byte_seconds REAL,
    detail TEXT NOT NULL
)""",
    "CREATE INDEX probe_result_by_time ON probe_result (started_at)",
    "CREATE INDEX probe_result_by_probe ON probe_result (node, probe, started_at)",
    *journeys.DDL,
    *evidence_sql.DDL,
    *evidence_sql.ADVISOR_STATE_DDL,
    *saved_sums.KEPT_SUM_DDL,
    *firing_sql.FIRING_TIER_DDL,
    *evidence_sql.DRILL_REASON_DDL,
    *saved_sums.KEPT_SUM_INDEX_DDL,
    *last_drill_failures.ROUTE_INDEX_DDL,
)

# The reasons layout 3 kept as columns of probe_bucket: history, never to change.
_V3_REASONS = ("timeout", "connect", "dns", "tls", "status", "assertion", "body_too_large", "error")

# Layout 3 -> 4: reason counts move from columns to rows, then probe_bucket is rebuilt without
# the columns (copied, dropped, renamed: one rewrite of the table).
_REASONS_TO_ROWS: tuple[str, ...] = (
    _PROBE_REASON_BUCKET_DDL,
    *(
        "INSERT INTO probe_reason_bucket (node, probe, minute, reason, failures)"
        f" SELECT node, probe, minute, '{reason}', failed_{reason} FROM probe_bucket"
        f" WHERE failed_{reason} > 0"
        for reason in _V3_REASONS
    ),
    _PROBE_BUCKET_DDL.replace("probe_bucket", "probe_bucket_v4", 1),
    "INSERT INTO probe_bucket_v4 (node, probe, minute, total, failures, duration_sum)"
    " SELECT node, probe, minute, total, failures, duration_sum FROM probe_bucket",
    "DROP TABLE probe_bucket",
    "ALTER TABLE probe_bucket_v4 RENAME TO probe_bucket",
)

# version -> the statements (or the function) that bring a store of that version to the next
MIGRATIONS: dict[int, tuple[str, ...] | Callable[[sqlite3.Connection, float], None]] = {
    1: journeys.DDL,
    2: evidence_sql.DDL,
    3: _REASONS_TO_ROWS,
    4: layout5.migrate,
    5: evidence_sql.ADVISOR_STATE_DDL,
    6: (*saved_sums.KEPT_SUM_DDL, *firing_sql.FIRING_TIER_DDL),
    7: (*evidence_sql.DRILL_REASON_DDL, *saved_sums.KEPT_SUM_INDEX_DDL),
    8: last_drill_failures.ROUTE_INDEX_DDL,
}


def connect(
    path: Path, busy_timeout: float, clock: Callable[[], float] = time.time
) -> sqlite3.Connection:
    """Open (creating if needed) the store at ``path``; raise StoreError for a file we must not
    touch. The connection is in autocommit mode: callers issue BEGIN/COMMIT themselves.
    ``clock`` (unix seconds) tells a migration which history to roll up."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            f"cannot create the store directory {path.parent}: {exc.strerror}"
        ) from exc
    unusable = unusable_reason(path)
    if unusable:
        raise StoreError(f"cannot open the store {path}: {unusable}")
    try:
        conn = sqlite3.connect(
            path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
        )
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open the store {path}: {exc}") from exc
    try:
        _prepare(conn, path, clock)
    except BaseException:
        conn.close()
        raise
    return conn


def unusable_reason(path: Path) -> str:
    """Why ``path`` cannot hold a store, in words, or "" when nothing is known against it. A
    store needs write access even to be read: SQLite's write-ahead log keeps an index file
    next to it."""
    if path.is_dir():
        return "it is a directory, not a store file (give a file name, e.g. slo-agent.db)"
    if path.exists() and not path.is_file():
        return "it is not a regular file"
    try:
        read_only = bool(os.statvfs(path.parent).f_flag & os.ST_RDONLY)
    except OSError:
        read_only = False
    if read_only:
        return (
            "its directory is on a read-only file system (the store needs write access, also "
            "to be read: SQLite keeps its write-ahead log index next to it)"
        )
    if not os.access(path.parent, os.W_OK | os.X_OK):
        return f"no permission to write in {path.parent}"
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        return "no permission to read and write it"
    return ""


def _prepare(conn: sqlite3.Connection, path: Path, clock: Callable[[], float]) -> None:
    try:
        app_id, version, objects = _header(conn)
    except sqlite3.DatabaseError as exc:
        raise StoreError(
            f"{path} is not a slo-agent store: not an SQLite database ({exc})"
        ) from exc
    try:
        if (app_id, version, objects) == (0, 0, 0):
            _create(conn)
            app_id, version, objects = _header(conn)
        _check(path, app_id, version)
        if version < SCHEMA_VERSION:
            _migrate(conn, clock)
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise StoreError(f"cannot use the store {path}: write-ahead logging is unavailable")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute(f"PRAGMA journal_size_limit = {WAL_SIZE_LIMIT}")
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open the store {path}: {exc}") from exc


def verify(conn: sqlite3.Connection, path: Path) -> int:
    """The layout version of the store open on ``conn`` (read only: nothing is created or
    migrated); StoreError for a file of another application or of a newer version."""
    try:
        app_id, version, _ = _header(conn)
    except sqlite3.DatabaseError as exc:
        raise StoreError(
            f"{path} is not a slo-agent store: not an SQLite database ({exc})"
        ) from exc
    _check(path, app_id, version)
    return version


def _header(conn: sqlite3.Connection) -> tuple[int, int, int]:
    app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    objects = int(conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0])
    return app_id, version, objects


def _check(path: Path, app_id: int, version: int) -> None:
    if app_id != APPLICATION_ID:
        raise StoreError(
            f"{path} is not a slo-agent store: an SQLite database of another application"
        )
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{path} was written by a newer slo-agent (store schema {version}; this version "
            f"reads schema {SCHEMA_VERSION} and older)"
        )
    if version < 1:
        raise StoreError(f"{path} is a damaged slo-agent store: no schema version")


def _create(conn: sqlite3.Connection) -> None:
    # auto_vacuum must be chosen before the first table exists. INCREMENTAL lets prune() hand
    # a large surplus of free pages back to the file system; in steady state freed pages are
    # simply reused by new rows.
    conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
    conn.execute("BEGIN IMMEDIATE")
    try:
        if _header(conn) == (0, 0, 0):  # another process may have created it meanwhile
            for statement in DDL:
                conn.execute(statement)
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _migrate(conn: sqlite3.Connection, clock: Callable[[], float]) -> None:
    """Bring an older store to :data:`SCHEMA_VERSION`, one version per step, in one
    transaction (another process may be migrating the same file: the version is read again
    under the write lock)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        while version < SCHEMA_VERSION:
            step = MIGRATIONS[version]
            if callable(step):
                step(conn, clock())
            else:
                for statement in step:
                    conn.execute(statement)
            version += 1
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
