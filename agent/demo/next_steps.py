"""What the demo tells a new user to look at next, with the exact commands: the status page,
the node pages, ``report``, ``advise``, ``rules``, ``dashboards``, the API, and the traces
(where they go, or how to see them)."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from pathlib import Path

JAEGER = "docker run --rm -p 16686:16686 -p 4318:4318 jaegertracing/all-in-one"
OTLP_ENV = "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318"


def next_steps(
    url: str,
    nodes: Sequence[str],
    spec_dir: Path,
    store: Path,
    *,
    store_kept: bool,
    tracing_target: str | None,
) -> list[str]:
    """One line per next step, each with the URL or the command to run (in another terminal,
    while the demo runs)."""
    specs, db = shlex.quote(str(spec_dir)), shlex.quote(str(store))
    first = sorted(nodes)[0] if nodes else "acme-pay"
    pages = " ".join(f"{url}/nodes/{n}" for n in sorted(nodes))
    kept = "" if store_kept else " (while the demo runs: its store is temporary)"
    lines = [
        f"Status page:     {url}/",
        f"Node pages:      {pages or url + '/nodes/' + first}",
        f"Budgets:         slo-agent report --store {db} {specs}{kept}",
        f"Advice:          slo-agent advise --store {db} {specs}",
        f"Alert rules:     slo-agent rules {specs}",
        "Dashboards:      slo-agent dashboards --output dashboards/  (Grafana JSON)",
        f"API:             {url}/api/v1/status?state=page   {url}/api/v1/journeys   "
        f"{url}/api/v1/decisions   {url}/api/v1/openapi.json   {url}/metrics",
    ]
    if tracing_target is not None:
        lines.append(
            f"Traces:          exported to {tracing_target}; trace ids in "
            f"{url}/api/v1/journeys (blame.hops[].trace_ids) and on the status page"
        )
    else:
        lines.append(
            "Traces:          off (no OTLP endpoint set). To see one trace per journey run: "
            f"start a collector, e.g. `{JAEGER}`, rerun with `{OTLP_ENV} slo-agent demo`, "
            "and open http://127.0.0.1:16686"
        )
    return lines
