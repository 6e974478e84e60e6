"""``CertificateExpiringSoon`` alerts (``severity=ticket``): one per probe whose last peer
certificate has less validity left than its warning threshold (the largest ``cert_valid_for``
of the SLOs it measures, else 14 days; :mod:`agent.slo.certificates`). Pure: no I/O, no clock.

The labels are those of the generated rule of the same name (:mod:`exporters.alerting`), so one
Alertmanager routing tree serves both paths.
"""

from __future__ import annotations

from datetime import UTC, datetime

from agent.model import SpecSet
from agent.probes.certificate import days_text
from agent.slo.certificates import CertificateStatus
from agent.slo.status import Snapshot
from exporters.alerting import CERTIFICATE_EXPIRING, certificate_labels
from exporters.alertmanager.payload import Alert, AlertKey


def certificate_alerts(snapshot: Snapshot, specs: SpecSet) -> dict[AlertKey, Alert]:
    """The alert of every expiring certificate of a node in ``specs``, by identity."""
    nodes = {node.name: node for node in specs.nodes}
    alerts: dict[AlertKey, Alert] = {}
    for cert in snapshot.certificates:
        node = nodes.get(cert.node)
        if node is None or not cert.expiring(snapshot.evaluated_at):
            continue
        labels = {"alertname": CERTIFICATE_EXPIRING, **certificate_labels(node, cert.probe)}
        alert = Alert(labels, {**_notes(cert, snapshot.evaluated_at), **node.alerting.annotations})
        alerts[alert.key] = alert
    return alerts


def _notes(cert: CertificateStatus, at: float) -> dict[str, str]:
    when = datetime.fromtimestamp(cert.not_after, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    left = cert.left(at)
    state = f"expired {days_text(-left)} ago" if left < 0 else f"expires in {days_text(left)}"
    where = f"{cert.node}/{cert.probe}"
    return {
        "summary": f"The TLS certificate of {where} {state}",
        "description": (
            f"The peer certificate {where} saw at its last TLS handshake is valid until {when}; "
            f"the warning starts {days_text(cert.warning)} before."
        ),
    }
