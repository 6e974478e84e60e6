"""End to end on a phone and a desktop: a running agent probes loopback targets (a partner
failing with 503), and headless Chromium loads the overview and the partner's node page at
1400 px and 390 px. Screenshots land in ``tests/artifacts/``; the DOM shows the failure's
detail, charts with data points, the incident timeline, the tier explanations, the runbook and
trace links; at 390 px no element of the key columns (SLO, objective, SLI, budget, burn, state)
reaches past the viewport, measured on the laid-out page through the DevTools protocol."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest

from agent.app import running_agent
from agent.runtime.agent import Agent
from tests.api.test_status_page_browser import ARTIFACTS, SPECS, burning, png_size
from tests.support.agents import options, write_specs
from tests.support.browser import Chromium
from tests.support.devtools import evaluate
from tests.support.fakes import eventually
from tests.support.status_page import badge_counts, header_counts
from tests.support.targets import Reply, Target, json_reply

pytestmark = pytest.mark.integration

RUNBOOK = "https://runbooks.example/acme-pay"
TRACES = "http://jaeger.example/trace/{trace_id}"
SIZES = ((1400, 1000), (390, 844))  # a desktop, then a phone

# the page's key columns: every cell of every SLO row, and everything inside them
OVERFLOW = """(() => {
  const width = document.documentElement.clientWidth;
  const out = [];
  let cells = 0;
  for (const cell of document.querySelectorAll('table.slos tbody tr > *')) {
    cells += 1;
    for (const el of [cell, ...cell.querySelectorAll('*')]) {
      const box = el.getBoundingClientRect();
      if (box.width > 0 && (box.left < -0.5 || box.right > width + 0.5)) {
        out.push(el.tagName + '.' + el.className + ' ' + box.left + '..' + box.right);
      }
    }
  }
  // what makes the page scroll sideways (wide tables scroll inside their own box)
  const wide = [...document.body.querySelectorAll('*')]
    .filter((el) => el.getBoundingClientRect().right > width + 0.5)
    .filter((el) => !el.closest('.blame, .decisions, .timeline'))
    .slice(0, 8)
    .map((el) => el.tagName + '.' + el.className + '#' + el.id);
  return {width, scroll: document.documentElement.scrollWidth, cells, out, wide};
})()"""


def with_runbook(specs: str) -> str:
    node = "metadata: {{name: acme-pay}}"
    start = specs.index(node.replace("{{", "{").replace("}}", "}"))
    alerting = "  alerting: {windows: fast}\n"
    at = specs.index(alerting, start)
    runbook = f"  alerting: {{windows: fast, annotations: {{runbook_url: '{RUNBOOK}'}}}}\n"
    return specs[:at] + runbook + specs[at + len(alerting) :]


async def test_overview_and_node_page_on_a_desktop_and_a_phone(tmp_path: Path) -> None:
    shop = Target({"/health": Reply(200, b"ok"), "/cart": json_reply({"id": "c-1"})})
    pay = Target({"/health": Reply(503, b"down"), "/pay": Reply(503, b"down")})
    async with shop, pay:
        text = with_runbook(SPECS.format(shop=shop.base_url, pay=pay.base_url, partner="Acme"))
        spec_dir = write_specs(tmp_path / "specs", ecosystem=text)
        run = dataclasses.replace(
            options(spec_dir, tmp_path / "store.db"), trace_url_template=TRACES
        )
        async with running_agent(run, {}) as running:
            await eventually(lambda: burning(running.agent) and failing(running.agent), within=30)
            shots, doms, layout = await capture(tmp_path, running.url, "acme-pay", "pages")

    check_screenshots(shots)

    overview = doms["overview"]
    # the most urgent first: the paging partner leads the "needs attention" list
    attention = overview[overview.index('id="attention"') :]
    assert attention.index('data-node="acme-pay"') < attention.index("</section>")
    assert '<a class="name" href="/nodes/acme-pay">acme-pay</a>' in overview
    counts = header_counts(overview)
    assert counts == {label: badge_counts(overview)[label] for label in counts}
    assert counts["page"] >= 1

    node = doms["node"]
    why = re.compile(
        r'<li class="failure" data-probe="authorize"><strong>authorize</strong> '
        r"(status: <code>expected status in \[200-299\], got 503|timeout: <code>timed out)"
    )
    assert why.search(node), node
    points = [int(n) for n in re.findall(r'<figure class="chart" data-points="(\d+)"', node)]
    assert len(points) == 2 + 1 + 2  # budget, SLI, the one tier, probes and latency
    assert all(n > 0 for n in points[:3]), points  # the SLO's charts have data points
    assert re.search(r"<polyline [^>]*points=\"[0-9.]+,[0-9.]+", node)
    assert re.search(
        r"<b>page</b> fires when the burn over 2m ≥ 3\u00d7 and over 1m ≥ 3\u00d7; "
        r"now [0-9.]+\u00d7 and [0-9.]+\u00d7 \(firing\)",
        node,
    ), node
    incidents = node[node.index('id="incidents"') :]
    assert '<tr class="incident">' in incidents
    assert "ongoing" in incidents
    assert f'href="{RUNBOOK}"' in node
    assert "<script" not in node

    check_no_overflow(layout)


async def capture(
    tmp_path: Path, base_url: str, node: str, prefix: str
) -> tuple[dict[str, Path], dict[str, str], dict[str, Any]]:
    """The overview and ``node``'s page: screenshots at 1400 and 390 px (kept in ARTIFACTS as
    ``PREFIX-overview-1400.png`` ...), each page's DOM at 1400 px, and its layout at 390 px."""
    shots: dict[str, Path] = {}
    doms: dict[str, str] = {}
    layout: dict[str, Any] = {}
    pages = {"overview": f"{base_url}/", "node": f"{base_url}/nodes/{node}"}
    for name, url in pages.items():
        for width, height in SIZES:
            shots[f"{name}-{width}"] = ARTIFACTS / f"{prefix}-{name}-{width}.png"
            await Chromium(tmp_path, (width, height)).screenshot(url, shots[f"{name}-{width}"])
        doms[name] = await Chromium(tmp_path, SIZES[0]).dump_dom(url)
        layout[name] = await evaluate(tmp_path, url, SIZES[1], OVERFLOW)
    return shots, doms, layout


def check_screenshots(shots: dict[str, Path]) -> None:
    sizes = {width: (width, height) for width, height in SIZES}
    for name, path in shots.items():
        assert png_size(path) == sizes[int(name.rsplit("-", 1)[1])], name
        assert path.stat().st_size > 10_000, name  # a rendered page, not a blank canvas


def check_no_overflow(layout: dict[str, Any]) -> None:
    """At 390 px no element of the key columns reaches past the viewport, nor does the page."""
    for name, found in layout.items():
        assert found["width"] == SIZES[1][0], name
        assert found["cells"] >= 6, name  # the SLO rows were laid out
        assert found["out"] == [], (name, found["out"])
        assert found["scroll"] <= found["width"], (name, found["scroll"], found["wide"])


def failing(agent: Agent) -> bool:
    snapshot = agent.snapshot
    return snapshot is not None and any(f.failing for f in snapshot.failures)
