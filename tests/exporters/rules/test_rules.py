"""What the generated rules are made of: windows, labels, numbers, queries, notes."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

import yaml

from agent.durations import format_duration
from agent.model import (
    Alerting,
    AlertTier,
    AlertWindows,
    CalendarWindow,
    Mode,
    Node,
    PrometheusSli,
    RollingWindow,
    Severity,
    Sli,
    SpecSet,
    Window,
)
from agent.spec.loader import load_specs, spec_paths
from exporters.alerting import absent_labels, burn_labels, exhausted_labels
from exporters.prometheus.rules import (
    AlertingRule,
    RecordingRule,
    RuleFormat,
    SloRules,
    render,
    rule_set,
    slo_rules,
)
from tests.exporters.rules.promtool_check import assert_valid, operator_groups_file
from tests.support.builders import WORKBOOK, node, spec_set

ROOT = Path(__file__).resolve().parents[3]
FAST = AlertWindows(
    "fast",
    (
        AlertTier(Severity.PAGE, 0.01, timedelta(minutes=20), timedelta(minutes=2)),
        AlertTier(Severity.TICKET, 0.1, timedelta(hours=12), timedelta(hours=1)),
    ),
)


def records(rules: SloRules) -> list[RecordingRule]:
    return [r for g in rules.groups for r in g.rules if isinstance(r, RecordingRule)]


def alerts(rules: SloRules) -> list[AlertingRule]:
    return [r for g in rules.groups for r in g.rules if isinstance(r, AlertingRule)]


def record(rules: SloRules, name: str) -> RecordingRule:
    [rule] = [r for r in records(rules) if r.record == name]
    return rule


def with_slo(
    base: Node,
    *,
    objective: float | None = None,
    window: Window | None = None,
    sli: Sli | None = None,
) -> Node:
    slo = base.slos[0]
    changed = dataclasses.replace(
        slo,
        objective=slo.objective if objective is None else objective,
        window=window or slo.window,
        sli=sli or slo.sli,
    )
    return dataclasses.replace(base, slos=(changed,))


def test_three_groups_per_slo_named_sloth_style() -> None:
    rules = slo_rules(node("acme-pay"), node("acme-pay").slos[0], WORKBOOK)
    assert [g.name for g in rules.groups] == [
        "slo-agent/acme-pay/availability/sli-recordings",
        "slo-agent/acme-pay/availability/meta-recordings",
        "slo-agent/acme-pay/availability/alerts",
    ]


def test_group_names_cannot_collide_across_node_and_slo_names() -> None:
    a_b = node("a-b")
    a = node("a")
    c = dataclasses.replace(a_b.slos[0], name="c")
    b_c = dataclasses.replace(a.slos[0], name="b-c")
    first = {g.name for g in slo_rules(a_b, c, WORKBOOK).groups}
    second = {g.name for g in slo_rules(a, b_c, WORKBOOK).groups}
    assert not first & second


def test_every_window_is_recorded_once_shortest_first() -> None:
    shop = with_slo(node("shop"), window=RollingWindow(timedelta(days=1)))
    [rules] = rule_set(SpecSet((shop,), {"default": FAST}))
    # standard windows, the tiers' 2m/20m/12h, the 1d period (a standard window already)
    expected = ["2m", "5m", "20m", "30m", "1h", "2h", "6h", "12h", "1d", "3d"]
    for family in ("slo:sli_error:ratio_rate", "slo:sli_events:count"):
        recorded = [r for r in records(rules) if r.record.startswith(family)]
        assert [r.labels["sloth_window"] for r in recorded] == expected, family
        assert [r.record for r in recorded] == [family + window for window in expected]
    assert [r.record for r in records(rules)][:3] == [
        "slo:sli_error:ratio_rate2m",
        "slo:sli_error:ratio_rate5m",
        "slo:sli_error:ratio_rate20m",
    ]
    assert "slo:sli_error:ratio_rate1d{" in record(rules, "slo:period_burn_rate:ratio").expr


def test_recorded_series_carry_sloth_identity_and_spec_labels() -> None:
    shop = dataclasses.replace(node("shop"), alerting=Alerting(labels={"team": "web"}))
    [rules] = rule_set(spec_set(shop))
    expected = {
        "sloth_id": "shop-availability",
        "sloth_service": "shop",
        "sloth_slo": "availability",
        "node": "shop",
        "slo": "availability",
        "mode": "orchestrated",
        "team": "web",
    }
    for rule in records(rules):
        assert {k: v for k, v in rule.labels.items() if k in expected} == expected, rule.record
    info = record(rules, "sloth_slo_info")
    assert info.labels["sloth_objective"] == "99.9"
    assert info.expr == "vector(1)"


def test_alert_labels_are_exactly_those_the_agent_pushes() -> None:
    shop = dataclasses.replace(node("shop"), alerting=Alerting(labels={"team": "web"}))
    slo = shop.slos[0]
    [rules] = rule_set(spec_set(shop))
    burns = [r for r in alerts(rules) if r.alert == "ErrorBudgetBurn"]
    factors = (14.4, 6.0, 3.0, 1.0)  # the workbook tiers at 30 days
    assert [dict(r.labels) for r in burns] == [
        burn_labels(shop, slo, tier, factor)
        for tier, factor in zip(WORKBOOK.tiers, factors, strict=True)
    ]
    by_name = {r.alert: r for r in alerts(rules)}
    assert dict(by_name["ErrorBudgetExhausted"].labels) == exhausted_labels(shop, slo)
    assert dict(by_name["SLIMetricAbsent"].labels) == absent_labels(shop, slo)
    for rule in burns:  # the recorded series' sloth_* labels never reach the alert
        assert "max without (sloth_id, sloth_service, sloth_slo, sloth_window)" in rule.expr


def test_spec_annotations_are_added_and_win_over_ours() -> None:
    notes = {"runbook_url": "https://runbooks.example/shop", "summary": "Shop is burning"}
    shop = dataclasses.replace(node("shop"), alerting=Alerting(annotations=notes))
    [rules] = rule_set(spec_set(shop))
    for rule in alerts(rules):
        assert rule.annotations["runbook_url"] == notes["runbook_url"]
        assert rule.annotations["summary"] == "Shop is burning"
        assert rule.annotations["description"].startswith("SLO 99.9% over 30d.")


def test_budget_and_thresholds_are_written_as_the_user_would() -> None:
    shop = with_slo(node("shop"), objective=0.9995, window=RollingWindow(timedelta(days=28)))
    [rules] = rule_set(spec_set(shop))
    assert record(rules, "slo:error_budget:ratio").expr == "vector(0.0005)"
    assert record(rules, "slo:objective:ratio").expr == "vector(0.9995)"
    assert record(rules, "slo:time_period:days").expr == "vector(28)"
    burns = [r for r in alerts(rules) if r.alert == "ErrorBudgetBurn"]
    assert [r.labels["burn_rate"] for r in burns] == ["13.44", "5.6", "2.8", "0.9333"]
    assert "/ 0.0005 >= 13.44\n" in burns[0].expr
    assert "/ 0.0005 >= 0.933333333333\n" in burns[3].expr


def test_a_calendar_month_uses_nominal_30_days_and_says_so() -> None:
    shop = with_slo(node("shop"), window=CalendarWindow())
    [rules] = rule_set(spec_set(shop))
    assert record(rules, "slo:time_period:days").expr == "vector(30)"
    assert "[30d]" in record(rules, "slo:sli_error:ratio_rate30d").expr
    assert "calendar-month window" in rules.notes[0]
    text = render([rules])
    assert text.startswith("# Generated by `slo-agent rules`")
    assert "# shop/availability has a calendar-month window." in text


def test_a_prometheus_sli_divides_the_users_queries_per_window() -> None:
    sli = PrometheusSli(
        error_query='sum(rate(http_requests_total{code=~"5.."}[{{window}}]))',
        total_query="sum(rate(http_requests_total[{{ window }}]))",
    )
    [rules] = rule_set(spec_set(with_slo(node("shop"), sli=sli)))
    assert record(rules, "slo:sli_error:ratio_rate1h").expr == (
        '((sum(rate(http_requests_total{code=~"5.."}[1h]))) or on() vector(0))\n'
        "/\n"
        "((sum(rate(http_requests_total[1h]))) > 0)"
    )
    absent = next(r for r in alerts(rules) if r.alert == "SLIMetricAbsent")
    assert absent.expr == (
        "absent(\n  sum(rate(http_requests_total[5m]))\n)"
        "\nor\n(\n  sum(rate(http_requests_total[1h]))\n) == 0"
    )
    # the min_events guard counts events as the agent does: the total rate times the window
    assert record(rules, "slo:sli_events:count1h").expr == (
        "(sum(rate(http_requests_total[1h]))) * 3600"
    )
    assert "{{" not in "".join(r.expr for r in records(rules))


def test_a_probe_sli_reads_the_agents_counters_as_a_ratio_of_sums() -> None:
    [rules] = rule_set(spec_set(node("shop")))
    assert record(rules, "slo:sli_error:ratio_rate30d").expr == (
        'sum(increase(slo_agent_sli_bad_events_total{node="shop",slo="availability"}[30d]))\n'
        "/\n"
        '(sum(increase(slo_agent_sli_events_total{node="shop",slo="availability"}[30d])) > 0)'
    )


def test_burn_and_exhausted_alerts_need_min_events_in_their_windows() -> None:
    shop = node("shop")
    shop = dataclasses.replace(shop, slos=(dataclasses.replace(shop.slos[0], min_events=7),))
    [rules] = rule_set(spec_set(shop))
    assert record(rules, "slo:sli_events:count5m").expr == (
        'sum(increase(slo_agent_sli_events_total{node="shop",slo="availability"}[5m]))'
    )
    burns = [r for r in alerts(rules) if r.alert == "ErrorBudgetBurn"]
    for rule, tier in zip(burns, WORKBOOK.tiers, strict=True):
        for window in (tier.long, tier.short):
            count = f"slo:sli_events:count{format_duration(window)}{{"
            assert count in rule.expr
            guard = rule.expr.split(count)[1].split("\n")[0]
            assert guard.endswith(") >= 7"), guard
    [exhausted] = [r.expr for r in alerts(rules) if r.alert == "ErrorBudgetExhausted"]
    assert "(slo:sli_events:count30d{" in exhausted
    assert exhausted.endswith(") >= 7")


def test_a_firing_tier_is_held_through_its_own_alerts_series() -> None:
    [rules] = rule_set(spec_set(node("shop")))
    burns = [r for r in alerts(rules) if r.alert == "ErrorBudgetBurn"]
    for rule, tier in zip(burns, WORKBOOK.tiers, strict=True):
        long, short = format_duration(tier.long), format_duration(tier.short)
        own = (
            'ALERTS{alertname="ErrorBudgetBurn", alertstate="firing", node="shop", '
            f'slo="availability", severity="{tier.severity.value}", long="{long}", '
            f'short="{short}"}}'
        )
        assert rule.expr.count("ALERTS{") == 1
        assert own in rule.expr
        assert (rule.labels["long"], rule.labels["short"]) == (long, short)


def test_several_nodes_render_in_spec_order_and_deterministically() -> None:
    specs = spec_set(node("a-pay"), node("b-ship", mode=Mode.OPERATED))
    text = render(rule_set(specs))
    names = [g["name"] for g in yaml.safe_load(text)["groups"]]
    assert names[0].startswith("slo-agent/a-pay/")
    assert names[-1].startswith("slo-agent/b-ship/")
    assert text == render(rule_set(specs))
    assert "&id" not in text  # no YAML anchors
    assert "*id" not in text


def test_no_slos_give_an_empty_rule_file_promtool_accepts(tmp_path: Path) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text(render(rule_set(SpecSet((), {"default": WORKBOOK}))))
    assert yaml.safe_load(empty.read_text()) == {"groups": []}
    assert assert_valid(empty) == 0


def test_rules_for_every_shipped_example_pass_promtool(tmp_path: Path) -> None:
    env = {"ACME_TOKEN": "t0ken"}
    specs = load_specs(spec_paths([str(ROOT / "slo_specs" / "examples")], env), env)
    sets = rule_set(specs)
    assert specs.journeys  # the examples have a journey, whose SLOs get rules too
    slo_sets = [s for s in sets if s.slo]  # the rest: certificate groups
    assert len(slo_sets) == sum(len(owner.slos) for owner in specs.owners()) > 0
    assert {s.node for s in sets if not s.slo} == {
        node.name for node in specs.nodes if any("https://" in str(p.check) for p in node.probes)
    } | {
        journey.name
        for journey in specs.journeys
        if any(step.check.url.startswith("https://") for step in journey.steps)
    }
    plain = tmp_path / "rules.yaml"
    plain.write_text(render(sets))
    found = assert_valid(plain)
    assert found == sum(len(g.rules) for s in sets for g in s.groups)
    operator = operator_groups_file(render(sets, RuleFormat.OPERATOR), tmp_path)
    assert assert_valid(operator) == found
