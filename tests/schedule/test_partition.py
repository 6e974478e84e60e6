"""The probe workers' partition of one agent's jobs: disjoint, complete, stable, spread."""

from __future__ import annotations

import pytest

from agent.schedule.partition import partition, worker_of

KEYS = {f"node-{i}/probe-{i % 3}": i for i in range(1000)}


@pytest.mark.parametrize("workers", [1, 2, 3, 8])
def test_every_job_goes_to_exactly_one_worker(workers: int) -> None:
    parts = [partition(KEYS, i, workers) for i in range(workers)]
    assert sum(len(p) for p in parts) == len(KEYS)
    merged: dict[str, int] = {}
    for part in parts:
        assert not merged.keys() & part.keys()
        merged |= part
    assert merged == KEYS


def test_a_job_keeps_its_worker_whatever_else_is_scheduled() -> None:
    fewer = dict(list(KEYS.items())[:10])
    for i in range(2):
        assert partition(fewer, i, 2) == {
            k: v for k, v in partition(KEYS, i, 2).items() if k in fewer
        }


def test_two_workers_share_the_jobs_about_evenly() -> None:
    sizes = [len(partition(KEYS, i, 2)) for i in range(2)]
    assert min(sizes) >= 0.45 * len(KEYS), sizes


def test_no_workers_is_an_error() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        worker_of("a/b", 0)
