"""The SLO math does no I/O and never reads the clock: checked on the source itself."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import agent.slo

SLO_PACKAGE = Path(agent.slo.__file__).parent

FORBIDDEN_MODULES = frozenset(
    {
        "time",
        "os",
        "socket",
        "sqlite3",
        "httpx",
        "asyncio",
        "aiohttp",
        "requests",
        "urllib",
        "http",
        "subprocess",
        "shutil",
        "pathlib",
        "io",
        "random",
        "threading",
        "select",
        "selectors",
        "ssl",
        "logging",
    }
)
# attribute calls that read the clock, whatever they are called on (datetime.now(), date.today())
CLOCK_CALLS = frozenset(
    {"now", "utcnow", "today", "time", "time_ns", "monotonic", "perf_counter", "process_time"}
)
IO_BUILTINS = frozenset({"open", "input", "print"})


def violations(source: str) -> list[str]:
    """Every import of an I/O or clock module and every clock-reading or I/O call in ``source``."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [
                f"import {a.name}" for a in node.names if a.name.split(".")[0] in FORBIDDEN_MODULES
            ]
        elif isinstance(node, ast.ImportFrom):
            if node.module and node.module.split(".")[0] in FORBIDDEN_MODULES:
                found.append(f"from {node.module} import ...")
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in CLOCK_CALLS:
                found.append(f"call .{func.attr}()")
            elif isinstance(func, ast.Name) and func.id in IO_BUILTINS | CLOCK_CALLS:
                found.append(f"call {func.id}()")
    return found


def slo_modules() -> list[Path]:
    return sorted(SLO_PACKAGE.glob("*.py"))


def test_the_slo_modules_are_all_checked() -> None:
    names = {path.stem for path in slo_modules()}
    expected = {"windows", "sli", "budget", "burn", "alerts", "evaluate", "events", "status"}
    assert expected <= names


@pytest.mark.parametrize("path", slo_modules(), ids=lambda p: p.name)
def test_slo_module_does_no_io_and_reads_no_clock(path: Path) -> None:
    assert violations(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param("import time\n", ["import time"], id="import-time"),
        pytest.param("import os.path\n", ["import os.path"], id="import-os-path"),
        pytest.param("from sqlite3 import connect\n", ["from sqlite3 import ..."], id="sqlite3"),
        pytest.param("import httpx as h\n", ["import httpx"], id="httpx-aliased"),
        pytest.param(
            "from datetime import datetime\nx = datetime.now()\n", ["call .now()"], id="now"
        ),
        pytest.param(
            "import datetime\nx = datetime.datetime.utcnow()\n", ["call .utcnow()"], id="utcnow"
        ),
        pytest.param(
            "from time import time\nx = time()\n",
            ["from time import ...", "call time()"],
            id="time",
        ),
        pytest.param("x = open('f')\n", ["call open()"], id="open"),
        pytest.param(
            "from datetime import UTC, datetime\nx = datetime.fromtimestamp(1.0, tz=UTC)\n",
            [],
            id="converting-a-given-time-is-fine",
        ),
    ],
)
def test_the_check_catches_what_it_should(source: str, expected: list[str]) -> None:
    assert sorted(violations(source)) == sorted(expected)
