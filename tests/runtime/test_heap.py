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


FRAGMENTED = """
import os
from agent.runtime.heap import release_free_memory

def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

blocks = [bytearray(1000) for _ in range(60_000)]  # ~60 MB from malloc (over pymalloc's 512 B)
kept = blocks[::64]  # one live block every 64 KB: glibc cannot shrink its heap from the top
del blocks
before = rss()
released = release_free_memory()
print(released, before - rss())
"""


def test_a_release_gives_freed_memory_below_live_blocks_back() -> None:
    env = {"PATH": "/usr/bin:/bin", "MALLOC_ARENA_MAX": "1"}
    done = subprocess.run(
        [sys.executable, "-c", FRAGMENTED], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    released, dropped = done.stdout.split()
    if platform.libc_ver()[0] != "glibc":
        assert released == "False"
        return
    assert released == "True"
    assert int(dropped) > 30 * 2**20  # most of the ~60 MB freed came back
