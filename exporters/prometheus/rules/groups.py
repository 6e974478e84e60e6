"""The rule groups of a spec set: three per SLO, Sloth style, in a fixed order.

``slo-agent/<node>/<slo>/sli-recordings``, ``.../meta-recordings``, ``.../alerts``, for every
node (sorted by name) and every SLO of it (in spec order), then ``slo-agent/<node>/certificates``
when the node has probes or drills that do a TLS handshake, then the same for every journey
(its certificates group: its steps to ``https://`` URLs) (``<node>``
being the journey's name, which no node may have). Pure: no I/O.
"""

from __future__ import annotations

from agent.model import AlertWindows, Node, Slo, SloOwner, SpecSet
from exporters.prometheus.rules.alerts import alert_rules
from exporters.prometheus.rules.certificates import certificate_rules, journey_certificate_rules
from exporters.prometheus.rules.identity import SloIdentity
from exporters.prometheus.rules.recording import meta_recordings, sli_recordings
from exporters.prometheus.rules.rule import RuleGroup, SloRules

GROUP_PREFIX = "slo-agent"


def group_name(identity: SloIdentity, kind: str) -> str:
    # "/" cannot occur in node or SLO names, so node "a-b" with SLO "c" and node "a" with SLO
    # "b-c" get different groups (Prometheus rejects duplicate group names)
    return f"{GROUP_PREFIX}/{identity.node.name}/{identity.slo.name}/{kind}"


def _notes(identity: SloIdentity) -> tuple[str, ...]:
    period = identity.period
    if not period.calendar:
        return ()
    return (
        f"{identity.node.name}/{identity.slo.name} has a calendar-month window. Prometheus "
        'cannot select "since the 1st of the month", so its rules take the month as its '
        f"nominal {period.label} rolling window: slo:sli_error:ratio_rate{period.label}, "
        f"slo:time_period:days {period.days:g} and burn factors for {period.label}. "
        "`slo-agent report` shows the exact calendar month.",
    )


def slo_rules(owner: SloOwner, slo: Slo, windows: AlertWindows) -> SloRules:
    identity = SloIdentity(owner, slo)
    groups = (
        RuleGroup(group_name(identity, "sli-recordings"), sli_recordings(identity, windows)),
        RuleGroup(group_name(identity, "meta-recordings"), meta_recordings(identity)),
        RuleGroup(group_name(identity, "alerts"), alert_rules(identity, windows)),
    )
    return SloRules(node=owner.name, slo=slo.name, groups=groups, notes=_notes(identity))


def rule_set(specs: SpecSet) -> tuple[SloRules, ...]:
    """The rules of every SLO of every node and journey in ``specs``, and each node's
    certificate rules after its SLOs'."""
    rules: list[SloRules] = []
    nodes = {node.name: node for node in specs.nodes}
    for owner in specs.owners():
        rules += (slo_rules(owner, slo, specs.windows_for(owner)) for slo in owner.slos)
        if isinstance(owner, Node):
            certificates = certificate_rules(owner)
        else:
            certificates = journey_certificate_rules(owner, nodes)
        if certificates is not None:
            rules.append(certificates)
    return tuple(rules)
