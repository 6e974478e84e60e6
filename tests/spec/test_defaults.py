from __future__ import annotations

from datetime import timedelta
from importlib import resources

import pytest

from agent.model import AlertTier, Severity
from agent.slo.alerts import burn_factor
from agent.spec.defaults import DEFAULT_ALERT_WINDOWS, default_alert_windows

H = timedelta(hours=1)
M = timedelta(minutes=1)


def test_the_default_is_the_sre_workbook_table() -> None:
    windows = default_alert_windows()
    assert windows.name == "default"
    assert windows.tiers == (
        AlertTier(Severity.PAGE, 0.02, 1 * H, 5 * M),
        AlertTier(Severity.PAGE, 0.05, 6 * H, 30 * M),
        AlertTier(Severity.TICKET, 0.10, 24 * H, 2 * H),
        AlertTier(Severity.TICKET, 0.10, 72 * H, 6 * H),
    )


@pytest.mark.parametrize(
    ("period", "factors"),
    [
        (timedelta(days=30), [14.4, 6, 3, 1]),
        (timedelta(days=28), [13.44, 5.6, 2.8, 0.9333]),
    ],
)
def test_default_burn_rate_factors(period: timedelta, factors: list[float]) -> None:
    tiers = default_alert_windows().tiers
    assert [burn_factor(tier, period) for tier in tiers] == pytest.approx(factors, abs=5e-5)


def test_the_policy_is_package_data() -> None:
    policy = resources.files("agent") / "policies" / DEFAULT_ALERT_WINDOWS
    assert policy.is_file()
    assert "kind: AlertWindows" in policy.read_text(encoding="utf-8")
