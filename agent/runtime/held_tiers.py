"""Alert tiers that keep firing across a restart of the agent.

A firing tier holds while its short window has no data and its long window still burns
(:mod:`agent.slo.alerts`), which needs the tiers that fired at the evaluation before. The
first evaluation after a start had none: stopping the agent during an outage empties the short
window, so its first evaluation ended a page that should hold, and new runs started it again
(a resolve and a re-fire pushed to Alertmanager). :class:`HeldTiers` saves the firing tiers in
the store after every evaluation that changed them and gives them to the first evaluation of
the next start (a crash keeps them too). A tier saved long ago holds nothing: its long window
no longer burns on what the store holds.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Mapping
from typing import Protocol

from agent.errors import StoreError
from agent.slo.status import SloKey, Snapshot, TierKey

log = logging.getLogger(__name__)

Firing = Mapping[SloKey, frozenset[TierKey]]


class FiringStore(Protocol):
    def firing_tiers(self) -> Firing: ...

    def save_firing_tiers(self, firing: Mapping[SloKey, Collection[TierKey]]) -> None: ...


class HeldTiers:
    """The firing tiers of the last evaluation, as saved in a store."""

    def __init__(self, store: FiringStore) -> None:
        self._store = store
        self._saved: Firing | None = None  # what the store holds, once known

    async def restore(self) -> Firing:
        """The tiers saved by the agent's last evaluation before this start ({} if none, or
        if the store cannot be read: the first evaluation then starts without them)."""
        try:
            firing = await asyncio.to_thread(self._store.firing_tiers)
        except StoreError as exc:
            log.error("reading the alert tiers firing before the start failed: %s", exc)
            return {}
        self._saved = firing
        if firing:
            tiers = sum(len(t) for t in firing.values())
            log.info("%d alert tiers of %d SLOs were firing before the start", tiers, len(firing))
        return firing

    async def keep(self, snapshot: Snapshot) -> None:
        """Save ``snapshot``'s firing tiers if they changed since the last save."""
        firing = snapshot.firing_tiers()
        if firing == self._saved:
            return
        try:
            await asyncio.to_thread(self._store.save_firing_tiers, firing)
        except StoreError as exc:
            log.error("saving the firing alert tiers failed (kept for the next try): %s", exc)
            return
        self._saved = firing
