"""At a start, the failure book (:mod:`agent.runtime.failures`) takes each fallback drill's
last failure from the store, so the status API and the status page show the same drill
failures after a restart as before it (the book would otherwise stay empty until a drill fails
again, an hour or a day later for most drills; ``report`` reads the store itself).

What the book keeps of a drill is its last failed run and whether its latest run failed; the
store holds every drill run with its time, outcome and (since layout 8) reason, so the book gets
exactly that back: one failed run per drill of the specs this agent runs, read from the newest
end of the store's index (:mod:`agent.store.last_drill_failures`). The target's words (the
detail) are not stored; a restored failure says so.

Not restored: a probe's last failure (its trace id is not stored, and the raw results that keep
every failure reach back ``raw_retention``, 48 h by default, where the book reaches back to the
start: older failures would be missing, so the two would differ) and a journey step's (the store
keeps per-minute step counts and the blamed runs, not a step's last failed run, its reason on
the fallback or its detail).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Protocol

from agent.errors import StoreError
from agent.model import SpecSet
from agent.runtime.drills import drill_jobs_of
from agent.runtime.failures import FailureBook
from agent.store.evidence import DrillKey
from agent.store.last_drill_failures import LastDrillFailure

log = logging.getLogger(__name__)


class DrillFailureStore(Protocol):
    def last_drill_failures(
        self, routes: Sequence[DrillKey]
    ) -> dict[DrillKey, LastDrillFailure]: ...


def restore_drill_failures(book: FailureBook, found: dict[DrillKey, LastDrillFailure]) -> int:
    """Give ``book`` the drill failures ``found`` in the store; return how many it took (a
    drill that failed since the start keeps its newer failure)."""
    return len(_taken(book, found))


def _taken(book: FailureBook, found: dict[DrillKey, LastDrillFailure]) -> list[LastDrillFailure]:
    taken = []
    for route, last in found.items():
        reason = None if last.reason is None else last.reason.value
        if book.restore_drill(route.node, route.fallback, last.started_at, reason, last.failing):
            taken.append(last)
    return taken


async def restore_from_store(book: FailureBook, specs: SpecSet, store: DrillFailureStore) -> int:
    """Read the last failures of ``specs``' drills from ``store`` (in a thread) into ``book``;
    a store that cannot be read is logged and the book starts empty."""
    routes = [job.identity for job in drill_jobs_of(specs).values()]
    if not routes:
        return 0
    try:
        found = await asyncio.to_thread(store.last_drill_failures, routes)
    except StoreError as exc:
        log.error("reading the fallback drills' last failures failed: %s", exc)
        return 0
    taken = _taken(book, found)
    if taken:
        failing = sum(1 for last in taken if last.failing)
        log.info(
            "%d fallback drills' last failures read from the store (%d failing at the last run)",
            len(taken),
            failing,
        )
    return len(taken)
