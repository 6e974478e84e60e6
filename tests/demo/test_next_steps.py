"""The demo leaves no dead end: it prints the next steps with exact commands, and each command
it prints works against the running demo (a real ``slo-agent demo`` process, its printed
``report``, ``advise``, ``rules`` and ``dashboards`` commands run as printed)."""

from __future__ import annotations

import os
import select
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from agent.demo.next_steps import next_steps

STEPS = ("Status page:", "Node pages:", "Budgets:", "Advice:", "Alert rules:", "Dashboards:")


def _lines_until(proc: subprocess.Popen[str], marker: str, within: float) -> list[str]:
    """stdout lines up to and including the first one starting with ``marker`` (bounded)."""
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.5)
        if not ready:
            continue
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if line.strip().startswith(marker):
            return lines
    # the process ended (or the time is up): say what it wrote on stderr, if it ended
    err = proc.stderr.read()[-4000:] if proc.poll() is not None and proc.stderr else ""
    raise AssertionError(
        f"no line starting with {marker!r} within {within} s:\n"
        + "\n".join(lines)
        + (f"\nexit {proc.returncode}, stderr:\n{err}" if err else "")
    )


def _command(lines: list[str], step: str) -> list[str]:
    line = next(x.strip() for x in lines if x.strip().startswith(step))
    text = line.removeprefix(step).split("  (")[0].split(" (while")[0]
    words = shlex.split(text)
    assert words[0] == "slo-agent", line
    return [sys.executable, "-m", "agent", *words[1:]]


def test_the_printed_commands_work_while_the_demo_runs(tmp_path: Path) -> None:
    # port 0: the agent takes a free port after the ecosystem took its own (a port picked
    # beforehand could be handed to one of the ecosystem's servers in between)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "agent", "demo", "--duration", "60s", "--listen", "127.0.0.1:0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )  # fmt: skip
    try:
        lines = _lines_until(proc, "Traces:", within=60)
        page = next(x.strip() for x in lines if x.strip().startswith("Status page:"))
        url = page.removeprefix("Status page:").strip().rstrip("/")
        assert url.startswith("http://127.0.0.1:"), page
        assert not url.endswith(":0"), page
        for step in STEPS:
            assert any(x.strip().startswith(step) for x in lines), step
        assert f"Status page:     {url}/" in [x.strip() for x in lines]
        assert f"{url}/nodes/acme-pay" in "\n".join(lines)
        traces = next(x for x in lines if x.strip().startswith("Traces:"))
        assert "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 slo-agent demo" in traces
        assert httpx.get(f"{url}/", timeout=10).status_code in (200, 503)
        time.sleep(3)  # a few probe runs flushed to the store (flush every 1 s)
        for step, codes in (("Budgets:", (0, 1)), ("Advice:", (0, 1)), ("Alert rules:", (0,))):
            done = subprocess.run(
                _command(lines, step), capture_output=True, text=True, timeout=120, check=False
            )
            assert done.returncode in codes, (step, done.stderr)
            assert "Traceback" not in done.stderr
            assert done.stdout.strip(), step
        dashboards = _command(lines, "Dashboards:")
        dashboards[dashboards.index("dashboards/")] = str(tmp_path / "dashboards")
        done = subprocess.run(dashboards, capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        assert list((tmp_path / "dashboards").glob("*.json"))
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        try:
            _, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert "Traceback" not in err


def test_traces_say_where_they_go_when_tracing_is_on() -> None:
    lines = next_steps(
        "http://127.0.0.1:9464",
        ["storefront", "acme-pay"],
        Path("/tmp/specs dir"),
        Path("/tmp/demo.db"),
        store_kept=True,
        tracing_target="http://127.0.0.1:4318/v1/traces (http)",
    )
    assert lines[1] == (
        "Node pages:      http://127.0.0.1:9464/nodes/acme-pay "
        "http://127.0.0.1:9464/nodes/storefront"
    )
    assert lines[2] == "Budgets:         slo-agent report --store /tmp/demo.db '/tmp/specs dir'"
    assert lines[-1].startswith(
        "Traces:          exported to http://127.0.0.1:4318/v1/traces (http); trace ids in"
    )
