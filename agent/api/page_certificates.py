"""The status page's certificate line of a node card: days left per probe whose last TLS
handshake saw a certificate; amber once ``CertificateExpiringSoon`` would fire, red once
expired. Pure: data to HTML."""

from __future__ import annotations

import html
from collections.abc import Sequence

from agent.slo.certificates import DAY, CertificateStatus

STYLE = """
.certs{margin:6px 0 0;font-size:12px;color:var(--muted)}
.cert{white-space:nowrap;margin-right:10px;color:var(--ink)}
.cert.expiring{color:var(--ticket);font-weight:600}
.cert.expired{color:var(--page);font-weight:600}
"""


def days_left_text(cert: CertificateStatus, at: float) -> str:
    """``40 days left``, ``1 day left``, ``less than a day left``, ``expired 3 days ago``."""
    left = cert.left(at)
    if left < 0:
        days = int(-left // DAY)
        if days == 0:
            return "expired less than a day ago"
        return f"expired {days} day{'' if days == 1 else 's'} ago"
    days = int(left // DAY)
    if days == 0:
        return "less than a day left"
    return f"{days} day{'' if days == 1 else 's'} left"


def certificates_line(certs: Sequence[CertificateStatus], at: float) -> str:
    """One line for a node's certificates; empty when none of its probes saw one."""
    if not certs:
        return ""
    items = []
    for cert in certs:
        state = "expired" if cert.left(at) < 0 else "expiring" if cert.expiring(at) else "ok"
        items.append(
            f'<span class="cert {state}" data-probe="{html.escape(cert.probe)}">'
            f"{html.escape(cert.probe)}: {html.escape(days_left_text(cert, at))}</span>"
        )
    return f'<p class="certs">TLS certificates: {"".join(items)}</p>'
