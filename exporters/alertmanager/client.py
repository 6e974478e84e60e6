"""Posting alerts to every configured Alertmanager (API v2), with bounded retries.

Like Prometheus, the agent sends each batch to *every* Alertmanager it is given (a clustered
Alertmanager deduplicates). Each URL gets up to ``attempts`` tries with exponential backoff
(``backoff``, then twice that, ...), each try bounded by ``timeout``; the URLs are tried
concurrently, so one call takes at most :attr:`RetryPolicy.bound` seconds however many there
are. A refused connection, a timeout, a 5xx or a 429 is retried; any other 4xx means the
request itself is wrong and is not. A failure is a result (False), never an exception.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from agent.redaction import redact_text, redact_url

log = logging.getLogger(__name__)

ALERTS_PATH = "/api/v2/alerts"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 3
    backoff: float = 0.2  # seconds before the second try; doubles for each further one
    timeout: float = 2.0  # seconds for one try (connect, send and answer)

    def delays(self) -> list[float]:
        """The waits between tries: 0.2, 0.4 for three attempts."""
        return [self.backoff * 2**i for i in range(max(self.attempts - 1, 0))]

    @property
    def bound(self) -> float:
        """The longest one delivery to one URL can take."""
        return self.attempts * self.timeout + sum(self.delays())


def alerts_url(base: str) -> str:
    """``http://am:9093`` (or ``.../prefix``) -> ``http://am:9093/api/v2/alerts``."""
    base = base.rstrip("/")
    return base if base.endswith(ALERTS_PATH) else base + ALERTS_PATH


class AlertmanagerClient:
    """Sends alert batches to every Alertmanager in ``urls``.

    ``client`` is shared and stays the caller's to close; without one, the client builds its
    own (on ``transport`` if given) and closes it in :meth:`aclose`. ``sleep`` waits between
    tries (``asyncio.sleep``).
    """

    def __init__(
        self,
        urls: Sequence[str],
        *,
        client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy = RetryPolicy(),
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if not urls:
            raise ValueError("at least one Alertmanager URL is needed")
        self.urls = tuple(alerts_url(url) for url in urls)
        self.retry = retry
        self._owned = client is None
        self._client = client or httpx.AsyncClient(transport=transport)
        self._sleep = sleep
        self._failing: set[str] = set()  # URLs whose last delivery failed (logged once)

    async def post_alerts(self, alerts: list[dict[str, Any]]) -> bool:
        """POST ``alerts`` to every URL; True when every one of them accepted it."""
        results = await asyncio.gather(*(self._deliver(url, alerts) for url in self.urls))
        return all(results)

    async def aclose(self) -> None:
        if self._owned:
            await self._client.aclose()

    async def _deliver(self, url: str, alerts: list[dict[str, Any]]) -> bool:
        delays = self.retry.delays()
        cause = ""
        for attempt in range(self.retry.attempts):
            if attempt:
                await self._sleep(delays[attempt - 1])
            retry, cause = await self._try(url, alerts)
            if not cause:
                if url in self._failing:
                    self._failing.discard(url)
                    log.info("Alertmanager %s accepts alerts again", redact_url(url))
                return True
            if not retry:
                break
        if url not in self._failing:  # once per failure streak, not on every export
            self._failing.add(url)
            log.warning(
                "Alertmanager %s did not take %d alerts: %s", redact_url(url), len(alerts), cause
            )
        return False

    async def _try(self, url: str, alerts: list[dict[str, Any]]) -> tuple[bool, str]:
        """One POST: ``(worth retrying, cause)``; an empty cause means delivered."""
        try:
            response = await self._client.post(url, json=alerts, timeout=self.retry.timeout)
        except httpx.TimeoutException:
            return True, f"no answer within {self.retry.timeout:g}s"
        except httpx.HTTPError as exc:
            return True, redact_text(f"{type(exc).__name__}: {exc}")
        if response.is_success:
            return False, ""
        retry = response.status_code >= 500 or response.status_code == 429
        return retry, redact_text(f"HTTP {response.status_code}: {response.text[:200]}")
