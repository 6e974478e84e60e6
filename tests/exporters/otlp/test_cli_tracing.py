"""``slo-agent run`` as users start it: OTEL_* turns tracing on, ``--no-tracing`` turns it off,
and a bad OTEL_* value is a one-line error."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.agents import node_spec, write_specs
from tests.support.net import free_port, wait_for_port
from tests.support.otlp import OtlpHttpReceiver
from tests.support.targets import Reply, ThreadedTarget

ROOT = Path(__file__).resolve().parents[3]


def _probe_three_times(
    tmp_path: Path, target: ThreadedTarget, env: dict[str, str], *extra: str
) -> str:
    """Run ``slo-agent run`` until the target saw three probes, stop it with SIGTERM; its
    stderr."""
    specs = write_specs(tmp_path / "specs", shop=node_spec("shop", target.url("/health")))
    port = free_port()
    command = [sys.executable, "-m", "agent", "run", str(specs)]
    command += ["--store", str(tmp_path / "store.db"), "--listen", f"127.0.0.1:{port}"]
    command += ["--log-level", "warning", *extra]
    process = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **env},
        cwd=ROOT,
    )
    try:
        wait_for_port(port, timeout=30)
        target.wait_for_requests(3, timeout=30)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    return stderr


@pytest.mark.parametrize("flag", [(), ("--no-tracing",)], ids=["tracing", "no-tracing"])
def test_the_environment_turns_tracing_on_and_the_flag_off(
    tmp_path: Path, flag: tuple[str, ...]
) -> None:
    with OtlpHttpReceiver() as receiver, ThreadedTarget({"/health": Reply(200)}) as target:
        env = {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint, "OTEL_BSP_SCHEDULE_DELAY": "50"}
        _probe_three_times(tmp_path, target, env, *flag)
        headers = [request.header("traceparent") for request in target.requests]
        spans = receiver.spans

    if flag:
        assert spans == []
        assert headers == [None] * len(headers)
    else:
        # every probe's span was exported, at the latest when the agent stopped; the probe that
        # SIGTERM cut short may lack its span or its request may not have arrived
        sent = {header[:-3] for header in headers if header is not None}
        exported = {f"00-{s.trace_id}-{s.span_id}" for s in spans}
        assert len(sent) == len(headers) >= 3
        assert len(sent & exported) >= len(sent) - 1
        assert len(exported - sent) <= 1


def test_a_bad_otel_setting_is_one_line_and_exit_1(tmp_path: Path) -> None:
    specs = write_specs(tmp_path / "specs", shop=node_spec("shop", "http://127.0.0.1:9/"))
    done = subprocess.run(
        [sys.executable, "-m", "agent", "run", str(specs), "--store", str(tmp_path / "s.db")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={
            **os.environ,
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318",
            "OTEL_EXPORTER_OTLP_HEADERS": "authorization",
        },
        cwd=ROOT,
    )

    assert done.returncode == 1
    assert done.stderr.strip() == "OTEL_EXPORTER_OTLP_HEADERS: item 1 is not key=value"
