"""Running the real agent in tests: spec files, options, and reading its HTTP outputs."""

from __future__ import annotations

from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from agent.app import RunOptions
from agent.runtime.agent import AgentSettings

FAST = AgentSettings(
    flush_interval=0.2, evaluation_interval=0.5, watch_interval=0.0, prune_interval=3600
)


def node_spec(name: str, url: str, *, interval: str = "200ms", objective: float = 99) -> str:
    return f"""\
apiVersion: slo-agent/v1
kind: Node
metadata: {{name: {name}}}
spec:
  mode: operated
  owner: sre
  capability: api
  probes:
    - name: health
      interval: {interval}
      http: {{url: "{url}", timeout: {interval}}}
  slos:
    - {{name: availability, objective: {objective}, window: 3d, sli: {{probe: health}}}}
"""


def write_specs(directory: Path, **files: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / f"{name}.yaml").write_text(text)
    return directory


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
