"""``--trace-url-template``: validated as a usage error; trace ids on the pages become links
built from it (escaped), and stay text without it. The overview puts the most urgent first and
collapses the ok nodes past 50."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

from agent.api.page import PageData, status_page
from agent.api.page_node import Incident, timeline
from agent.slo.evaluate import evaluate_node
from agent.slo.events import Counts
from agent.slo.failures import ProbeFailure
from agent.slo.status import SloState, Snapshot
from agent.slo.windows import required_ranges
from tests.support.builders import node, spec_set

ROOT = Path(__file__).resolve().parents[2]
NOW = 1_700_000_000.0
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


@pytest.mark.parametrize(
    "template",
    [
        "jaeger:16686/trace/{trace_id}",
        "http://jaeger:16686/trace/",
        "http://j/{trace_id}/{trace_id}",
    ],
)
def test_a_bad_template_is_a_usage_error(template: str, tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "agent",
            "run",
            str(tmp_path),
            "--store",
            str(tmp_path / "x.db"),
            "--trace-url-template",
            template,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert done.returncode == 2
    assert f"{template!r} is not an http:// or https:// URL with {{trace_id}} once" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "x.db").exists()


def _failure(trace: str | None) -> ProbeFailure:
    return ProbeFailure("acme-pay", "authorize", 1000.0, "status", "got 503", trace, failing=True)


def test_the_latest_failure_of_an_incident_links_to_its_trace() -> None:
    incident = Incident("authorize", 990.0, None, ("status",), "got 503", 3)
    linked = timeline([incident], [_failure(TRACE)], 'http://tempo.example/t/{trace_id}?a=1&b="')
    assert f'href="http://tempo.example/t/{TRACE}?a=1&amp;b=&quot;"' in linked
    plain = timeline([incident], [_failure(TRACE)], None)
    assert f"<code>{TRACE}</code>" in plain
    assert "href" not in plain
    # a failure after the incident ended is not its trace
    ended = dataclasses.replace(incident, end=995.0)
    assert TRACE not in timeline([ended], [_failure(TRACE)], None)


def test_the_overview_lists_the_most_urgent_first_and_collapses_ok_nodes_past_50() -> None:
    nodes = [dataclasses.replace(node(), name=f"n-{i:03d}") for i in range(60)]
    specs = spec_set(*nodes)
    bad = {"n-007": Counts(1000, 500), "n-042": Counts(1000, 3)}
    statuses = []
    for n in nodes:
        counts = bad.get(n.name, Counts(1000, 0))
        ranges = required_ranges(n.slos[0], specs.windows_for(n), NOW)
        windows = {"availability": dict.fromkeys(ranges, counts)}
        statuses.append(evaluate_node(n, specs.windows_for(n), windows, NOW))
    page = status_page(PageData(Snapshot(NOW, tuple(statuses), ())))
    states = {s.node: s.slos[0].state for s in statuses}
    assert states["n-007"] is SloState.PAGE
    assert states["n-042"] in (SloState.TICKET, SloState.EXHAUSTED)
    attention = page[page.index('id="attention"') : page.index("</section>")]
    assert attention.index('data-node="n-007"') < attention.index('data-node="n-042"')
    assert attention.count("<li") == 2
    assert page.count('<article class="card') == 2  # only the nodes not ok are cards
    assert '<details class="oknodes"><summary>58 ok nodes</summary>' in page
    assert page.count('<a href="/nodes/n-') == 58
