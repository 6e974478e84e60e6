"""A flag the measurements point to but the hysteresis has not brought into force yet shows as
pending, with when it takes effect, on the status page, ``/api/v1/decisions`` and ``advise``,
never as a bare "keep" next to reasons that argue for the flag."""

from __future__ import annotations

import dataclasses
import io

from rich.console import Console

from agent.advisor.figures import percent, reason
from agent.advisor.hysteresis import FlagState
from agent.advisor.recommend import Advice, Recommendation
from agent.advisor.review import DecisionReport, review_nodes
from agent.api.decisions_json import decision_rows, decisions_json
from agent.api.page import PageData, status_page
from agent.cli.advise import render_table
from agent.slo.status import Snapshot
from agent.spec.defaults import default_decision_policy
from tests.support.builders import node

NOW = 1_700_000_000.0
OPERATE = Recommendation.OPERATE.value
WHY = reason("drills succeeded {rate} of the time", rate=percent("rate", 0.5))


def report_with_a_pending_flag() -> DecisionReport:
    """acme-pay: its measurements point to "review: operate", 2m10s short of the policy's
    sustain; storefront: nothing pending."""
    policy = default_decision_policy()
    report, _ = review_nodes([node("acme-pay"), node("storefront")], [], {}, NOW, policy, {})
    sustain = report.sustain
    since = NOW - sustain + 130  # 2m10s to go
    acme, shop = report.reviews
    pending = dataclasses.replace(
        acme,
        advice=Advice(Recommendation.OPERATE, None, (WHY,)),
        state=FlagState(candidate=OPERATE, candidate_since=since),
    )
    return dataclasses.replace(report, reviews=(pending, shop))


def test_the_decisions_json_says_what_is_pending_and_when() -> None:
    body = decisions_json(report_with_a_pending_flag())

    acme, shop = body["nodes"]
    assert (acme["recommendation"], acme["flagged"]) == ("keep", False)
    assert acme["measured"]["recommendation"] == OPERATE
    pending = acme["pending"]
    assert pending is not None
    assert pending["recommendation"] == OPERATE
    assert pending["takes_effect_in_seconds"] == 130
    assert pending["takes_effect_at"] == "2023-11-14T22:15:30.000Z"
    assert pending["text"] == "pending: review: operate, takes effect in 2m10s"
    assert acme["reasons"][0]["text"] == WHY.text
    assert shop["pending"] is None


def test_the_status_page_shows_the_pending_flag_next_to_its_reasons() -> None:
    rows = decision_rows(report_with_a_pending_flag())
    page = status_page(PageData(Snapshot(NOW, ()), decisions=rows))

    acme = page[page.index('<th scope="row">acme-pay</th>') : page.index("storefront")]
    assert (
        '<span class="badge pending">pending: review: operate, takes effect in 2m10s</span>' in acme
    )
    assert f"<li>{WHY.text}</li>" in acme
    shop = page[page.index('<th scope="row">storefront</th>') :]
    assert "pending" not in shop.split("</tr>")[0]


def test_advise_shows_the_pending_flag() -> None:
    out = io.StringIO()
    render_table(report_with_a_pending_flag(), Console(file=out, width=220, color_system=None))
    text = out.getvalue()

    acme = text[text.index("acme-pay") : text.index("storefront")]
    assert "pending: review: operate, takes effect in 2m10s" in " ".join(acme.split())
    assert "keep" in acme
