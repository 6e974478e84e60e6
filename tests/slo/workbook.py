"""Shared test data: the SRE workbook's multi-window, multi-burn-rate alert table."""

from __future__ import annotations

from datetime import timedelta

from agent.model import AlertTier, AlertWindows, Severity

HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)

PAGE_FAST = AlertTier(Severity.PAGE, 0.02, long=1 * HOUR, short=5 * MINUTE)
PAGE_SLOW = AlertTier(Severity.PAGE, 0.05, long=6 * HOUR, short=30 * MINUTE)
TICKET_FAST = AlertTier(Severity.TICKET, 0.10, long=1 * DAY, short=2 * HOUR)
TICKET_SLOW = AlertTier(Severity.TICKET, 0.10, long=3 * DAY, short=6 * HOUR)

WORKBOOK = AlertWindows(name="default", tiers=(PAGE_FAST, PAGE_SLOW, TICKET_FAST, TICKET_SLOW))
