"""The alert tiers that fired at the agent's last evaluation, kept in the store so that a
restart does not forget them.

A firing tier holds while its short window has no data and its long window still burns
(:mod:`agent.slo.alerts`): during an outage the agent's own stop empties the short window, and
without the tiers that fired before it, the first evaluation after the start would end a page
that should hold, and start it again once new runs fill the window (a resolve and re-fire
that Alertmanager would route). The agent saves the firing tiers after each evaluation that
changed them (a few rows), so a crash keeps them too; at start the first evaluation takes them
as the tiers firing before. Rows that cannot be right (an unknown severity, over-long names)
are ignored.

Table ``firing_tier`` (layout 7): one row per firing tier of an SLO.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterable, Mapping

from agent.model import Severity
from agent.slo.status import SloKey, TierKey

FIRING_TIER_DDL: tuple[str, ...] = (
    """CREATE TABLE firing_tier (
    owner TEXT NOT NULL,       -- the node or journey
    slo TEXT NOT NULL,
    severity TEXT NOT NULL,    -- page | ticket
    long TEXT NOT NULL,        -- the tier's long window label ("1h")
    short TEXT NOT NULL,       -- its short window label ("5m")
    PRIMARY KEY (owner, slo, severity, long, short)
) WITHOUT ROWID""",
)

MAX_NAME = 256  # longer than any name a spec allows: such a row is not the agent's
MAX_ROWS = 100_000  # read at most this many (every tier of 10,000 SLOs is 40,000)

Firing = Mapping[SloKey, Collection[TierKey]]


def read(conn: sqlite3.Connection) -> dict[SloKey, frozenset[TierKey]]:
    """The saved firing tiers per SLO (only SLOs with any)."""
    rows = conn.execute(
        "SELECT owner, slo, severity, long, short FROM firing_tier LIMIT ?", (MAX_ROWS,)
    )
    out: dict[SloKey, set[TierKey]] = {}
    for owner, slo, severity, long, short in rows:
        texts = (owner, slo, severity, long, short)
        if not all(isinstance(t, str) and 0 < len(t) <= MAX_NAME for t in texts):
            continue
        if severity not in Severity.__members__.values():
            continue
        out.setdefault(SloKey(owner, slo), set()).add(TierKey(Severity(severity), long, short))
    return {key: frozenset(tiers) for key, tiers in out.items()}


def write(conn: sqlite3.Connection, firing: Firing) -> None:
    """Replace the saved firing tiers with ``firing`` (inside the caller's transaction)."""
    conn.execute("DELETE FROM firing_tier")
    conn.executemany(
        "INSERT INTO firing_tier (owner, slo, severity, long, short) VALUES (?, ?, ?, ?, ?)",
        _rows(firing),
    )


def _rows(firing: Firing) -> Iterable[tuple[str, str, str, str, str]]:
    for key, tiers in firing.items():
        for tier in tiers:
            yield key.owner, key.slo, tier.severity.value, tier.long, tier.short
