"""``CertificateExpiringSoon`` rules: one group per node with probes that do a TLS handshake
(an ``https://`` URL, a ``tls`` probe: the kind says, :attr:`agent.probe_kinds.ProbeKind
.certificate`), one rule per such probe and per drill to an ``https://`` URL (``probe``
``drill:<fallback>``); and one group per journey with a rule per step to an ``https://`` URL
(``probe`` ``journey:<journey>/<step>``, labelled with the node the step goes to).

The rule fires while the certificate's notAfter
(``slo_agent_tls_cert_expiry_timestamp_seconds``) minus ``time()`` is below the probe's warning
threshold: the largest ``cert_valid_for`` of its SLOs, else 14 days
(:mod:`agent.slo.certificates`, the agent's own push uses the same). Its value is the seconds
left. ``max by (node, probe)`` drops the scrape's ``job`` and ``instance``, so its labels are
exactly those the agent pushes (:func:`exporters.alerting.certificate_labels`). Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping

from agent.durations import format_duration
from agent.model import Journey, Node
from agent.probe_kinds.registry import KINDS
from agent.slo.certificates import drill_probe, step_probe, warning_for
from exporters.alerting import CERTIFICATE_EXPIRING, certificate_labels
from exporters.prometheus import names
from exporters.prometheus.rules.identity import number, quote
from exporters.prometheus.rules.rule import AlertingRule, RuleGroup, SloRules

GROUP = "certificates"


def certificate_rule(node: Node, probe: str) -> AlertingRule:
    warning = warning_for(node, probe)
    selector = f"{{node={quote(node.name)}, probe={quote(probe)}}}"
    where = f"{node.name}/{probe}"
    notes = {
        "summary": f"The TLS certificate of {where} expires in {{{{ $value | humanizeDuration }}}}",
        "description": (
            f"The peer certificate {where} saw at its last TLS handshake is valid for "
            f"{{{{ $value | humanizeDuration }}}} more (negative: expired); the warning starts "
            f"{format_duration(warning)} before it expires."
        ),
    }
    return AlertingRule(
        alert=CERTIFICATE_EXPIRING,
        expr=(
            f"max by (node, probe) ({names.TLS_CERT_EXPIRY}{selector}) - time()\n"
            f"< {number(warning.total_seconds())}"
        ),
        labels=dict(sorted(certificate_labels(node, probe).items())),
        annotations=dict(sorted({**notes, **node.alerting.annotations}.items())),
    )


def certificate_rules(node: Node) -> SloRules | None:
    """The node's certificate group; None when no probe of it does a TLS handshake."""
    probes = [p.name for p in node.probes if KINDS.of(p.check).certificate(p.check)]
    probes += [
        drill_probe(fallback.node)
        for fallback in node.fallbacks
        if fallback.drill is not None
        and KINDS.of(fallback.drill.check).certificate(fallback.drill.check)
    ]
    if not probes:
        return None
    rules = tuple(certificate_rule(node, probe) for probe in probes)
    group = RuleGroup(f"slo-agent/{node.name}/{GROUP}", rules)
    return SloRules(node=node.name, slo="", groups=(group,))


def journey_certificate_rules(journey: Journey, nodes: Mapping[str, Node]) -> SloRules | None:
    """The journey's certificate group (``slo-agent/<journey>/certificates``): a rule per step
    to an ``https://`` URL, on the node it goes to (and its fallback's node); None without."""
    keys: dict[tuple[str, str], None] = {}
    for step in journey.steps:
        attempts = [(step.node, step.check)]
        if step.fallback is not None:
            attempts.append((step.fallback.node, step.fallback.check))
        for node, check in attempts:
            if node in nodes and KINDS.of(check).certificate(check):
                keys[(node, step_probe(journey.name, step.name))] = None
    if not keys:
        return None
    rules = tuple(certificate_rule(nodes[node], probe) for node, probe in keys)
    group = RuleGroup(f"slo-agent/{journey.name}/{GROUP}", rules)
    return SloRules(node=journey.name, slo="", groups=(group,))
