"""Which alerts a snapshot fires, their labels and annotations, and the JSON sent (golden)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest

from agent.durations import format_duration
from agent.model import Alerting, CalendarWindow, RollingWindow, SpecSet
from agent.slo.alerts import burn_factor
from agent.slo.evaluate import evaluate_slo
from agent.slo.events import Counts
from agent.slo.status import AlertStatus, JourneyStatus, Snapshot
from exporters.alerting import (
    ABSENT,
    BURN,
    EXHAUSTED,
    absent_labels,
    burn_labels,
    exhausted_labels,
    format_factor,
)
from exporters.alertmanager.payload import Notice, firing_alerts, payload, timestamp
from exporters.prometheus.rules.alerts import burn_rule
from exporters.prometheus.rules.identity import SloIdentity
from tests.exporters.alertmanager.statuses import (
    BURNING,
    CLEAN,
    NOW,
    TICKET_ONLY,
    acme_pay,
    snapshot,
    specs,
)
from tests.support.builders import WORKBOOK, journey, spec_set

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "alertmanager"
HOUR = 3600.0
LATENCY_SILENT_FOR_2H = {("acme-pay", "latency"): NOW - 2 * HOUR}


def check_golden(name: str, text: str, update: bool) -> None:
    path = GOLDEN / name
    if update:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.exists(), f"{path} is missing: run pytest --update-golden"
    assert text == path.read_text(), f"{path} differs: review, then run pytest --update-golden"


def burning_payload(set_: SpecSet, generator_url: str | None) -> list[dict[str, Any]]:
    current = snapshot(set_, {"availability": BURNING})  # latency: no events at all
    alerts = firing_alerts(current, set_, LATENCY_SILENT_FOR_2H)
    notices = [Notice(alert, NOW - 300, NOW + 240) for alert in alerts.values()]
    return payload(notices, generator_url)


def by_labels(labels: Iterable[Mapping[str, str]]) -> list[Mapping[str, str]]:
    return sorted(labels, key=lambda each: sorted(each.items()))


def firing_names(counts: Mapping[str, Mapping[str, Counts]], set_: SpecSet) -> list[str]:
    alerts = firing_alerts(snapshot(set_, counts), set_, {})
    return sorted(f"{a.name}/{a.labels['slo']}/{a.labels.get('long', '')}" for a in alerts.values())


def test_the_payload_of_a_burning_exhausted_and_silent_node_matches_the_golden_file(
    update_golden: bool,
) -> None:
    body = burning_payload(specs(), "http://127.0.0.1:9464/api/v1/status")

    check_golden("payload.json", json.dumps(body, indent=2) + "\n", update_golden)
    names = [(a["labels"]["alertname"], a["labels"]["slo"]) for a in body]
    assert names == [
        (BURN, "availability"),
        (BURN, "availability"),
        (EXHAUSTED, "availability"),
        (ABSENT, "latency"),
    ]
    assert {a["startsAt"] for a in body} == {"2023-11-14T22:08:20.000Z"}
    assert {a["endsAt"] for a in body} == {"2023-11-14T22:17:20.000Z"}


def test_alerts_carry_exactly_the_labels_of_the_generated_rules() -> None:
    set_ = specs()
    [node] = set_.nodes
    availability, latency = node.slos
    page_1h, _, ticket_1d, _ = set_.windows_for(node).tiers
    assert isinstance(availability.window, RollingWindow)
    period = availability.window.length

    body = burning_payload(set_, None)

    expected = [
        {"alertname": BURN, **burn_labels(node, availability, t, burn_factor(t, period))}
        for t in (page_1h, ticket_1d)
    ]
    expected += [
        {"alertname": EXHAUSTED, **exhausted_labels(node, availability)},
        {"alertname": ABSENT, **absent_labels(node, latency)},
    ]
    assert by_labels([a["labels"] for a in body]) == by_labels(expected)
    assert [a["labels"]["burn_rate"] for a in body[:2]] == ["14.4", "3"]
    assert all(a["labels"]["team"] == "checkout" for a in body)
    assert all("generatorURL" not in a for a in body)


def test_annotations_quote_the_numbers_and_carry_the_spec_annotations() -> None:
    page, ticket, exhausted, absent = burning_payload(specs(), None)

    assert page["annotations"] == {
        "runbook_url": "https://runbooks.example/acme-pay",
        "summary": "acme-pay/availability burns its error budget at 25x over 1h and 100x "
        "over 5m (threshold 14.4x)",
        "description": "SLO 99.9% over 30d. Burn rate 25x over 1h and 100x over 5m, at or "
        "above 14.4x: 2% of the error budget would be spent in 1h. Error budget left: "
        "-33.3% (-14.4 of 43.2 minutes).",
    }
    assert "threshold 3x" in ticket["annotations"]["summary"]
    assert exhausted["annotations"]["description"] == (
        "SLO 99.9% over 30d. 400 bad events so far in the period, 300 allowed. "
        "Error budget left: -33.3% (-14.4 of 43.2 minutes)."
    )
    assert absent["annotations"]["summary"] == "acme-pay/latency has recorded no events in 1h"


def test_the_spec_annotations_win_over_the_generated_ones() -> None:
    node = acme_pay()
    custom = Alerting(annotations={"summary": "Acme Pay is failing", "dashboard": "https://g/x"})
    set_ = spec_set(dataclasses.replace(node, alerting=custom))

    [page, *_] = burning_payload(set_, None)

    assert page["annotations"]["summary"] == "Acme Pay is failing"
    assert page["annotations"]["dashboard"] == "https://g/x"
    assert page["annotations"]["description"].startswith("SLO 99.9% over 30d. Burn rate 25x")


def test_only_the_tiers_that_fire_raise_burn_alerts() -> None:
    set_ = specs()

    assert firing_names({"availability": TICKET_ONLY}, set_) == [
        f"{BURN}/availability/1d",
        f"{EXHAUSTED}/availability/",
    ]
    assert firing_names({"availability": CLEAN}, set_) == []


def test_no_data_raises_no_burn_and_no_exhausted_alert() -> None:
    set_ = specs()
    few = {label: Counts(2, 2) for label in BURNING}  # below min_events (3) everywhere

    assert firing_names({"availability": few, "latency": few}, set_) == []


def test_an_slo_is_absent_only_after_an_hour_without_events_while_watched() -> None:
    set_ = specs()
    silent = snapshot(set_, {"availability": CLEAN})
    probing = snapshot(set_, {"availability": CLEAN, "latency": CLEAN})

    def absent(watched_for: float, current: Any = silent) -> list[str]:
        since = {("acme-pay", "latency"): NOW - watched_for}
        alerts = firing_alerts(current, set_, since).values()
        return [a.labels["slo"] for a in alerts if a.name == ABSENT]

    assert absent(0) == []  # just started: its first probes have not run yet
    assert absent(HOUR - 1) == []
    assert absent(HOUR) == ["latency"]
    assert absent(2 * HOUR, probing) == []
    assert absent(HOUR) == absent(HOUR + 1)  # availability has events and never is absent


def test_slos_of_nodes_the_specs_do_not_hold_are_skipped() -> None:
    set_ = specs()
    other = spec_set(dataclasses.replace(acme_pay(), name="other"))

    current = snapshot(set_, {"availability": BURNING})

    assert firing_alerts(current, other, {}) == {}


def test_a_journey_slo_alerts_like_a_node_slo_named_by_the_journey() -> None:
    checkout = dataclasses.replace(
        journey("checkout", steps_to=("acme-pay",)),
        alerting=Alerting(labels={"team": "checkout"}, annotations={"runbook_url": "https://rb"}),
    )
    set_ = spec_set(acme_pay(), journeys=(checkout,))
    [slo] = checkout.slos
    page_1h, _, ticket_1d, _ = set_.windows_for(checkout).tiers
    assert isinstance(slo.window, RollingWindow)
    current = Snapshot(
        NOW,
        (),
        (
            JourneyStatus(
                "checkout", (evaluate_slo("checkout", "journey", slo, WORKBOOK, BURNING, NOW),)
            ),
        ),
    )

    alerts = firing_alerts(current, set_, {})

    labels = by_labels(a.labels for a in alerts.values())
    expected = [
        {"alertname": BURN, **burn_labels(checkout, slo, t, burn_factor(t, slo.window.length))}
        for t in (page_1h, ticket_1d)
    ]
    expected.append({"alertname": EXHAUSTED, **exhausted_labels(checkout, slo)})
    assert labels == by_labels(expected)
    assert {(a["node"], a["mode"], a["team"]) for a in labels} == {
        ("checkout", "journey", "checkout")
    }
    assert all(a.annotations["runbook_url"] == "https://rb" for a in alerts.values())


def test_timestamps_are_rfc3339_utc_with_milliseconds() -> None:
    assert timestamp(0) == "1970-01-01T00:00:00.000Z"
    assert timestamp(NOW + 0.25) == "2023-11-14T22:13:20.250Z"


def month_alerts(at: float) -> tuple[list[AlertStatus], dict[str, Mapping[str, str]]]:
    """A calendar-month version of the burning SLO at ``at``: its tiers, and the labels of its
    pushed burn alerts by long window."""
    node = acme_pay()
    month = dataclasses.replace(node.slos[0], window=CalendarWindow())
    set_ = spec_set(dataclasses.replace(node, slos=(month,)))
    counts = {**BURNING, "month": BURNING["30d"]}
    current = snapshot(set_, {"availability": counts}, at)
    alerts = firing_alerts(current, set_, {}).values()
    tiers = list(current.slos()[0].alerts)
    return tiers, {a.labels["long"]: a.labels for a in alerts if a.name == BURN}


@pytest.mark.parametrize(
    ("at", "page_factor", "labels"),
    [
        (1_702_000_000.0, 14.88, {"1h": "14.88", "1d": "3.1"}),  # 2023-12-08: 31 days
        (1_677_000_000.0, 13.44, {"1h": "13.44", "1d": "2.8"}),  # 2023-02-21: 28 days
    ],
)
def test_a_calendar_month_slo_is_labelled_with_the_factor_it_fires_at(
    at: float, page_factor: float, labels: dict[str, str]
) -> None:
    tiers, pushed = month_alerts(at)

    page = tiers[0]
    assert page.firing
    assert page.factor == pytest.approx(page_factor)  # the agent judges by the real month
    assert {long: each["burn_rate"] for long, each in pushed.items()} == labels
    firing = {t.long: format_factor(t.factor) for t in tiers if t.firing}
    assert firing == labels  # the label is the threshold it fired at, not the 30-day one


def test_in_a_30_day_month_the_push_carries_exactly_the_generated_rules_labels() -> None:
    node = acme_pay()
    month = dataclasses.replace(node.slos[0], window=CalendarWindow())
    owner = dataclasses.replace(node, slos=(month,))
    tiers = spec_set(owner).windows_for(owner).tiers
    rules = {
        format_duration(t.long): {
            "alertname": BURN,
            **burn_rule(SloIdentity(owner, month), t).labels,
        }
        for t in tiers
    }

    _, pushed = month_alerts(NOW)  # 2023-11-14: November has 30 days, like the rules' month

    assert pushed == {long: rules[long] for long in ("1h", "1d")}
    assert pushed["1h"]["burn_rate"] == "14.4"
