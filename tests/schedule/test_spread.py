from __future__ import annotations

from datetime import timedelta

from agent.schedule.spread import spread_offsets, stable_hash


def test_thousand_probes_get_a_thousand_distinct_milliseconds() -> None:
    jobs = [(f"node-{i}/probe", timedelta(seconds=1)) for i in range(1000)]
    offsets = spread_offsets(jobs)
    millis = {round(o * 1000) for o in offsets.values()}
    assert len(millis) == 1000
    assert min(offsets.values()) == 0.0
    assert max(offsets.values()) < 1.0


def test_jobs_of_each_interval_are_spread_over_that_interval() -> None:
    jobs = [(f"a{i}", timedelta(seconds=30)) for i in range(3)] + [
        (f"b{i}", timedelta(seconds=10)) for i in range(2)
    ]
    offsets = spread_offsets(jobs)
    assert sorted(offsets[f"a{i}"] for i in range(3)) == [0.0, 10.0, 20.0]
    assert sorted(offsets[f"b{i}"] for i in range(2)) == [0.0, 5.0]


def test_offsets_do_not_depend_on_input_order() -> None:
    jobs = [(f"n{i}/p", timedelta(seconds=5)) for i in range(50)]
    assert spread_offsets(jobs) == spread_offsets(list(reversed(jobs)))


def test_stable_hash_is_stable_across_processes() -> None:
    # a fixed value: hash() would differ per process with PYTHONHASHSEED
    assert stable_hash("acme-pay/authorize") == 0xE1930363A7AB7FEB
