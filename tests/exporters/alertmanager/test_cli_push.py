"""``slo-agent run --alertmanager-url`` as users run it."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from exporters.alerting import BURN
from tests.support.agents import node_spec, write_specs
from tests.support.alertmanager import AlertmanagerServer
from tests.support.fakes import eventually
from tests.support.targets import Reply, Target

ROOT = Path(__file__).resolve().parents[3]


def slo_agent_run(*args: str) -> list[str]:
    return [sys.executable, "-m", "agent", "run", "--listen", "127.0.0.1:0", *args]


async def stop(process: asyncio.subprocess.Process) -> None:
    """SIGTERM, then SIGKILL if it has not exited within 30 s."""
    process.terminate()
    try:
        async with asyncio.timeout(30):
            await process.wait()
    except TimeoutError:
        process.kill()
        await process.wait()


def test_a_url_that_is_not_http_is_a_usage_error(tmp_path: Path) -> None:
    done = subprocess.run(
        slo_agent_run("--alertmanager-url", "alertmanager:9093", str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=ROOT,
    )

    message = " ".join(done.stderr.replace("│", " ").split())  # unwrap the usage box
    assert done.returncode == 2
    assert "'alertmanager:9093' is not an http:// or https:// URL" in message
    assert "Traceback" not in done.stderr


@pytest.mark.integration
async def test_the_running_agent_pushes_burn_alerts_to_every_alertmanager(
    tmp_path: Path,
) -> None:
    log = tmp_path / "agent.log"
    async with Target({"/health": Reply(503)}) as target:
        specs = write_specs(tmp_path / "specs", down=node_spec("down", target.url("/health")))
        with (
            AlertmanagerServer(tmp_path / "first") as first,
            AlertmanagerServer(tmp_path / "second") as second,
        ):
            with log.open("wb") as output:
                agent = await asyncio.create_subprocess_exec(
                    *slo_agent_run(
                        *("--alertmanager-url", first.url, "--alertmanager-url", second.url),
                        *("--evaluation-interval", "500ms", "--watch-interval", "0s"),
                        *("--store", str(tmp_path / "store.db"), str(specs)),
                    ),
                    cwd=ROOT,
                    stdout=asyncio.subprocess.DEVNULL,
                    stderr=output,
                )
            try:

                async def burning(alertmanager: AlertmanagerServer) -> bool:
                    alerts = await asyncio.to_thread(alertmanager.alerts)
                    return any(a["labels"]["alertname"] == BURN for a in alerts)

                await eventually(lambda: burning(first), within=30)
                await eventually(lambda: burning(second), within=30)
                alerts = first.alerts()
            finally:
                await stop(agent)

    assert agent.returncode == 0, log.read_text()
    burn = [a for a in alerts if a["labels"]["alertname"] == BURN]
    assert {a["labels"]["node"] for a in burn} == {"down"}
    assert {a["labels"]["severity"] for a in burn} == {"page", "ticket"}
    generator = burn[0]["generatorURL"]
    assert generator.startswith("http://127.0.0.1:")
    assert generator.endswith("/api/v1/status")
