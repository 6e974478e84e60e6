"""Hostile-target soak: a real ``slo-agent run`` probes one hostile loopback target next to three
healthy ones, for each fault in turn. Its memory stays under a stated bound, the healthy probes
all succeed, the hostile ones all fail, and every result's reason is a documented one.

Bounded: each case runs the agent for SOAK_SECONDS (about 10 s with start and stop), the whole
file well under two minutes; the RSS watch stops a case as soon as the bound is crossed.
"""

from __future__ import annotations

import re
import time
import zlib
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import httpx
import pytest

from tests.support.agents import agent_process, metric_samples, node_spec, write_specs
from tests.support.processes import rss_bytes
from tests.support.targets import (
    Behaviour,
    Close,
    Drip,
    EndlessHead,
    Garbage,
    Hang,
    HangMidBody,
    Oversized,
    Reply,
    Reset,
    ThreadedTarget,
)

pytestmark = [pytest.mark.soak, pytest.mark.timeout(60)]

MiB = 1024 * 1024
RSS_BOUND = 128 * MiB  # the agent's resident memory at any point of a case (measured: 65-66 MiB)
SOAK_SECONDS = 6.0
HEALTHY_INTERVAL = 0.25  # seconds, and a healthy probe's timeout: success is < 250 ms
README = Path(__file__).resolve().parents[2] / "README.md"


def _documented_reasons() -> set[str]:
    match = re.search(r"Probe `reason` is one of\s+`([a-z_ ]+)`", README.read_text())
    assert match, "README.md no longer lists the probe reasons"
    return set(match.group(1).split())


@cache
def _gzip_bomb() -> bytes:
    """256 MiB of zeros, gzip-compressed to about 250 KiB."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(MiB)
    return b"".join(packer.compress(block) for _ in range(256)) + packer.flush()


@dataclass(frozen=True)
class Case:
    behaviour: Behaviour
    expect: str = ""  # YAML for the hostile probe's ``expect``, if any


ENDLESS = 1 << 40  # bytes: more than any probe would ever read

CASES = {
    "hang before headers": Case(Hang()),
    "hang mid-body": Case(HangMidBody()),
    "drip": Case(Drip(interval=0.05)),
    "endless body": Case(Oversized(size=ENDLESS, chunked=True)),
    "endless headers": Case(EndlessHead()),
    "reset": Case(Reset()),
    "garbage": Case(Garbage()),
    "accept then close": Case(Close()),
    "gzip bomb": Case(Reply(200, b"", headers={"Content-Encoding": "gzip"})),  # body: below
    "catastrophic regex": Case(Reply(200, b"a" * 26), expect="{body_regex: '(a+)+\\}'}"),
}

PENDING: dict[str, str] = {}  # case -> the fix it waits for (xfail, strict)


def _params() -> Iterator[object]:
    for name in CASES:
        marks = []
        if name in PENDING:
            marks.append(pytest.mark.xfail(strict=True, reason=PENDING[name]))
        yield pytest.param(name, id=name, marks=marks)


def _results(url: str) -> dict[tuple[str, str, str], float]:
    """``slo_agent_probe_results_total`` by (node, outcome, reason)."""
    response = httpx.get(f"{url}/metrics", timeout=10)
    response.raise_for_status()
    out: dict[tuple[str, str, str], float] = {}
    for (name, labels), value in metric_samples(response.text).items():
        if name == "slo_agent_probe_results_total":
            label = dict(labels)
            key = (label["node"], label["outcome"], label["reason"])
            out[key] = out.get(key, 0.0) + value
    return out


def _total(results: dict[tuple[str, str, str], float], node: str, outcome: str) -> float:
    return sum(v for (n, o, _), v in results.items() if n == node and o == outcome)


@pytest.mark.parametrize("case", list(_params()))
def test_hostile_target_soak(case: str, tmp_path: Path) -> None:
    behaviour = CASES[case].behaviour
    if case == "gzip bomb":
        behaviour = Reply(200, _gzip_bomb(), headers={"Content-Encoding": "gzip"})
    with ExitStack() as stack:
        healthy = [
            stack.enter_context(ThreadedTarget({"/health": Reply(200, b'{"status": "ok"}')}))
            for _ in range(3)
        ]
        hostile = stack.enter_context(ThreadedTarget({"/hostile": behaviour}))
        specs = {
            f"healthy-{i}": node_spec(f"healthy-{i}", t.url("/health"), interval="250ms")
            for i, t in enumerate(healthy)
        }
        specs["hostile"] = node_spec(
            "hostile", hostile.url("/hostile"), interval="1s", expect=CASES[case].expect
        )
        spec_dir = write_specs(tmp_path / "specs", **specs)
        proc, url = stack.enter_context(agent_process(spec_dir, tmp_path / "s.db"))

        peak = 0
        deadline = time.monotonic() + SOAK_SECONDS
        while time.monotonic() < deadline:  # every 100 ms: at most SOAK_SECONDS * 10 reads
            assert proc.poll() is None, f"the agent exited ({proc.returncode})"
            peak = max(peak, rss_bytes(proc.pid))
            assert peak < RSS_BOUND, f"RSS {peak / MiB:.0f} MiB over {RSS_BOUND / MiB:.0f} MiB"
            time.sleep(0.1)
        results = _results(url)
        hostile_runs = hostile.request_count

    documented = _documented_reasons()
    assert {reason for (_, _, reason) in results} <= documented, results
    expected_runs = SOAK_SECONDS / HEALTHY_INTERVAL
    for i in range(3):
        node = f"healthy-{i}"
        assert _total(results, node, "failure") == 0, (node, results)
        # probes did not stall behind the hostile one: at least half of the scheduled runs
        assert _total(results, node, "success") >= expected_runs / 2, (node, results)
    assert hostile_runs >= 1
    assert _total(results, "hostile", "failure") >= 1, results
    assert _total(results, "hostile", "success") == 0, results
