"""``--prometheus-url`` (or ``$SLO_AGENT_PROMETHEUS_URL``) must be an http(s) URL: usage error."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("verb", ["run", "report"])
def test_a_bad_prometheus_url_is_a_usage_error(verb: str, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "agent", verb, str(tmp_path), "--store", str(tmp_path / "x.db")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "SLO_AGENT_PROMETHEUS_URL": "prometheus:9090", "COLUMNS": "200"},
        cwd=ROOT,
    )
    assert done.returncode == 2
    assert "'prometheus:9090' is not an http:// or https:// URL" in done.stderr
    assert not (tmp_path / "x.db").exists()
