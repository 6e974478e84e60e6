"""The agent's own alert push to Alertmanager: a snapshot exporter that keeps alert state.

From each snapshot it works out which alerts fire (:mod:`exporters.alertmanager.payload`) and
sends Alertmanager what changed, the way Prometheus does:

- a firing alert is sent at once when it starts, then re-sent whenever ``resend_interval`` has
  passed since the last delivery, with ``endsAt = now + validity`` (4 resend intervals by
  default) so Alertmanager resolves it by itself if the agent goes away;
- ``startsAt`` is when the agent first saw it firing;
- an alert that stops firing is sent once with ``endsAt`` = the evaluation that found it
  resolved; until delivered it is retried on every export, and dropped once the ``endsAt``
  last announced for it has passed (Alertmanager has resolved it by itself by then) or when
  more than ``max_resolutions`` are waiting (oldest first);
- any change of the firing set is sent at once; a failed delivery is retried on the next
  export.

State is one entry per firing alert, per SLO (since when it is watched) and the bounded list of
waiting resolutions: an Alertmanager outage never grows it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from agent.advisor.review import DecisionReport
from agent.model import SpecSet
from agent.slo.status import Snapshot
from exporters.alertmanager.certificates import certificate_alerts
from exporters.alertmanager.client import AlertmanagerClient
from exporters.alertmanager.decisions import decision_alerts
from exporters.alertmanager.payload import (
    Alert,
    AlertKey,
    Notice,
    SloKey,
    firing_alerts,
    payload,
)

DEFAULT_RESEND_INTERVAL = 60.0
VALIDITY_INTERVALS = 4  # endsAt of a firing alert: this many resend intervals ahead
MAX_RESOLUTIONS = 1000


@dataclass(slots=True)
class _Firing:
    alert: Alert
    starts_at: float
    announced_until: float | None = None  # the endsAt last sent for it


@dataclass(frozen=True, slots=True)
class _Resolution:
    notice: Notice
    announced_until: float


class AlertmanagerPusher:
    """A :class:`agent.runtime.fanout.SnapshotExporter` pushing alerts to Alertmanager."""

    name = "alertmanager"

    def __init__(
        self,
        client: AlertmanagerClient,
        *,
        clock: Callable[[], float] = time.time,
        resend_interval: float = DEFAULT_RESEND_INTERVAL,
        validity: float | None = None,
        generator_url: str | None = None,
        max_resolutions: int = MAX_RESOLUTIONS,
    ) -> None:
        self.client = client
        self.resend_interval = resend_interval
        self.validity = VALIDITY_INTERVALS * resend_interval if validity is None else validity
        self.generator_url = generator_url  # the agent's /api/v1/status, once it is known
        self.max_resolutions = max_resolutions
        self._clock = clock
        self._firing: dict[AlertKey, _Firing] = {}
        self._resolutions: dict[AlertKey, _Resolution] = {}  # oldest first
        self._watched_since: dict[SloKey, float] = {}
        self._last_delivery: float | None = None
        self._changed = False
        self._decisions: DecisionReport | None = None  # NodeDecisionReview alerts, when set

    # --- the exporter -------------------------------------------------------------------------

    async def export(self, snapshot: Snapshot, specs: SpecSet) -> bool:
        """Send what is due; True when nothing was due or every Alertmanager took it."""
        now = self._clock()
        self._watch(snapshot)
        alerts = firing_alerts(snapshot, specs, self._watched_since)
        alerts.update(certificate_alerts(snapshot, specs))
        if self._decisions is not None:
            alerts.update(decision_alerts(self._decisions, specs))
        self._update(alerts, snapshot.evaluated_at)
        self._expire(now)
        if not self._due(now):
            return True
        ends_at = now + self.validity
        notices = [Notice(f.alert, f.starts_at, ends_at) for f in self._firing.values()]
        notices += [r.notice for r in self._resolutions.values()]
        for firing in self._firing.values():
            firing.announced_until = ends_at  # some Alertmanager may have it even on failure
        if not notices:
            self._changed = False
            return True
        delivered = await self.client.post_alerts(payload(notices, self.generator_url))
        if delivered:
            self._last_delivery = now
            self._changed = False
            self._resolutions.clear()
        return delivered

    async def aclose(self) -> None:
        await self.client.aclose()

    def set_decisions(self, report: DecisionReport) -> None:
        """Push a ``NodeDecisionReview`` alert for every node ``report`` flags, from the next
        export on (the agent calls this only when decision alerts are enabled)."""
        self._decisions = report

    # --- for tests and status -----------------------------------------------------------------

    @property
    def firing(self) -> tuple[Alert, ...]:
        return tuple(f.alert for f in self._firing.values())

    @property
    def pending_resolutions(self) -> tuple[Notice, ...]:
        return tuple(r.notice for r in self._resolutions.values())

    @property
    def state_size(self) -> int:
        """Entries held: firing alerts, waiting resolutions and watched SLOs."""
        return len(self._firing) + len(self._resolutions) + len(self._watched_since)

    # --- state --------------------------------------------------------------------------------

    def _watch(self, snapshot: Snapshot) -> None:
        """Remember since when each SLO of the snapshot is evaluated; forget removed ones."""
        seen = {(s.node, s.slo) for s in snapshot.slos()}
        for key in seen:
            self._watched_since.setdefault(key, snapshot.evaluated_at)
        for key in self._watched_since.keys() - seen:
            del self._watched_since[key]

    def _update(self, firing: dict[AlertKey, Alert], at: float) -> None:
        for key, alert in firing.items():
            current = self._firing.get(key)
            if current is None:
                self._firing[key] = _Firing(alert, starts_at=at)
                self._resolutions.pop(key, None)  # fires again: the new alert replaces it
                self._changed = True
            else:
                current.alert = alert  # the same alert with today's numbers
        for key in [k for k in self._firing if k not in firing]:  # in order, oldest first
            ended = self._firing.pop(key)
            self._changed = True
            if ended.announced_until is None:
                continue  # never sent: nothing to resolve
            notice = Notice(ended.alert, ended.starts_at, max(at, ended.starts_at))
            self._resolutions[key] = _Resolution(notice, ended.announced_until)

    def _expire(self, now: float) -> None:
        for key in [k for k, r in self._resolutions.items() if r.announced_until <= now]:
            del self._resolutions[key]
        while len(self._resolutions) > self.max_resolutions:
            del self._resolutions[next(iter(self._resolutions))]

    def _due(self, now: float) -> bool:
        if self._changed or self._resolutions:
            return True
        if not self._firing:
            return False
        last = self._last_delivery
        return last is None or now - last >= self.resend_interval
