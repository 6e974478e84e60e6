"""``slo-agent --version`` prints the installed package's version (from its metadata, which
``pyproject.toml`` sets) and exits 0, without needing a command."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def test_version_comes_from_the_package_metadata() -> None:
    declared = tomllib.loads(PYPROJECT.read_text())["project"]["version"]
    done = subprocess.run(
        [sys.executable, "-m", "agent", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, f"slo-agent {declared}\n", "")
