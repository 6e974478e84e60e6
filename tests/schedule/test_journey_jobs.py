"""Journeys are scheduled next to probes: one job per journey on its own interval."""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from datetime import timedelta

from agent.journeys.pipeline import journey_jobs_of
from agent.model import SpecSet
from agent.schedule.scheduler import JourneyJob, ProbeScheduler, Target
from tests.journeys.support import NODES, journey, step
from tests.support.builders import WORKBOOK, node
from tests.support.fakes import RecordingTelemetry, eventually

CHECKOUT = dataclasses.replace(
    journey(
        step("cart", "storefront", "http://shop.invalid/"),
        step("pay", "acme-pay", "http://pay.invalid/", fallback=("backup-pay", "http://b/")),
    ),
    interval=timedelta(seconds=0.1),
)


def test_a_job_per_journey_holds_the_nodes_of_its_steps_and_fallbacks() -> None:
    specs = SpecSet(
        nodes=tuple(NODES.values()), alert_windows={"default": WORKBOOK}, journeys=(CHECKOUT,)
    )
    jobs = journey_jobs_of(specs)
    assert list(jobs) == ["journey:checkout"]
    job = jobs["journey:checkout"]
    assert job.key == "journey:checkout"
    assert job.interval == timedelta(seconds=0.1)
    assert sorted(job.nodes) == ["acme-pay", "backup-pay", "storefront"]


async def test_journeys_and_probes_run_side_by_side() -> None:
    runs: Counter[str] = Counter()

    async def run(job: Target | JourneyJob) -> None:
        runs[job.key] += 1

    probe_target = Target(node("shop"), node("shop").probes[0])
    scheduler: ProbeScheduler[Target | JourneyJob] = ProbeScheduler(
        run, RecordingTelemetry(), clock=time.time
    )
    scheduler.start()
    try:
        jobs: dict[str, Target | JourneyJob] = {
            "journey:checkout": JourneyJob(CHECKOUT, NODES),
            probe_target.key: dataclasses.replace(
                probe_target,
                probe=dataclasses.replace(probe_target.probe, interval=timedelta(seconds=0.1)),
            ),
        }
        change = scheduler.apply(jobs)
        assert change.added == ("journey:checkout", "shop/authorize")
        await eventually(lambda: runs["journey:checkout"] >= 3 and runs["shop/authorize"] >= 3)

        slower = JourneyJob(dataclasses.replace(CHECKOUT, interval=timedelta(seconds=5)), NODES)
        change = scheduler.apply({**jobs, "journey:checkout": slower})
        assert change.rescheduled == ("journey:checkout",)
        change = scheduler.apply({probe_target.key: jobs[probe_target.key]})
        assert change.removed == ("journey:checkout",)
    finally:
        scheduler.shutdown()
