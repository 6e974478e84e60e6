"""The agent's direct alert push to Alertmanager API v2 (``slo-agent run --alertmanager-url``)."""

from __future__ import annotations

from exporters.alertmanager.client import AlertmanagerClient, RetryPolicy
from exporters.alertmanager.pusher import AlertmanagerPusher

__all__ = ["AlertmanagerClient", "AlertmanagerPusher", "RetryPolicy"]
