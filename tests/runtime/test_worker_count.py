"""The probe workers the agent starts when ``--probe-workers`` is not given, and the cores it
may use (a cgroup's CPU quota caps the CPUs it may run on)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.app import RunOptions, worker_settings
from agent.cli.main import app
from agent.cli.run_options import probe_workers
from agent.model import SpecSet
from agent.runtime.worker_count import (
    MAX_PROBE_WORKERS,
    WORKERS_FROM_SLOS,
    cgroup_quota,
    usable_cores,
    workers_for,
)
from agent.schedule.shard import parse_shard
from agent.spec.loader import load_specs
from bench.scale import write_specs


@pytest.mark.parametrize(
    ("slos", "cores", "expected"),
    [
        (0, 8, 0),
        (WORKERS_FROM_SLOS - 1, 8, 0),
        (WORKERS_FROM_SLOS, 1, 0),  # one core: a worker would only add a process
        (WORKERS_FROM_SLOS, 2, 1),
        (10_000, 64, 1),  # one worker runs ~2,000 probes/s; more are asked for (auto, N)
    ],
)
def test_workers_for_the_size_of_the_spec_set(slos: int, cores: int, expected: int) -> None:
    assert workers_for(slos, cores) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("max 100000\n", None),
        ("150000 100000\n", 1.5),
        ("50000 100000", 0.5),
        ("200000 100000", 2.0),
        ("0 100000", None),
        ("-1 100000", None),
        ("100000 0", None),
        ("lots of cpu", None),
        ("1 2 3", None),
        ("\xff\xfe", None),
    ],
)
def test_cgroup_quota_reads_cpu_max(tmp_path: Path, text: str, expected: float | None) -> None:
    cpu_max = tmp_path / "cpu.max"
    cpu_max.write_bytes(text.encode("latin-1"))
    assert cgroup_quota(cpu_max) == expected


def test_no_cpu_max_file_is_no_limit(tmp_path: Path) -> None:
    assert cgroup_quota(tmp_path / "missing") is None
    assert usable_cores(tmp_path / "missing") == len(os.sched_getaffinity(0))


@pytest.mark.parametrize(("quota", "cap"), [(50_000, 1), (100_000, 1), (150_000, 2)])
def test_a_cpu_limit_caps_the_usable_cores(tmp_path: Path, quota: int, cap: int) -> None:
    cpu_max = tmp_path / "cpu.max"
    cpu_max.write_text(f"{quota} 100000\n")
    assert usable_cores(cpu_max) == min(cap, len(os.sched_getaffinity(0)))


def test_auto_counts_the_usable_cores() -> None:
    assert probe_workers("auto") == min(usable_cores(), MAX_PROBE_WORKERS)
    assert probe_workers(None) is None
    assert probe_workers("3") == 3


def _spec_set(tmp_path: Path, nodes: int) -> SpecSet:
    specs = tmp_path / "specs"
    specs.mkdir()
    write_specs(specs, nodes, "http://127.0.0.1:9/health", None)
    return load_specs(sorted(specs.glob("*.yaml")), {})


def test_unset_probe_workers_start_workers_past_the_threshold(tmp_path: Path) -> None:
    big = _spec_set(tmp_path, WORKERS_FROM_SLOS // 2)  # two SLOs a node
    options = RunOptions(spec_args=(), store_path=tmp_path / "s.db", probe_workers=None)
    settings = worker_settings(options, {}, big, cores=lambda: 2)
    assert settings is not None
    assert settings.count == 1
    assert worker_settings(options, {}, big, cores=lambda: 1) is None
    # the SLOs this replica owns count, not the whole set's
    half = RunOptions(
        spec_args=(), store_path=tmp_path / "s.db", probe_workers=None, shard=parse_shard("0/2", "")
    )
    assert worker_settings(half, {}, big, cores=lambda: 2) is None
    # an explicit value wins either way
    one = RunOptions(spec_args=(), store_path=tmp_path / "s.db", probe_workers=1)
    assert worker_settings(one, {}, big, cores=lambda: 8) is None


def test_unset_probe_workers_probe_in_process_below_the_threshold(tmp_path: Path) -> None:
    small = _spec_set(tmp_path, 10)
    options = RunOptions(spec_args=(), store_path=tmp_path / "s.db", probe_workers=None)
    assert worker_settings(options, {}, small, cores=lambda: 8) is None
    three = RunOptions(spec_args=(), store_path=tmp_path / "s.db", probe_workers=3)
    settings = worker_settings(three, {}, small, cores=lambda: 1)
    assert settings is not None
    assert settings.count == 3


def test_run_help_states_the_default() -> None:
    done = CliRunner().invoke(app, ["run", "--help"], env={"COLUMNS": "300"})
    text = " ".join(done.output.replace("│", " ").split())
    assert (
        "Unset: the agent's own process below 2,000 SLOs or on one core, else one worker process."
        in text
    )
