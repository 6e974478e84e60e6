"""Spec documents with Prometheus-measured SLOs, written as a user would write them."""

from __future__ import annotations

from pathlib import Path

from agent.model import SpecSet
from agent.spec.loader import load_specs
from tests.spec.helpers import write

ERRORS = 'sum(rate(http_requests_total{code=~"5.."}[{{window}}]))'
TOTAL = "sum(rate(http_requests_total[{{window}}]))"

QUICK_WINDOWS = """\
apiVersion: slo-agent/v1
kind: AlertWindows
metadata: {name: quick}
spec:
  page: [{budget_percent: 2, long: 5m, short: 1m}]
"""


def prometheus_node(
    name: str = "shop",
    *,
    probe_url: str = "http://127.0.0.1:9/health",
    errors: str = ERRORS,
    total: str = TOTAL,
    objective: float = 99,
) -> str:
    """An operated node whose availability SLO comes from two PromQL queries; its probe
    (hourly, so it barely runs in a test) only satisfies "at least one probe"."""
    return f"""\
apiVersion: slo-agent/v1
kind: Node
metadata: {{name: {name}}}
spec:
  mode: operated
  owner: sre
  capability: {name}
  probes:
    - {{name: health, interval: 1h, http: {{url: "{probe_url}"}}}}
  slos:
    - name: availability
      objective: {objective}
      window: 1h
      sli:
        prometheus:
          error_query: '{errors}'
          total_query: '{total}'
  alerting: {{windows: quick}}
"""


def load(directory: Path, **nodes: str) -> SpecSet:
    """Write ``nodes`` (file stem -> document) plus the quick windows and load them."""
    files = [write(directory, f"{stem}.yaml", text) for stem, text in nodes.items()]
    files.append(write(directory, "windows.yaml", QUICK_WINDOWS))
    return load_specs(files, {})
