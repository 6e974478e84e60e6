from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from agent.model import SpecSet
from agent.runtime.fanout import ExportFanout
from agent.slo.status import Snapshot
from tests.support.builders import spec_set
from tests.support.fakes import RecordingTelemetry, eventually

SPECS = spec_set()


def _snap(t: float) -> Snapshot:
    return Snapshot(evaluated_at=t, nodes=())


@dataclass
class Exporter:
    name: str
    gate: asyncio.Event | None = None  # while unset, export() blocks
    result: bool = True
    raises: bool = False
    seen: list[float] = field(default_factory=list)
    closed: bool = False

    async def export(self, snapshot: Snapshot, specs: SpecSet) -> bool:
        self.seen.append(snapshot.evaluated_at)
        if self.gate is not None:
            await self.gate.wait()
        if self.raises:
            raise ConnectionError("receiver down")
        return self.result

    async def aclose(self) -> None:
        self.closed = True


async def test_a_busy_exporter_gets_only_the_latest_snapshot() -> None:
    gate = asyncio.Event()
    slow = Exporter("slow", gate=gate)
    fast = Exporter("fast")
    fanout = ExportFanout([slow, fast], RecordingTelemetry())
    fanout.publish(_snap(1), SPECS)
    await eventually(lambda: slow.seen == [1])
    for t in range(2, 100):  # 98 snapshots arrive while "slow" is stuck
        fanout.publish(_snap(t), SPECS)
        await asyncio.sleep(0)
    gate.set()
    await eventually(lambda: slow.seen[-1:] == [99])
    assert slow.seen == [1, 99]  # nothing piled up in between
    assert fast.seen[-1] == 99
    await fanout.aclose()
    assert slow.closed
    assert fast.closed


async def test_failures_are_counted_and_do_not_stop_other_exporters() -> None:
    telemetry = RecordingTelemetry()
    broken = Exporter("alertmanager", raises=True)
    refusing = Exporter("other", result=False)
    fine = Exporter("fine")
    fanout = ExportFanout([broken, refusing, fine], telemetry)
    for t in (1, 2, 3):
        fanout.publish(_snap(t), SPECS)

        def delivered(t: int = t) -> bool:
            return fine.seen[-1:] == [t] and len(broken.seen) >= t

        await eventually(delivered)
    await eventually(lambda: telemetry.export_failures.get("other", 0) == 3)
    assert telemetry.export_failures["alertmanager"] == 3
    assert "fine" not in telemetry.export_failures
    await fanout.aclose()


async def test_a_hanging_exporter_times_out_and_is_counted() -> None:
    telemetry = RecordingTelemetry()
    hanging = Exporter("hangs", gate=asyncio.Event())
    fanout = ExportFanout([hanging], telemetry, timeout=0.05)
    fanout.publish(_snap(1), SPECS)
    await eventually(lambda: telemetry.export_failures.get("hangs", 0) == 1)
    await fanout.aclose()
