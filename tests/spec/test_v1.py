"""The v1 wire format converts into the model: percents to ratios, strings to timedeltas..."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from agent.model import (
    AlertTier,
    CalendarWindow,
    HttpCheck,
    Mode,
    RollingWindow,
    Severity,
)
from agent.probe_kinds.registry import KINDS
from agent.probe_kinds.tcp import TcpCheck
from agent.spec.problems import translate
from agent.spec.v1 import AlertWindowsDocument, NodeDocument
from agent.spec.v1_convert import ratio, to_alert_windows, to_node
from agent.text_pattern import TextPattern
from tests.support.builders import probe_sli


def node_data(**spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "mode": "operated",
        "owner": "web",
        "capability": "web",
        "probes": [{"name": "home", "http": {"url": "https://shop.example/"}}],
    }
    body.update(spec)
    return {
        "apiVersion": "slo-agent/v1",
        "kind": "Node",
        "metadata": {"name": "shop"},
        "spec": body,
    }


def http_check(http: dict[str, Any], interval: str | None = None) -> HttpCheck:
    probe: dict[str, Any] = {"name": "home", "http": {"url": "https://shop.example/", **http}}
    if interval:
        probe["interval"] = interval
    node = to_node(NodeDocument.model_validate(node_data(probes=[probe])), {})
    check = node.probes[0].check
    assert isinstance(check, HttpCheck)
    return check


def problems_of(data: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as caught:
        NodeDocument.model_validate(data)
    return translate(caught.value, NodeDocument)


@pytest.mark.parametrize(
    ("percent", "expected"),
    [(99.9, 0.999), (99, 0.99), (99.95, 0.9995), (50, 0.5), (99.999, 0.99999), (100, 1.0)],
)
def test_ratio_is_exact_decimal(percent: float, expected: float) -> None:
    assert ratio(percent) == expected


def test_node_with_defaults() -> None:
    node = to_node(NodeDocument.model_validate(node_data()), {})
    assert (node.name, node.mode, node.owner, node.capability) == (
        "shop",
        Mode.OPERATED,
        "web",
        "web",
    )
    probe = node.probes[0]
    assert probe.interval == timedelta(seconds=30)
    assert KINDS.of(probe.check).name == "http"
    assert probe.check == HttpCheck(url="https://shop.example/")
    assert node.slos == ()
    assert node.alerting.windows == "default"
    assert node.partner is None
    assert node.fallbacks == ()


@pytest.mark.parametrize(
    ("interval", "timeout", "expected"),
    [(None, None, 5), ("2s", None, 2), ("1m", None, 5), ("1m", "45s", 45), ("10s", "10s", 10)],
)
def test_timeout_defaults_to_5s_or_the_interval(
    interval: str | None, timeout: str | None, expected: int
) -> None:
    http = {} if timeout is None else {"timeout": timeout}
    assert http_check(http, interval).timeout == timedelta(seconds=expected)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (None, set(range(200, 300))),
        ([200], {200}),
        ([200, 204, 301], {200, 204, 301}),
        (["3xx", 200], {200, *range(300, 400)}),
        (["5xx"], set(range(500, 600))),
    ],
)
def test_expected_status(status: list[Any] | None, expected: set[int]) -> None:
    expect = {} if status is None else {"expect": {"status": status}}
    assert http_check(expect).expect_status == frozenset(expected)


def test_http_fields_convert() -> None:
    check = http_check(
        {
            "method": "POST",
            "body": '{"a": "ä"}',
            "headers": {"Content-Type": "application/json"},
            "expect": {
                "body_contains": "ok",
                "body_regex": r"\d+ items",
                "json": {"$.status": "ok", "$.items[0].n": 3},
            },
            "max_body_bytes": 100,
            "verify_tls": False,
            "keep_alive": True,
            "follow_redirects": True,
        }
    )
    assert check.method == "POST"
    assert check.body == '{"a": "ä"}'.encode()
    assert check.headers == {"Content-Type": "application/json"}
    assert check.body_contains == "ok"
    assert check.body_regex == TextPattern.compile(r"\d+ items")
    assert check.json_equals == {"$.status": "ok", "$.items[0].n": 3}
    assert (check.max_body_bytes, check.verify_tls, check.keep_alive) == (100, False, True)
    assert check.follow_redirects is True


def test_tcp_probe() -> None:
    probe = {"name": "db", "interval": "15s", "tcp": {"host": "db.example", "port": 5432}}
    node = to_node(NodeDocument.model_validate(node_data(probes=[probe])), {})
    assert node.probes[0].check == TcpCheck("db.example", 5432, timedelta(seconds=5))
    assert node.probes[0].interval == timedelta(seconds=15)


def test_slos_partner_fallbacks_and_decision() -> None:
    data = node_data(
        mode="orchestrated",
        partner={
            "name": "Acme",
            "contract": {"availability_percent": 99.95, "latency_under": "1s"},
        },
        slos=[
            {"name": "a", "objective": 99.9, "window": "28d", "sli": {"probe": "home"}},
            {
                "name": "b",
                "objective": 95,
                "window": {"calendar": "month"},
                "sli": {"probe": "home", "latency_under": "1h30m"},
                "min_events": 20,
            },
        ],
        fallbacks=[
            {"node": "other", "drill": {"every": "2s", "http": {"url": "http://x.example"}}}
        ],
        decision={"brand_control": 1, "differentiation": 5, "cost": {"per_request": 0.5}},
        alerting={"windows": "fast", "labels": {"team": "a"}, "annotations": {"summary": "s"}},
    )
    node = to_node(NodeDocument.model_validate(data), {})
    first, second = node.slos
    assert (first.objective, first.window, first.min_events) == (
        0.999,
        RollingWindow(timedelta(days=28)),
        3,
    )
    assert (second.objective, second.window, second.min_events) == (0.95, CalendarWindow(), 20)
    assert probe_sli(second).latency_under == timedelta(hours=1, minutes=30)
    assert node.partner is not None
    assert node.partner.contract.availability == 0.9995
    assert node.partner.contract.latency_under == timedelta(seconds=1)
    drill = node.fallbacks[0].drill
    assert drill is not None
    assert drill.every == timedelta(seconds=2)
    assert drill.check.timeout == timedelta(seconds=2)
    assert node.decision.cost is not None
    assert (node.decision.cost.fixed_monthly, node.decision.cost.currency) == (0.0, "EUR")
    assert (node.alerting.windows, dict(node.alerting.labels)) == ("fast", {"team": "a"})


def test_alert_windows_put_page_tiers_first() -> None:
    document = AlertWindowsDocument.model_validate(
        {
            "apiVersion": "slo-agent/v1",
            "kind": "AlertWindows",
            "metadata": {"name": "fast"},
            "spec": {
                "ticket": [{"budget_percent": 10, "long": "1d", "short": "2h"}],
                "page": [{"budget_percent": 2.5, "long": "30m", "short": "2m"}],
            },
        }
    )
    windows = to_alert_windows(document, {})
    assert windows.name == "fast"
    assert windows.tiers == (
        AlertTier(Severity.PAGE, 0.025, timedelta(minutes=30), timedelta(minutes=2)),
        AlertTier(Severity.TICKET, 0.1, timedelta(days=1), timedelta(hours=2)),
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("owner", 123, "must be a string, got 123"),
        ("owner", "", "must not be empty"),
        ("owner", None, "must be a string, got an empty value"),
        ("mode", True, "must be one of operated, orchestrated; got true"),
        ("probes", {"name": "x"}, "must be a list, got a mapping"),
        ("capability", "Pay Ments", 'must be lowercase letters, digits and "-"'),
        ("capability", "-payments", 'must be lowercase letters, digits and "-"'),
        ("capability", "a" * 64, 'must be lowercase letters, digits and "-"'),
        (
            "slos",
            [{"name": "a", "objective": True, "window": "28d", "sli": {"probe": "home"}}],
            "must be a percent strictly between 0 and 100, got true",
        ),
        ("decision", {"brand_control": 2.5}, "must be an integer, got 2.5"),
        ("decision", {"cost": {"fixed_monthly": "10"}}, 'must be a number, got "10"'),
    ],
)
def test_wrong_types_are_not_coerced(field: str, value: Any, message: str) -> None:
    found = problems_of(node_data(**{field: value}))
    assert len(found) == 1
    assert found[0][1].startswith(message), found


def test_a_name_can_be_63_characters() -> None:
    document = NodeDocument.model_validate(node_data(capability="a" * 63))
    assert document.spec.capability == "a" * 63


def test_url_must_be_http_with_a_host_and_is_never_echoed() -> None:
    for url in ["ftp://x.example", "https://", "shop.example", "http://x.example:99999/"]:
        found = problems_of(node_data(probes=[{"name": "h", "http": {"url": url}}]))
        assert found == [
            (
                "spec.probes[0].http.url",
                "must be an http:// or https:// URL with a host and a valid port",
            )
        ]
