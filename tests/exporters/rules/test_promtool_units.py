"""``promtool test rules`` on the generated rules of a 99.9%/30d SLO with the default tiers.

Synthetic counters at 1000 events per minute, sampled every minute. Error budget 0.1%; burn
rate = error ratio / 0.001. The tiers (factor = budget share x 30d / long window): page 14.4
over 1h and 5m, page 6 over 6h and 30m, ticket 3 over 1d and 2h, ticket 1 over 3d and 6h.
Samples fall exactly on the window edges (a range [t-W, t] holds W/1m + 1 samples), so
``increase`` over W counts exactly the events of the last W minutes, and every threshold
crossing below is computed to the minute.

promtool evaluates every rule at every evaluation interval from time 0; at about a
quarter of a millisecond per rule and step, three days at 1m would take ~20 s per test. The
burn alerts have no ``for`` and read only the current samples, so where a scenario needs no
minute-exact check its evaluation interval is coarser (2m, 10m): an alert fires at the first
evaluation after its condition holds, which is what Prometheus does at its own interval.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from agent.model import Mode, PrometheusSli
from exporters.prometheus.rules import SloRules, render, rule_set
from tests.exporters.rules.scenario import (
    UnitTest,
    alerting_rules,
    burn_rule,
    expect,
    firing,
    run_unit_tests,
    traffic,
)
from tests.support.builders import journey, node, spec_set

BURN = "ErrorBudgetBurn"
EXHAUSTED = "ErrorBudgetExhausted"
ABSENT = "SLIMetricAbsent"
BUDGET = 0.001
RATE = 1000  # events per minute
CLEAN = 3 * 24 * 60  # three days of clean traffic first, in minutes
HOUR, DAY, THREE_DAYS = 60 * RATE, 1440 * RATE, 4320 * RATE  # events per window

SLO = {"node": "shop", "slo": "availability", "mode": "operated"}
PAGE_1H = {**SLO, "severity": "page", "long": "1h", "short": "5m", "burn_rate": "14.4"}
PAGE_6H = {**SLO, "severity": "page", "long": "6h", "short": "30m", "burn_rate": "6"}
TICKET_1D = {**SLO, "severity": "ticket", "long": "1d", "short": "2h", "burn_rate": "3"}
TICKET_3D = {**SLO, "severity": "ticket", "long": "3d", "short": "6h", "burn_rate": "1"}
SERIES = (
    'mode="operated", node="shop", slo="availability", sloth_id="shop-availability", '
    'sloth_service="shop", sloth_slo="availability"'
)


@pytest.fixture(scope="module")
def slo_rules() -> SloRules:
    [rules] = rule_set(spec_set(node("shop", mode=Mode.OPERATED, objective=0.999)))
    return rules


def run(tmp_path: Path, rules: SloRules, test: UnitTest, evaluation_interval: str) -> None:
    done = run_unit_tests(tmp_path, render([rules]), rules, [test], evaluation_interval)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def shop(*segments: tuple[int, float, float]) -> list[dict[str, str]]:
    return traffic("shop", "availability", "operated", segments)


def test_a_total_outage_pages_within_two_minutes_and_every_alert_resolves(
    tmp_path: Path, slo_rules: SloRules
) -> None:
    test = UnitTest("outage", shop((CLEAN, RATE, 0), (3, RATE, RATE), (60, RATE, 0)))
    test.alert_at(CLEAN, BURN)
    # 2 minutes in: 2000 bad events in the last hour = burn 2000/60000/0.001 = 33.3 >= 14.4,
    # and 2000 of 5000 over 5m. The 6h tier is still at 2000/360000/0.001 = 5.6 < 6.
    test.alert_at(
        CLEAN + 2, BURN, expect(burn_rule(slo_rules, "1h"), PAGE_1H, 2000 / HOUR / BUDGET)
    )
    # 3 minutes of outage, then 3000/360000/0.001 = 8.3 >= 6 over 6h and 30m: both pages
    page_1h = expect(burn_rule(slo_rules, "1h"), PAGE_1H, 3000 / HOUR / BUDGET)
    page_6h = expect(burn_rule(slo_rules, "6h"), PAGE_6H, 3000 / (6 * HOUR) / BUDGET)
    test.alert_at(CLEAN + 6, BURN, page_1h, page_6h)
    # recovered: the 5m window is clean from +8 (1h tier off), the 30m window from +33
    test.alert_at(CLEAN + 10, BURN, page_6h)
    test.alert_at(CLEAN + 34, BURN)
    # 3000 bad of 4.3 million events in the period: 69% of the budget spent, not exhausted
    test.alert_at(CLEAN + 34, EXHAUSTED)
    test.alert_at(CLEAN + 62, BURN)
    run(tmp_path, slo_rules, test, "2m")


def test_two_percent_errors_page_after_about_43_minutes_and_not_before(
    tmp_path: Path, slo_rules: SloRules
) -> None:
    # 2% errors = burn 20. After m minutes the 1h window holds 20m bad events of 60000:
    # burn m/3, which reaches 14.4 at m = 43.2. Evaluated every 2 minutes: nothing at 42
    # (burn 14.0), the page at 44 (14.67). The 5m window burns at 20 from minute 5; the 6h
    # tier would need m/18 >= 6 (108 minutes), the tickets a day and more.
    test = UnitTest("two-percent", shop((CLEAN, RATE, 0), (50, RATE, 20), (30, RATE, 0)))
    test.alert_at(CLEAN + 30, BURN)
    test.alert_at(CLEAN + 42, BURN)
    page = expect(burn_rule(slo_rules, "1h"), PAGE_1H, 44 * 20 / HOUR / BUDGET)
    test.alert_at(CLEAN + 44, BURN, page)
    # errors stop at +50; the 5m window is clean at +55
    test.alert_at(CLEAN + 56, BURN)
    run(tmp_path, slo_rules, test, "2m")


def test_half_a_percent_raises_only_a_ticket_after_about_14_hours(
    tmp_path: Path, slo_rules: SloRules
) -> None:
    # 0.5% errors = burn 5: below both page factors (14.4, 6) for good. After m minutes the 1d
    # window holds 5m bad events of 1.44 million (burn m/288) and the 3d window 5m of 4.32
    # million (burn m/864): both ticket tiers (3 and 1) are reached at m = 864, i.e. 14.4 h.
    test = UnitTest("half-percent", shop((CLEAN, RATE, 0), (960, RATE, 5), (380, RATE, 0)))
    test.alert_at(CLEAN + 840, BURN)  # 14h: burn 2.92 over 1d, 0.97 over 3d
    ticket_1d, ticket_3d = burn_rule(slo_rules, "1d"), burn_rule(slo_rules, "3d")
    for minute in (870, 960):  # 14h30m, and 16h when the errors stop: tickets, no page
        test.alert_at(
            CLEAN + minute,
            BURN,
            expect(ticket_1d, TICKET_1D, 5 * minute / DAY / BUDGET),
            expect(ticket_3d, TICKET_3D, 5 * minute / THREE_DAYS / BUDGET),
        )
    # the 2h short window is clean at +18h, the 6h one at +22h
    test.alert_at(CLEAN + 960 + 370, BURN)
    # 4800 bad events of 5.28 million: 91% of the budget spent, not exhausted
    test.alert_at(CLEAN + 960 + 370, EXHAUSTED)
    run(tmp_path, slo_rules, test, "10m")


def test_five_hundredths_of_a_percent_never_alerts(tmp_path: Path, slo_rules: SloRules) -> None:
    # 0.05% errors = burn 0.5 over every window, below the lowest factor (1); checked every
    # hour for three days, when even the 3d window holds nothing else
    test = UnitTest("five-hundredths", shop((CLEAN + 60, RATE, 0.5)))
    for minute in range(60, CLEAN + 60, 60):
        test.alert_at(minute, BURN)
        test.alert_at(minute, EXHAUSTED)
    run(tmp_path, slo_rules, test, "10m")


def test_an_exhausted_budget_alerts_at_once(tmp_path: Path, slo_rules: SloRules) -> None:
    # A total outage after a clean hour: the period so far allows 0.1% of its events, and
    # 1000 bad of 61000 at +1 spend it 16 times over (remaining 1 - 16.4 < 0). The alert fires
    # at the first evaluation that sees it, as the agent's state and push do (no `for`).
    test = UnitTest("exhausted", shop((60, RATE, 0), (20, RATE, RATE)))
    test.alert_at(59, EXHAUSTED)
    [rule] = alerting_rules(slo_rules, EXHAUSTED)
    labels = {**SLO, "severity": "ticket"}
    for minute in (61, 66):
        remaining = 1 - ((minute - 60) * RATE / (minute * RATE)) / BUDGET
        test.alert_at(minute, EXHAUSTED, expect(rule, labels, remaining))
    run(tmp_path, slo_rules, test, "1m")


def test_missing_sli_counters_raise_sli_metric_absent_after_ten_minutes(
    tmp_path: Path, slo_rules: SloRules
) -> None:
    other = [{"series": 'slo_agent_sli_events_total{node="other",slo="x"}', "values": "0+1x30"}]
    test = UnitTest("absent", other)
    test.alert_at(9, ABSENT)
    [rule] = alerting_rules(slo_rules, ABSENT)
    labels = {**SLO, "severity": "ticket"}
    test.alert_at(10, ABSENT, {"exp_labels": labels, "exp_annotations": dict(rule.annotations)})
    run(tmp_path, slo_rules, test, "1m")


def test_period_sli_is_the_ratio_of_sums_under_uneven_traffic(
    tmp_path: Path, slo_rules: SloRules
) -> None:
    # 5 h at 1000/min without errors, then 5 h at 10/min with half of them failing:
    # 1500 bad of 303000 events. Prometheus divides the same two doubles as this literal, so
    # `== bool` compares exactly, no tolerance. (Averaging the 5m ratios, as Sloth's period
    # SLI does, would give about 25%: half the time 0, half the time 50%.)
    test = UnitTest("uneven", shop((300, RATE, 0), (300, 10, 5)))
    ratio = 'slo:sli_error:ratio_rate30d{sloth_slo="availability"}'
    test.expr_at(600, f"{ratio} == bool (1500 / 303000)", f'{{{SERIES}, sloth_window="30d"}}', 1)
    burn = 'slo:period_burn_rate:ratio{sloth_slo="availability"}'
    test.expr_at(600, f"{burn} == bool (1500 / 303000 / 0.001)", f"{{{SERIES}}}", 1)
    average = 'avg_over_time(slo:sli_error:ratio_rate5m{sloth_slo="availability"}[10h]) > bool 0.2'
    test.expr_at(600, average, f'{{{SERIES}, sloth_window="5m"}}', 1)
    run(tmp_path, slo_rules, test, "1m")


def prometheus_sli_rules() -> SloRules:
    """The rules of shop/availability measured by the shop's own request counter."""
    shop = node("shop", mode=Mode.OPERATED)
    sli = PrometheusSli(
        error_query='sum(rate(http_requests_total{job="shop",code=~"5.."}[{{window}}]))',
        total_query='sum(rate(http_requests_total{job="shop"}[{{window}}]))',
    )
    shop = dataclasses.replace(shop, slos=(dataclasses.replace(shop.slos[0], sli=sli),))
    [rules] = rule_set(spec_set(shop))
    return rules


def test_a_prometheus_sli_counts_a_missing_error_series_as_no_errors(tmp_path: Path) -> None:
    rules = prometheus_sli_rules()
    ratio = 'slo:sli_error:ratio_rate5m{sloth_slo="availability"}'
    labels = f'slo:sli_error:ratio_rate5m{{{SERIES}, sloth_window="5m"}}'
    # no 5xx series at all: 0% errors, not "no data"
    quiet = UnitTest(
        "no-errors",
        [{"series": 'http_requests_total{job="shop",code="200"}', "values": "0+100x60"}],
    )
    quiet.expr_at(30, ratio, labels, 0)
    # as many 500s as 200s: exactly half (x / (x + x))
    half = UnitTest(
        "half-errors",
        [
            {"series": 'http_requests_total{job="shop",code="200"}', "values": "0+7x60"},
            {"series": 'http_requests_total{job="shop",code="500"}', "values": "0+7x60"},
        ],
    )
    half.expr_at(30, ratio, labels, 0.5)
    done = run_unit_tests(tmp_path, render([rules]), rules, [quiet, half], "1m")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_a_journey_outage_pages_with_the_journey_as_node(tmp_path: Path) -> None:
    """A journey's SLO gets the same tiers, fed by its own SLI counters (node=<journey>,
    mode=journey), and its alerts carry those labels."""
    checkout = journey("checkout", objective=0.999, steps_to=("shop",))
    [rules] = rule_set(spec_set(node("shop", mode=Mode.OPERATED), journeys=(checkout,)))[1:]
    assert (rules.node, rules.slo) == ("checkout", "success")
    runs = traffic("checkout", "success", "journey", ((CLEAN, RATE, 0), (3, RATE, RATE)))
    test = UnitTest("journey outage", runs)
    test.alert_at(CLEAN, BURN)
    labels = {**PAGE_1H, "node": "checkout", "slo": "success", "mode": "journey"}
    test.alert_at(CLEAN + 2, BURN, expect(burn_rule(rules, "1h"), labels, 2000 / HOUR / BUDGET))
    run(tmp_path, rules, test, "2m")


def test_a_counter_that_stops_growing_raises_sli_metric_absent_after_an_hour(
    tmp_path: Path, slo_rules: SloRules
) -> None:
    """The probes stop at minute 30 but the agent stays scraped (the counters stay, flat): no
    event for 1h, then 10m more, raises the alert, as the agent's own push does after 1h."""
    test = UnitTest("stopped", shop((30, RATE, 0), (120, 0, 0)))
    [rule] = alerting_rules(slo_rules, ABSENT)
    labels = {**SLO, "severity": "ticket"}
    firing = {"exp_labels": labels, "exp_annotations": dict(rule.annotations)}
    test.alert_at(90, ABSENT)  # 1h without events: from now on it is pending for 10m
    test.alert_at(99, ABSENT)
    test.alert_at(100, ABSENT, firing)
    run(tmp_path, slo_rules, test, "1m")


# --- min_events and a firing tier that holds ---------------------------------------------------

PROBES = 12  # events per minute: a probe every 5 s
PAGE_1H_SERIES = 'ALERTS{alertname="ErrorBudgetBurn", alertstate="firing", long="1h"}'


def sparse(minutes: int, bad: bool) -> list[tuple[int, float, float]]:
    """One event every 10 minutes, at the start of each 10, for ``minutes`` minutes."""
    return [(1, 1, 1 if bad else 0), (9, 0, 0)] * (minutes // 10)


def test_two_bad_events_are_no_data_and_a_third_raises_every_tier(
    tmp_path: Path, slo_rules: SloRules
) -> None:
    # The SLO's min_events is 3 (the default): with two events in all, every window has no data,
    # so nothing fires however bad they were (the agent says "no data" too). A third, a minute
    # later, gives the 5m window and every longer one 3 bad events of 3: burn 1000 everywhere.
    two = UnitTest("two-bad-events", shop((10, 0, 0), (2, 1, 1), (60, 0, 0)))
    for minute in range(1, 72):
        two.alert_at(minute, BURN)
    three = UnitTest("three-bad-events", shop((10, 0, 0), (3, 1, 1), (10, 0, 0)))
    three.alert_at(12, BURN)
    tiers = [(PAGE_1H, "1h"), (PAGE_6H, "6h"), (TICKET_1D, "1d"), (TICKET_3D, "3d")]
    everything = [expect(burn_rule(slo_rules, long), labels, 1 / BUDGET) for labels, long in tiers]
    three.alert_at(13, BURN, *everything)
    three.alert_at(15, BURN, *everything)
    # at 16 the 5m window holds two of them: no data, and the 1h/5m page was firing: it holds
    three.alert_at(16, BURN, *everything)
    done = run_unit_tests(tmp_path, render([slo_rules]), slo_rules, [two, three], "1m")
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_firing_page_holds_while_traffic_thins_out_and_resolves_on_a_clean_short_window(
    tmp_path: Path, slo_rules: SloRules
) -> None:
    # A clean hour, a 10-minute outage from 60, then one failing event every 10 minutes (the
    # 5m window holds at most one: no data) and clean traffic again from 100.
    outage = [(60, PROBES, 0), (10, PROBES, PROBES)]
    test = UnitTest("thinning", shop(*outage, *sparse(30, bad=True), (20, PROBES, 0)))
    test.samples_at(60, PAGE_1H_SERIES)
    page = firing(BURN, PAGE_1H)
    # 12 bad of 720 in the last hour: burn 16.7 >= 14.4, and 12 of 60 over 5m
    test.samples_at(61, PAGE_1H_SERIES, (page, 1))
    # from 75 the 5m window has no data; the 1h window burns (at 100: 123 bad of 363 events)
    for minute in (74, 75, 80, 90, 99, 100):
        test.samples_at(minute, PAGE_1H_SERIES, (page, 1))
    # 101: the 5m window holds 12 good events: data, burn 0, resolved; it does not come back
    # while the 1h window still burns (123 bad of 375 events at 101)
    for minute in (101, 105, 110, 119):
        test.samples_at(minute, PAGE_1H_SERIES)
    done = run_unit_tests(tmp_path, render([slo_rules]), slo_rules, [test], "1m")
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_firing_page_holds_through_silence_until_its_long_window_has_no_data(
    tmp_path: Path, slo_rules: SloRules
) -> None:
    # Traffic stops after a 10-minute outage (the counters stay, flat). The 1h window holds the
    # outage's events until 130: 12 bad events of 12 at 129, none at 130.
    test = UnitTest("silence", shop((60, PROBES, 0), (10, PROBES, PROBES), (70, 0, 0)))
    page = firing(BURN, PAGE_1H)
    for minute in (61, 75, 100, 129):
        test.samples_at(minute, PAGE_1H_SERIES, (page, 1))
    test.samples_at(130, PAGE_1H_SERIES)
    test.samples_at(135, PAGE_1H_SERIES)
    done = run_unit_tests(tmp_path, render([slo_rules]), slo_rules, [test], "1m")
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_prometheus_sli_window_with_too_few_requests_has_no_data(tmp_path: Path) -> None:
    # Every request fails, one every 2 minutes: 2.5 requests (rate x 300 s) in 5m, below
    # min_events 3, so the 1h/5m page never fires; 15 in 30m, so the 6h/30m page does.
    rules = prometheus_sli_rules()
    errors = [{"series": 'http_requests_total{job="shop",code="500"}', "values": "0+0.5x60"}]
    test = UnitTest("few-requests", errors)
    counted = 'slo:sli_events:count5m{sloth_slo="availability"} == bool 2.5'
    test.expr_at(30, counted, f'{{{SERIES}, sloth_window="5m"}}', 1)
    page_6h = firing(BURN, PAGE_6H)
    for minute in (10, 30, 60):
        test.samples_at(minute, PAGE_1H_SERIES)
        test.samples_at(minute, 'ALERTS{alertname="ErrorBudgetBurn", long="6h"}', (page_6h, 1))
    done = run_unit_tests(tmp_path, render([rules]), rules, [test], "1m")
    assert done.returncode == 0, done.stdout + done.stderr
