"""Hands each new status snapshot to every snapshot exporter (Alertmanager push, ...) without
ever blocking evaluation or probing.

Each exporter gets a one-slot mailbox and a worker task: while it is busy (a slow or unreachable
receiver), a newer snapshot replaces the one waiting, so memory stays bounded and the exporter
always catches up with the latest state. An exporter returns False or raises to report a failed
export; the fan-out counts it as ``slo_agent_export_failures_total{exporter}``, logs the first
failure of a streak with its cause, and goes on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Protocol

from agent.model import SpecSet
from agent.slo.status import Snapshot

log = logging.getLogger(__name__)


class SnapshotExporter(Protocol):
    @property
    def name(self) -> str: ...

    async def export(self, snapshot: Snapshot, specs: SpecSet) -> bool:
        """Deliver ``snapshot``; True on success. Must not retry forever."""
        ...

    async def aclose(self) -> None: ...


class ExportFailures(Protocol):
    def count_export_failure(self, exporter: str) -> None: ...


class _Mailbox:
    def __init__(self) -> None:
        self.item: tuple[Snapshot, SpecSet] | None = None
        self.ready = asyncio.Event()

    def put(self, snapshot: Snapshot, specs: SpecSet) -> None:
        self.item = (snapshot, specs)  # a waiting older snapshot is simply replaced
        self.ready.set()

    async def take(self) -> tuple[Snapshot, SpecSet]:
        while self.item is None:
            self.ready.clear()
            await self.ready.wait()
        item, self.item = self.item, None
        return item


class ExportFanout:
    def __init__(
        self,
        exporters: Sequence[SnapshotExporter],
        failures: ExportFailures,
        *,
        timeout: float = 30.0,
    ) -> None:
        self._exporters = tuple(exporters)
        self._failures = failures
        self._timeout = timeout
        self._mailboxes = [_Mailbox() for _ in self._exporters]
        self._workers: list[asyncio.Task[None]] = []

    def publish(self, snapshot: Snapshot, specs: SpecSet) -> None:
        """Queue ``snapshot`` for every exporter; never waits."""
        if not self._workers and self._exporters:
            self._workers = [
                asyncio.create_task(self._work(exporter, mailbox), name=f"export {exporter.name}")
                for exporter, mailbox in zip(self._exporters, self._mailboxes, strict=True)
            ]
        for mailbox in self._mailboxes:
            mailbox.put(snapshot, specs)

    async def aclose(self) -> None:
        for worker in self._workers:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        self._workers = []
        for exporter in self._exporters:
            try:
                await exporter.aclose()
            except Exception:
                log.exception("exporter %s failed to close", exporter.name)

    async def _work(self, exporter: SnapshotExporter, mailbox: _Mailbox) -> None:
        failing = False
        while True:
            snapshot, specs = await mailbox.take()
            try:
                async with asyncio.timeout(self._timeout):
                    ok = await exporter.export(snapshot, specs)
                cause = "" if ok else "it reported a failure"
            except TimeoutError:
                ok, cause = False, f"no answer within {self._timeout:g}s"
            except Exception as exc:  # an exporter bug or I/O error must not stop the others
                ok, cause = False, f"{type(exc).__name__}: {exc}"
            if ok:
                if failing:
                    log.info("export to %s recovered", exporter.name)
                failing = False
                continue
            self._failures.count_export_failure(exporter.name)
            if not failing:
                log.warning("export to %s failed (%s); will keep trying", exporter.name, cause)
            failing = True
