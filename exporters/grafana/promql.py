"""PromQL the dashboards share: metric names, selectors and the mode join.

Metric names come from :mod:`exporters.prometheus.names` (the agent's own series) and
:mod:`exporters.prometheus.rules.recording` (the ``slo:*`` series of ``slo-agent rules``). The
SLO gauges (objective, SLI, budget, burn, alerts) carry ``node`` and ``slo`` but no ``mode``:
:func:`with_mode` joins ``slo_agent_node_info`` to filter them by ``$mode`` and label them with
it. Every query aggregates the ``instance``/``job`` labels away, so the replicas of a sharded
agent (each exposing only the nodes it owns) add up to one picture. Pure: no I/O.
"""

from __future__ import annotations

from exporters.prometheus import names
from exporters.prometheus.rules.recording import (
    ERROR_BUDGET,
    PERIOD_REMAINING,
    sli_error,
)

DECISION_FLAG = names.DECISION_FLAG  # {node, mode, recommendation}: 1 while flagged
DECISION_AXIS_SCORE = names.DECISION_AXIS_SCORE  # {node, axis}: 1..5

NODE_INFO = names.NODE_INFO
OBJECTIVE = names.OBJECTIVE
SLI_RATIO = names.SLI_RATIO
BUDGET_REMAINING = names.BUDGET_REMAINING
BURN_RATE = names.BURN_RATE
BUDGET_EXHAUSTION = names.BUDGET_EXHAUSTION
ALERT_ACTIVE = names.ALERT_ACTIVE
PROBE_RESULTS_TOTAL = f"{names.PROBE_RESULTS}_total"
PROBE_DURATION_BUCKET = f"{names.PROBE_DURATION}_bucket"
SLI_EVENTS_TOTAL = f"{names.SLI_EVENTS}_total"
SLI_BAD_EVENTS_TOTAL = f"{names.SLI_BAD_EVENTS}_total"
JOURNEY_DURATION_BUCKET = f"{names.JOURNEY_DURATION}_bucket"
JOURNEY_DURATION_COUNT = f"{names.JOURNEY_DURATION}_count"
JOURNEY_STEP_DURATION_BUCKET = f"{names.JOURNEY_STEP_DURATION}_bucket"
JOURNEY_HOP_BLAME_TOTAL = f"{names.JOURNEY_HOP_BLAME}_total"

RULE_ERROR_BUDGET = ERROR_BUDGET
RULE_PERIOD_REMAINING = PERIOD_REMAINING
RULE_WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")  # Sloth's ratio_rate set
RULE_SLI_ERRORS = "|".join(sli_error(window) for window in RULE_WINDOWS)

NODES = 'node=~"$node"'
MODES = 'mode=~"$mode"'
RATE = "$__rate_interval"
RANGE = "$__range"
OPERATED_PARTNER = "(operated)"  # the partner label of a node the team runs itself


def with_mode(expr: str, by: str, node: str = NODES) -> str:
    """``expr`` (series with a ``node`` label) for the nodes of ``$mode`` only, aggregated
    ``by`` these labels plus ``mode``."""
    info = f"max by (node, mode) ({NODE_INFO}{{{node}, {MODES}}})"
    return f"max by ({by}, mode) (\n  ({expr})\n  * on (node) group_left (mode) {info}\n)"


def period_sli(selector: str) -> str:
    """The SLI over each SLO's period, from the agent's gauges: the remaining budget ratio is
    ``1 - bad / ((1 - objective) * total)``, so the SLI ``1 - bad / total`` is
    ``1 - (1 - remaining) * (1 - objective)`` (whatever the period's length)."""
    return f"1 - (1 - {BUDGET_REMAINING}{{{selector}}})\n  * (1 - {OBJECTIVE}{{{selector}}})"


def alert_state(selector: str) -> str:
    """2 while a page tier fires, 1 while only a ticket tier does, else 0 (per node and SLO)."""
    page = f'{ALERT_ACTIVE}{{{selector}, severity="page"}}'
    ticket = f'{ALERT_ACTIVE}{{{selector}, severity="ticket"}}'
    return f"max by (node, slo) (2 * {page} or {ticket})"


def quantile(q: float, bucket: str, selector: str, by: str) -> str:
    return f"histogram_quantile({q}, sum by ({by}, le) (rate({bucket}{{{selector}}}[{RATE}])))"


def rule_burn_rates(selector: str) -> str:
    """The burn rate per window from the recording rules: each ``slo:sli_error:ratio_rate<W>``
    divided by the SLO's ``slo:error_budget:ratio``."""
    errors = f'{{__name__=~"{RULE_SLI_ERRORS}", {selector}}}'
    budget = f"{RULE_ERROR_BUDGET}{{{selector}}}"
    return f"max by (slo, sloth_window) (\n  {errors}\n  / on (sloth_id) group_left () {budget}\n)"


def with_partner(expr: str) -> str:
    """``expr`` (series with a ``node`` label) labelled with the node's partner; nodes the
    team operates get the partner ``(operated)``."""
    info = f"max by (node, partner) ({NODE_INFO})"
    joined = f"({expr})\n  * on (node) group_left (partner) {info}"
    return f'label_replace(\n  {joined},\n  "partner", "{OPERATED_PARTNER}", "partner", ""\n)'
