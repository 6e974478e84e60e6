"""The probe kinds the agent ships with: one registration line per kind.

A new kind is a module in :mod:`agent.probe_kinds` (see :class:`agent.probe_kinds.ProbeKind`),
its tests and docs, and one line here.
"""

from __future__ import annotations

from agent.probe_kinds import ProbeKinds, dns, grpc, http, tcp, tls

KINDS = ProbeKinds()
KINDS.register(http.KIND)
KINDS.register(tcp.KIND)
KINDS.register(dns.KIND)
KINDS.register(grpc.KIND)
KINDS.register(tls.KIND)
