"""SortedJobStore against APScheduler's own MemoryJobStore: the same operations must leave both
with the same jobs in the same order, the same due jobs and the same next run time."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.job import Job
from apscheduler.jobstores.base import BaseJobStore, ConflictingIdError, JobLookupError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.triggers.interval import IntervalTrigger

from agent.schedule.jobstore import SortedJobStore

T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def _noop() -> None:
    return None


class _Scheduler:
    """All a Job asks of its scheduler: the time zone of its next run time."""

    timezone = UTC


def _job(job_id: str, next_run: datetime | None) -> Job:
    return Job(
        _Scheduler(),
        id=job_id,
        func=_noop,
        trigger=IntervalTrigger(seconds=1, timezone=UTC),
        executor="default",
        args=(),
        kwargs={},
        name=job_id,
        misfire_grace_time=1,
        coalesce=True,
        max_instances=1,
        next_run_time=next_run,
    )


def _when(rng: random.Random) -> datetime | None:
    if rng.random() < 0.05:
        return None  # paused
    # few distinct times, so that ties are broken by id often
    return T0 + timedelta(milliseconds=rng.randrange(0, 2_000, 250) + rng.choice((0, 0.5)))


def _state(store: BaseJobStore, now: datetime) -> tuple[object, ...]:
    return (
        [j.id for j in store.get_all_jobs()],
        [j.id for j in store.get_due_jobs(now)],
        store.get_next_run_time(),
    )


def test_the_same_operations_give_the_same_order_as_memory_job_store() -> None:
    rng = random.Random(20261121)
    ours, reference = SortedJobStore(), MemoryJobStore()
    ids = [f"node-{i:03d}/probe" for i in range(60)]
    for step in range(3_000):
        job_id = rng.choice(ids)
        present = reference.lookup_job(job_id) is not None
        action = rng.random()
        if not present:
            job = _job(job_id, _when(rng))
            for store in (ours, reference):
                store.add_job(job)
        elif action < 0.7:
            job = _job(job_id, _when(rng))
            for store in (ours, reference):
                store.update_job(job)
        elif action < 0.95:
            for store in (ours, reference):
                store.remove_job(job_id)
        else:
            for store in (ours, reference):
                store.remove_all_jobs()
        now = T0 + timedelta(milliseconds=rng.randrange(-100, 2_100, 125))
        assert _state(ours, now) == _state(reference, now), f"after step {step}"
        assert ours.lookup_job(job_id) is reference.lookup_job(job_id)


def test_errors_match_the_job_store_contract() -> None:
    store = SortedJobStore()
    store.add_job(_job("a", T0))
    with pytest.raises(ConflictingIdError):
        store.add_job(_job("a", T0))
    with pytest.raises(JobLookupError):
        store.update_job(_job("b", T0))
    with pytest.raises(JobLookupError):
        store.remove_job("b")
    assert store.lookup_job("b") is None
    store.shutdown()
    assert store.get_all_jobs() == []
    assert store.get_next_run_time() is None
