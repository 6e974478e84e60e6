"""The latest peer-certificate expiry of every probe that did a TLS handshake, in memory.

The probe pipeline records it per result (the journey and drill pipelines per step and drill):
a dictionary write, and only for results carrying a certificate; the evaluator puts it into each
snapshot (:mod:`agent.slo.certificates`). A probe whose last runs had no handshake (a kept-alive
connection, a failed connect) keeps the expiry it saw last; nothing is persisted: after a restart
the first handshake records it again.
"""

from __future__ import annotations

from agent.probes.result import ProbeResult
from agent.slo.certificates import ProbeKey


class CertificateBook:
    def __init__(self) -> None:
        self._expiries: dict[ProbeKey, float] = {}

    def record(self, result: ProbeResult) -> None:
        not_after = result.observation.cert_not_after
        if not_after is not None:
            self._expiries[(result.node, result.probe)] = not_after

    def record_expiry(self, node: str, probe: str, not_after: float) -> None:
        """A journey step's or a drill's (``probe``: :func:`agent.slo.certificates.step_probe`,
        :func:`agent.slo.certificates.drill_probe`)."""
        self._expiries[(node, probe)] = not_after

    def expiries(self) -> dict[ProbeKey, float]:
        """A copy, safe to read from another thread."""
        return dict(self._expiries)
