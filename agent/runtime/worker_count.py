"""How many probe worker processes ``slo-agent run`` starts when ``--probe-workers`` is not
given, and how many cores the agent may use.

An evaluation of thousands of SLOs shares the agent's interpreter with the probe loop: with
10,000 SLOs and a month of history the scheduler's lag p99 reached 250 ms in one process,
against 5 ms with the probes in a worker process (bench/RESULTS.md). So past
:data:`WORKERS_FROM_SLOS` SLOs, on a machine where the agent may use two cores or more, the
probes run in one worker process and the agent's own interpreter is left to storing,
evaluating and serving. One worker runs ~2,000 plain HTTP probes a second, far more than
thousands of SLOs probed every 30 s need; more workers (``--probe-workers N|auto``) are for
more probes per second. Each is a Python process of ~90 MB, so below the threshold the agent
probes in its own process.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

WORKERS_FROM_SLOS = 2_000
"""SLOs from which the agent probes in worker processes unless ``--probe-workers`` says."""

MAX_PROBE_WORKERS = 64

CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")


def workers_for(slos: int, cores: int) -> int:
    """Probe worker processes for a spec set of ``slos`` SLOs on ``cores`` usable cores: none
    (the agent probes in its own process) below :data:`WORKERS_FROM_SLOS` or on one core,
    else one."""
    return 0 if slos < WORKERS_FROM_SLOS or cores < 2 else 1


def usable_cores(cpu_max: Path = CGROUP_CPU_MAX) -> int:
    """The cores this process may use: the CPUs it may run on, capped by its cgroup's CPU quota
    (a Kubernetes CPU limit; without the cap a pod limited to one CPU on a 64-core node would
    count 64)."""
    cores = len(os.sched_getaffinity(0))
    quota = cgroup_quota(cpu_max)
    return cores if quota is None else max(1, min(cores, math.ceil(quota)))


def cgroup_quota(cpu_max: Path = CGROUP_CPU_MAX) -> float | None:
    """The CPUs a cgroup v2 ``cpu.max`` file allows (``"<quota> <period>"``, ``"max"`` for no
    limit); None without a limit, or when the file is missing or unreadable."""
    try:
        text = cpu_max.read_text(encoding="ascii")[:64]
    except (OSError, UnicodeDecodeError):
        return None
    fields = text.split()
    if len(fields) != 2 or fields[0] == "max":
        return None
    try:
        quota, period = int(fields[0]), int(fields[1])
    except ValueError:
        return None
    return quota / period if quota > 0 and period > 0 else None
