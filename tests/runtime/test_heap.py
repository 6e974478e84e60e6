"""The malloc arena cap of the running agent (agent/runtime/heap.py)."""

from __future__ import annotations

import platform
import subprocess
import sys


def _in_a_new_process(env: dict[str, str]) -> str:
    code = "from agent.runtime.heap import limit_malloc_arenas; print(limit_malloc_arenas())"
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_cap_is_set_on_glibc_unless_the_environment_sets_one() -> None:
    base = {"PATH": "/usr/bin:/bin"}
    on_glibc = platform.libc_ver()[0] == "glibc"
    assert _in_a_new_process(base) == str(on_glibc)
    assert _in_a_new_process({**base, "MALLOC_ARENA_MAX": "4"}) == "False"  # the user's wins
