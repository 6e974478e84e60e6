"""The pages on the demo ecosystem, on a desktop and a phone: the simulated ecosystem runs from
inside acme-pay's outage (1:00-3:30 of the fault schedule), the real agent probes it as the
bundled demo specs say, and headless Chromium loads the overview and acme-pay's node page at
1400 px and 390 px. Screenshots land in ``tests/artifacts/demo-*.png``; the DOM shows the failing
probe's detail, charts with data points, the incident timeline and the tier explanations; at
390 px nothing in the key columns reaches past the viewport."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from agent.app import running_agent
from agent.demo.ecosystem import Ecosystem
from agent.demo.faults import DEMO_SCHEDULE, FaultKind
from agent.demo.templates import render_demo_specs
from agent.runtime.agent import Agent
from tests.api.test_pages_browser import capture, check_no_overflow, check_screenshots
from tests.support.agents import options
from tests.support.fakes import eventually

pytestmark = pytest.mark.integration

(OUTAGE,) = [
    s for s in DEMO_SCHEDULE.slots if s.node == "acme-pay" and s.fault.kind is FaultKind.OUTAGE
]


def paging_with_a_detail(agent: Agent) -> bool:
    snapshot = agent.snapshot
    if snapshot is None:
        return False
    paging = any(
        s.node == "acme-pay" and a.severity.value == "page"
        for s in snapshot.slos()
        for a in s.firing
    )
    failing = any(f.node == "acme-pay" and f.failing and f.detail for f in snapshot.failures)
    return paging and failing


async def test_demo_overview_and_node_page_on_a_desktop_and_a_phone(tmp_path: Path) -> None:
    start = OUTAGE.start + 5  # inside the outage, long before it ends: no waiting for it
    async with Ecosystem(time_offset=start) as ecosystem:
        assert ecosystem.faults_now()["acme-pay"].kind is FaultKind.OUTAGE
        spec_dir = tmp_path / "specs"
        render_demo_specs(ecosystem.urls, ecosystem.ports, spec_dir)
        async with running_agent(options(spec_dir, tmp_path / "store.db"), {}) as running:
            await eventually(lambda: paging_with_a_detail(running.agent), within=60)
            shots, doms, layout = await capture(tmp_path, running.url, "acme-pay", "demo")
            assert ecosystem.faults_now()["acme-pay"].kind is FaultKind.OUTAGE

    check_screenshots(shots)
    assert len(shots) == 4

    overview = doms["overview"]
    attention = overview[overview.index('id="attention"') :]
    assert attention.index('data-node="acme-pay"') < attention.index("</section>")
    assert '<a class="name" href="/nodes/acme-pay">acme-pay</a>' in overview

    node = doms["node"]
    # the failing probe's detail: the demo's outage answers 503 where the spec expects 200
    why = re.compile(
        r'<li class="failure" data-probe="authorize"><strong>authorize</strong> '
        r"status: <code>[^<]*503"
    )
    assert why.search(node), node
    points = [int(n) for n in re.findall(r'<figure class="chart" data-points="(\d+)"', node)]
    assert len(points) >= 3, points  # budget, SLI, tiers, probes...
    assert all(n > 0 for n in points[:3]), points  # the SLO's charts have data points
    assert re.search(r"<polyline [^>]*points=\"[0-9.]+,[0-9.]+", node)
    # demo-fast windows: page on 5m and 1m, ticket on 20m and 5m, each explained
    now = r"([0-9.,]+\u00d7|no data)"
    for severity, long, short in (("page", "5m", "1m"), ("ticket", "20m", "5m")):
        assert re.search(
            rf"<b>{severity}</b> fires when the burn over {long} ≥ [0-9.]+\u00d7 and over "
            rf"{short} ≥ [0-9.]+\u00d7; now {now} and {now} \(firing\)",
            node,
        ), (severity, node)
    incidents = node[node.index('id="incidents"') :]
    assert '<tr class="incident">' in incidents
    assert "ongoing" in incidents
    assert 'href="https://runbooks.example/acme-pay"' in node
    assert "<script" not in node

    check_no_overflow(layout)
