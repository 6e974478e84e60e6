"""End to end: a running agent probes loopback targets (one partner failing), and headless
Chromium loads its status page: the DOM shows the nodes by mode, the page alert, the overspent
budget and the journey's blame; a screenshot lands in ``tests/artifacts/``."""

from __future__ import annotations

import re
import struct
from pathlib import Path

import pytest

from agent.app import running_agent
from agent.runtime.agent import Agent
from agent.slo.status import SloState
from tests.support.agents import options, write_specs
from tests.support.browser import Chromium
from tests.support.fakes import eventually
from tests.support.status_page import badge_counts, header_counts, slo_rows
from tests.support.targets import Reply, Target, json_reply

pytestmark = pytest.mark.integration

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
PARTNER = 'Acme <Pay> & "Sons"'  # shows as text, never as markup

# A page tier of "10% of the budget in 2m" over a 1h window at 90% fires at a burn rate of 3:
# seconds after the partner starts failing every probe (see the Alertmanager push test).
SPECS = """\
apiVersion: slo-agent/v1
kind: AlertWindows
metadata: {{name: fast}}
spec:
  page:
    - {{budget_percent: 10, long: 2m, short: 1m}}
---
apiVersion: slo-agent/v1
kind: Node
metadata: {{name: storefront}}
spec:
  mode: operated
  owner: web
  capability: storefront
  probes:
    - {{name: health, interval: 100ms, http: {{url: "{shop}/health", timeout: 100ms}}}}
  slos:
    - {{name: availability, objective: 90, window: 1h, min_events: 5, sli: {{probe: health}}}}
  alerting: {{windows: fast}}
---
apiVersion: slo-agent/v1
kind: Node
metadata: {{name: acme-pay}}
spec:
  mode: orchestrated
  owner: checkout
  capability: payments
  partner: {{name: '{partner}'}}
  probes:
    - {{name: authorize, interval: 100ms, http: {{url: "{pay}/health", timeout: 100ms}}}}
  slos:
    - {{name: availability, objective: 90, window: 1h, min_events: 5, sli: {{probe: authorize}}}}
  alerting: {{windows: fast}}
---
apiVersion: slo-agent/v1
kind: Journey
metadata: {{name: checkout}}
spec:
  interval: 150ms
  steps:
    - name: add-to-cart
      node: storefront
      http: {{url: "{shop}/cart", method: POST, timeout: 150ms}}
    - {{name: authorize, node: acme-pay, http: {{url: "{pay}/pay", timeout: 150ms}}}}
  slos:
    - {{name: success, objective: 99, window: 3d}}
"""


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk; fails on anything that is not a PNG."""
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def burning(agent: Agent) -> bool:
    snapshot = agent.snapshot
    if snapshot is None:
        return False
    firing = {(s.node, a.severity.value) for s in snapshot.slos() for a in s.firing}
    # a tier can fire on the partner's first failures, before the storefront has counted the
    # spec's min_events: wait for both, or the storefront reads "no data"
    shop_ok = all(s.state is SloState.OK for s in snapshot.slos() if s.node == "storefront")
    return ("acme-pay", "page") in firing and shop_ok and any(v.hops for v in agent.journey_views)


async def test_the_browser_shows_the_running_agents_status(tmp_path: Path) -> None:
    shop = Target({"/health": Reply(200, b"ok"), "/cart": json_reply({"id": "c-1"})})
    pay = Target({"/health": Reply(503, b"down"), "/pay": Reply(503, b"down")})
    browser = Chromium(tmp_path)
    screenshot = ARTIFACTS / "status-page.png"
    async with shop, pay:
        text = SPECS.format(shop=shop.base_url, pay=pay.base_url, partner=PARTNER)
        spec_dir = write_specs(tmp_path / "specs", ecosystem=text)
        async with running_agent(options(spec_dir, tmp_path / "store.db"), {}) as running:
            await eventually(lambda: burning(running.agent), within=30)
            dom = await browser.dump_dom(f"{running.url}/")
            await browser.screenshot(f"{running.url}/", screenshot)

    operated, orchestrated = dom.index('id="operated"'), dom.index('id="orchestrated"')
    assert operated < dom.index('id="node-storefront"') < orchestrated
    assert orchestrated < dom.index('id="node-acme-pay"') < dom.index('id="journeys"')
    assert "Operated nodes" in dom
    assert "Orchestrated nodes" in dom
    # the failing partner pages and has overspent its budget; the storefront is fine
    pay_card = dom[dom.index('id="node-acme-pay"') : dom.index('id="journeys"')]
    assert '<span class="badge page">page</span>' in pay_card
    assert "overspent:" in pay_card
    assert 'partner Acme &lt;Pay&gt; &amp; "Sons"' in pay_card
    # why it fails, next to the failing probe (a 100ms timeout may win under load)
    why = re.compile(
        r'<li class="failure" data-probe="authorize"><strong>authorize</strong> '
        r"(status: <code>expected status in \[200-299\], got 503|timeout: <code>timed out after)"
    )
    assert why.search(pay_card), pay_card
    shop_card = dom[operated:orchestrated]
    assert 'class="failure"' not in shop_card
    assert '<span class="badge ok">ok</span>' in shop_card
    assert "100% left" in shop_card
    # the journey blames the partner's hop for all of its burned budget
    journey = dom[dom.index('id="journey-checkout"') :]
    assert "Burned budget by hop" in journey
    assert "acme-pay <small>orchestrated</small>" in journey
    assert "status " in journey
    assert 'id="decisions"' in dom  # the advisor is wired in: its section is there
    # one state per SLO: the header counts exactly the badges the browser shows
    counts = header_counts(dom)
    assert counts == {label: badge_counts(dom)[label] for label in counts}
    assert len(counts) == 5
    assert sum(counts.values()) == len(slo_rows(dom)) == 3
    assert counts["page"] >= 1
    assert '<meta http-equiv="refresh" content="10">' in dom
    assert "<script" not in dom

    width, height = png_size(screenshot)
    assert (width, height) == (1280, 1400)
    assert screenshot.stat().st_size > 20_000  # a rendered page, not a blank canvas
