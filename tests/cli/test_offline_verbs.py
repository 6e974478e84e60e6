"""The verbs that send no request work without the specs' ``${ENV}`` secrets: an unset
variable is a warning naming its file and field (exit 0); ``run`` refuses to start without it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agent.store.sqlite import SqliteStore
from tests.support.cli import slo_agent

EXAMPLES = "slo_specs/examples"
WARNING = (
    "slo_specs/examples/payments.yaml: document 1: spec.probes[0].http.headers.Authorization: "
    "warning: environment variable ACME_TOKEN is not set (needed by header Authorization)"
)


@pytest.fixture(autouse=True)
def _no_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ACME_TOKEN", raising=False)  # the subprocess inherits os.environ
    assert "ACME_TOKEN" not in os.environ


@pytest.mark.parametrize(
    "args",
    [
        ("validate", EXAMPLES),
        ("rules", EXAMPLES),
        ("advise", EXAMPLES, "--store", "{store}"),
        ("report", EXAMPLES, "--store", "{store}"),
    ],
)
def test_offline_verbs_warn_about_unset_secrets_and_exit_0(
    args: tuple[str, ...], tmp_path: Path
) -> None:
    store = tmp_path / "s.db"
    SqliteStore(store).close()
    done = slo_agent(*(arg.format(store=store) for arg in args))
    assert done.returncode == 0, done.stderr
    assert WARNING in done.stderr
    assert "Traceback" not in done.stderr
    assert "<unset" not in done.stdout  # the stand-in value is never an output


def test_dashboards_read_no_specs_at_all(tmp_path: Path) -> None:
    done = slo_agent("dashboards", "-o", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert any(tmp_path.glob("*.json"))


def test_run_needs_every_secret(tmp_path: Path) -> None:
    done = slo_agent("run", EXAMPLES, "--store", str(tmp_path / "s.db"), "--listen", "127.0.0.1:0")
    assert done.returncode == 1
    assert (
        "payments.yaml: document 1: spec.probes[0].http.headers.Authorization: "
        "environment variable ACME_TOKEN is not set" in done.stderr
    )
    assert "warning" not in done.stderr.split("ACME_TOKEN")[0].splitlines()[-1]
