"""The status page renderer: pure functions from snapshot, journey views and decisions to HTML."""

from __future__ import annotations

import dataclasses
import re
from html.parser import HTMLParser

import httpx
import pytest

from agent.api.app import create_app
from agent.api.page import PageData, SourceProblem, pending_page, status_page
from agent.api.page_decisions import DecisionRow
from agent.api.page_parts import bar_width, budget_bar
from agent.api.server import AppServer
from agent.journeys.ceiling import Ceiling
from agent.journeys.views import HopShare, JourneyView, PartnerShare
from agent.model import Mode, Severity
from agent.slo.certificates import CertificateStatus
from agent.slo.status import (
    AlertStatus,
    BudgetStatus,
    JourneyStatus,
    NodeStatus,
    SloStatus,
    Snapshot,
    WindowStatus,
)
from tests.support.fakes import StaticView

NOW = 1_700_000_000.0
HOSTILE = '<script>alert("x")</script>&\'"'


def budget(remaining: float | None, minutes: float = 43.2) -> BudgetStatus:
    consumed = None if remaining is None else 1 - remaining
    return BudgetStatus(
        allowed_bad_events=10,
        consumed_events=0 if consumed is None else 10 * consumed,
        consumed_ratio=consumed,
        remaining_ratio=remaining,
        budget_minutes=minutes,
        remaining_minutes=None if remaining is None else remaining * minutes,
    )


def slo(
    node: str = "acme-pay",
    name: str = "availability",
    *,
    mode: str = "orchestrated",
    remaining: float | None = 0.5,
    firing: Severity | None = None,
    burn: float | None = 2.0,
) -> SloStatus:
    windows = (
        *(WindowStatus(label, 100, 2, 0.98, burn) for label in ("5m", "30m", "1h", "2h", "6h")),
        WindowStatus("28d", 1000, 5, 0.995, 0.5),
    )
    alerts = tuple(
        AlertStatus(severity, long, short, factor, burn, burn, firing is severity)
        for severity, long, short, factor in (
            (Severity.PAGE, "1h", "5m", 13.44),
            (Severity.TICKET, "1d", "2h", 2.8),
        )
    )
    return SloStatus(node, name, mode, 0.999, "28d", windows, budget(remaining), alerts, 3600.0 * 5)


def node(name: str, mode: Mode, *slos: SloStatus, partner: str = "") -> NodeStatus:
    return NodeStatus(name, mode, "checkout", "payments", partner, tuple(slos))


def snapshot(*nodes: NodeStatus, journeys: tuple[JourneyStatus, ...] = ()) -> Snapshot:
    return Snapshot(NOW, tuple(nodes), journeys)


class Text(HTMLParser):
    """The visible text of a document, and whether any script element or handler appears."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.tags: list[str] = []
        self.handlers: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.handlers += [name for name, _ in attrs if name.startswith("on")]
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if not self._in_style:
            self.parts.append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.parts).split())


def parse(page: str) -> Text:
    parser = Text()
    parser.feed(page)
    parser.close()
    return parser


def test_nodes_are_grouped_by_mode_with_their_alert_state() -> None:
    page = status_page(
        PageData(
            snapshot(
                node("storefront", Mode.OPERATED, slo("storefront", mode="operated")),
                node("acme-pay", Mode.ORCHESTRATED, slo(firing=Severity.PAGE), partner="Acme Pay"),
            )
        )
    )
    operated = page.index('id="operated"')
    orchestrated = page.index('id="orchestrated"')
    assert operated < page.index('id="node-storefront"') < orchestrated
    assert orchestrated < page.index('id="node-acme-pay"')
    text = parse(page).text
    assert "Operated nodes run by the team · 1" in text
    assert "Orchestrated nodes run by partners · 1" in text
    assert "acme-pay page owner checkout · capability payments · partner Acme Pay" in text
    assert "page 1h/5m: 2\u00d7/2\u00d7 (fires at 13.4\u00d7)" in text
    assert "budget gone in 5h 0m" in text
    assert "2 SLOs · 1 page 0 exhausted 0 ticket 0 no data 1 ok" in text
    assert '<span class="badge count none">0 exhausted</span>' in page
    assert "<title>slo-agent · 1 page, 0 exhausted, 0 ticket</title>" in page


def test_the_page_refreshes_itself_and_lists_the_endpoints_without_scripts() -> None:
    page = status_page(PageData(snapshot(), refresh=7))
    assert '<meta http-equiv="refresh" content="7">' in page
    parsed = parse(page)
    assert "script" not in parsed.tags
    assert not parsed.handlers
    assert "link" not in parsed.tags  # no external stylesheet
    assert "/api/v1/status" in parsed.text
    assert '<a href="/metrics">' in page
    assert "None." in parsed.text  # both mode groups are empty


def test_a_sharded_replica_says_which_shard_it_shows() -> None:
    text = parse(status_page(PageData(snapshot(), shard="1/3"))).text
    assert "shard 1/3 (this replica's nodes)" in text
    assert "shard" not in parse(status_page(PageData(snapshot()))).text


def test_overspent_slos_say_the_budget_is_exhausted() -> None:
    spent = dataclasses.replace(slo(remaining=-0.5), exhaustion_seconds=0.0)
    text = parse(status_page(PageData(snapshot(node("a", Mode.OPERATED, spent))))).text
    assert "budget exhausted" in text
    assert "budget gone in" not in text


def test_hostile_names_labels_and_errors_are_escaped() -> None:
    hop = HopShare(HOSTILE, HOSTILE, "orchestrated", HOSTILE, 2, 2.0, 1.0, {HOSTILE: 2}, ())
    view = JourneyView(
        journey=HOSTILE,
        period="28d",
        slos=(slo(HOSTILE, HOSTILE, mode="journey"),),
        runs=10,
        bad_runs=2.0,
        hops=(hop,),
        partners=(PartnerShare(HOSTILE, "orchestrated", (HOSTILE,), 2.0, 1.0),),
        ceiling=Ceiling(None, (), ()),
    )
    data = PageData(
        snapshot(node(HOSTILE, Mode.ORCHESTRATED, slo(HOSTILE, HOSTILE), partner=HOSTILE)),
        journeys=(view,),
        decisions=(DecisionRow(HOSTILE, HOSTILE, HOSTILE, True, (HOSTILE,), ((HOSTILE, 1.0),)),),
        reload_error=HOSTILE,
        source_problems=(SourceProblem(HOSTILE, HOSTILE, HOSTILE),),
    )
    page = status_page(data)
    parsed = parse(page)
    assert "<script" not in page
    assert "script" not in parsed.tags
    assert not parsed.handlers
    # the hostile text shows as text, exactly, wherever it is used
    assert parsed.text.count(HOSTILE) >= 12
    assert 'id="node-&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#x27;&quot;"' in page


@pytest.mark.parametrize(
    ("ratio", "width"),
    [(None, 0.0), (float("nan"), 0.0), (-3.5, 0.0), (0.0, 0.0), (0.25, 25.0), (1.0, 100.0)],
)
def test_bar_widths_are_clamped_to_0_100(ratio: float | None, width: float) -> None:
    assert bar_width(ratio) == width
    assert bar_width(7.0) == 100.0


def test_budget_bars_show_level_overspent_and_no_data() -> None:
    assert 'class="budget good"' in budget_bar(budget(0.8))
    assert 'style="width:80.0%"' in budget_bar(budget(0.8))
    assert "80% left · 34.6 min" in budget_bar(budget(0.8))
    assert 'class="budget low"' in budget_bar(budget(0.3))
    assert 'class="budget critical"' in budget_bar(budget(0.1))
    overspent = budget_bar(budget(-1.4))
    assert 'class="budget overspent"' in overspent
    assert 'style="width:0.0%"' in overspent
    assert "overspent: used 2.4\u00d7 the budget" in overspent
    assert "overspent: used 2,000\u00d7 the budget" in budget_bar(budget(-1999.0))
    assert "no data" in budget_bar(budget(None))
    slos = [slo(name=f"s{i}", remaining=r) for i, r in enumerate((-1.4, 0.3, 1.5, None))]
    page = status_page(PageData(snapshot(node("acme-pay", Mode.ORCHESTRATED, *slos))))
    widths = re.findall(r'style="width:(-?[\d.]+)%"', page)
    assert widths == ["0.0", "30.0", "100.0"]  # clamped; no bar without data


def test_journeys_show_blame_per_hop_and_the_ceiling() -> None:
    hops = (
        HopShare(
            "authorize", "acme-pay", "orchestrated", "Acme Pay", 3, 3.0, 0.75, {"status": 3}, ()
        ),
        HopShare("add-to-cart", "storefront", "operated", "", 1, 1.0, 0.25, {"timeout": 1}, ()),
    )
    view = JourneyView(
        "checkout",
        "28d",
        (slo("checkout", "success", mode="journey", firing=Severity.TICKET),),
        40,
        4.0,
        hops,
        (),
        Ceiling(0.85, (), ("success",)),
    )
    page = status_page(PageData(snapshot(), journeys=(view,)))
    text = parse(page).text
    assert "checkout ticket 40 runs, 4 bad in 28d · ceiling 85% above ceiling: success" in text
    assert "authorize acme-pay orchestrated Acme Pay 3 75% status 3" in text
    assert "add-to-cart storefront operated the team 1 25% timeout 1" in text
    assert 'style="width:75.0%"' in page


def test_journeys_and_decisions_are_absent_without_data() -> None:
    page = status_page(PageData(snapshot()))
    assert 'id="journeys"' not in page
    assert 'id="decisions"' not in page


def test_decisions_render_with_their_reasons_when_the_advisor_runs() -> None:
    rows = (
        DecisionRow(
            "acme-pay",
            "orchestrated",
            "review: operate",
            True,
            ("strict SLO with no working fallback",),
            (("slo_criticality", 4.5), ("brand_control", 2.0)),
        ),
        DecisionRow("storefront", "operated", "keep", False),
    )
    text = parse(status_page(PageData(snapshot(), decisions=rows))).text
    assert "acme-pay orchestrated review: operate strict SLO with no working fallback" in text
    assert "slo_criticality 4.5 · brand_control 2" in text
    assert "storefront operated keep" in text
    empty = parse(status_page(PageData(snapshot(), decisions=()))).text
    assert "No decision reviews." in empty


def test_pending_page_says_the_first_evaluation_is_pending() -> None:
    page = pending_page(refresh=3)
    text = parse(page).text
    assert "First evaluation pending" in text
    assert '<meta http-equiv="refresh" content="3">' in page
    assert "/readyz" in text


async def test_the_agent_serves_the_page_read_only() -> None:
    view = StaticView(None)
    app = create_app(view, lambda: b"", "text/plain; version=0.0.4")
    async with AppServer(app) as server, httpx.AsyncClient(base_url=server.url) as client:
        pending = await client.get("/")
        view.snapshot = snapshot(node("storefront", Mode.OPERATED, slo(mode="operated")))
        ready = await client.get("/")
        head = await client.head("/")
        post = await client.post("/", content=b"x")
    assert pending.status_code == 503
    assert "First evaluation pending" in pending.text
    assert ready.status_code == 200
    assert ready.headers["content-type"] == "text/html; charset=utf-8"
    assert "default-src 'none'" in ready.headers["content-security-policy"]
    assert 'id="node-storefront"' in ready.text
    assert head.status_code == 200
    assert post.status_code == 405
    # the footer lists what the app serves, and only that
    assert '<a href="/api/v1/journeys">' in ready.text
    assert "/api/v1/decisions" not in ready.text


def test_each_probe_with_a_certificate_shows_its_days_left() -> None:
    at = 1_800_000_000.0
    day = 86400.0
    certs = (
        CertificateStatus("acme-pay", "authorize", at + 40.5 * day, 14 * day),
        CertificateStatus("acme-pay", "smtps", at + 1.2 * day, 14 * day),
        CertificateStatus("acme-pay", "legacy", at - 3.5 * day, 14 * day),
        CertificateStatus("other", "api", at + 90 * day, 14 * day),
    )
    shot = dataclasses.replace(
        snapshot(node("acme-pay", Mode.ORCHESTRATED, slo(), partner="Acme")),
        evaluated_at=at,
        certificates=certs,
    )

    page = status_page(PageData(shot))

    spans = re.findall(r'<span class="cert (\w+)" data-probe="[^"]*">([^<]*)</span>', page)
    assert spans == [
        ("ok", "authorize: 40 days left"),
        ("expiring", "smtps: 1 day left"),
        ("expired", "legacy: expired 3 days ago"),
    ]  # a node's own only: "other" has no card here


def test_no_certificate_no_line() -> None:
    page = status_page(PageData(snapshot(node("shop", Mode.OPERATED, slo("shop")))))

    assert 'class="certs"' not in page
