"""Running the real agent in tests: spec files, options, and reading its HTTP outputs."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from agent.app import RunOptions
from agent.runtime.agent import AgentSettings
from tests.support.net import free_port, wait_for_port

FAST = AgentSettings(
    flush_interval=0.2, evaluation_interval=0.5, watch_interval=0.0, prune_interval=3600
)


def node_spec(
    name: str,
    url: str,
    *,
    interval: str = "200ms",
    objective: float = 99,
    timeout: str | None = None,
    expect: str = "",
    capability: str = "api",
) -> str:
    """One operated node with one HTTP probe (``timeout`` defaults to the interval; ``expect``
    is the flow-style body of its ``expect:``) and an availability SLO over 3 days."""
    expect_line = f", expect: {expect}" if expect else ""
    return f"""\
apiVersion: slo-agent/v1
kind: Node
metadata: {{name: {name}}}
spec:
  mode: operated
  owner: sre
  capability: {capability}
  probes:
    - name: health
      interval: {interval}
      http: {{url: "{url}", timeout: {timeout or interval}{expect_line}}}
  slos:
    - {{name: availability, objective: {objective}, window: 3d, sli: {{probe: health}}}}
"""


def write_specs(directory: Path, **files: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / f"{name}.yaml").write_text(text)
    return directory


def partner_node(name: str, url: str, drill: str = "", every: str = "200ms") -> str:
    """A spec file's text: orchestrated node ``name`` probing ``url``/health every second, with
    a fallback to node ``drill`` drilled at ``url``/backup every ``every`` (an hourly drill
    gets a 30 s timeout) when given."""
    fallbacks = ""
    if drill:
        timeout = ", timeout: 30s" if every == "1h" else ""
        http = f'{{url: "{url}/backup"{timeout}}}'
        fallbacks = (
            f"  fallbacks:\n    - {{node: {drill}, drill: {{every: {every}, http: {http}}}}}\n"
        )
    return f"""\
apiVersion: slo-agent/v1
kind: Node
metadata: {{name: {name}}}
spec:
  mode: orchestrated
  owner: sre
  capability: payments
  partner: {{name: {name}}}
  probes:
    - {{name: health, interval: 1s, http: {{url: "{url}/health"}}}}
{fallbacks}  slos:
    - {{name: ok, objective: 99, window: 3d, sli: {{probe: health}}}}
"""


def options(spec_dir: Path, store: Path, settings: AgentSettings = FAST) -> RunOptions:
    return RunOptions(spec_args=(str(spec_dir),), store_path=store, port=0, settings=settings)


def metric_samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    out: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


async def scrape(url: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{url}/metrics")
        response.raise_for_status()
        return metric_samples(response.text)


@contextmanager
def agent_process(
    spec_dir: Path,
    store: Path,
    *extra: str,
    flush_interval: str = "200ms",
    open_files: int | None = None,
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """A real ``slo-agent run`` process on a free port: ``(process, base URL)``; killed (by PID)
    on the way out. Its output goes to ``store`` with the suffix ``.log``. ``open_files`` sets
    its RLIMIT_NOFILE (through ``ulimit -n`` in a shell that then execs the agent, as threads
    in the test process make ``preexec_fn`` unsafe)."""
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "agent",
        "run",
        str(spec_dir),
        "--store",
        str(store),
        "--listen",
        f"127.0.0.1:{port}",
        "--flush-interval",
        flush_interval,
        "--evaluation-interval",
        "500ms",
        "--log-level",
        "warning",
        *extra,
    ]
    if open_files is not None:
        cmd = ["sh", "-c", f'ulimit -n {int(open_files)} && exec "$@"', "sh", *cmd]
    with store.with_suffix(".log").open("w") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, text=True)
        try:
            _wait_until_listening(proc, port, store.with_suffix(".log"))
            yield proc, f"http://127.0.0.1:{port}"
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=30)


def _wait_until_listening(proc: subprocess.Popen[str], port: int, log: Path) -> None:
    """Wait (30 s at most) until the agent listens on ``port``; if it exits first, fail with
    the end of its output."""
    for _ in range(60):
        if proc.poll() is not None:
            tail = log.read_text()[-2000:]
            raise RuntimeError(f"the agent exited ({proc.returncode}) before listening:\n{tail}")
        try:
            wait_for_port(port, timeout=0.5)
            return
        except TimeoutError:
            continue
    raise TimeoutError(f"the agent does not listen on 127.0.0.1:{port} after 30s")
