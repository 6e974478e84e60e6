"""What a Prometheus SLI query may be: valid PromQL whose result is not split into groups.

The agent sums whatever series a query returns, while the generated Prometheus rules keep each
group of a ``sum by (route)`` apart: a route without errors then has no error series, drops out
of the error ratio there, and the two alert paths disagree. So a query's result must not be
grouped by ``by (...)`` or ``without (...)``; grouping inside an ungrouped outer aggregation
(``sum(max by (route) (...))``) is fine, since the outer one returns a single series again.

Queries are read by a real PromQL parser (``promql-parser``, the Rust parser GreptimeDB uses),
so ``by`` inside a label value or a metric name is never mistaken for a clause.
"""

from __future__ import annotations

import promql_parser as promql

WINDOW_PLACEHOLDER = "{{window}}"
_SAMPLE_WINDOW = "5m"  # any valid range: the placeholder only stands where a range goes

ALLOWED = (
    "an ungrouped aggregation that returns a single series, e.g. "
    f'sum(rate(http_requests_total{{code=~"5.."}}[{WINDOW_PLACEHOLDER}]))'
)


def query_problem(query: str) -> str | None:
    """Why ``query`` (with ``{{window}}`` in it) cannot be an SLI query, or None if it can."""
    try:
        expr = promql.parse(query.replace(WINDOW_PLACEHOLDER, _SAMPLE_WINDOW))
    except ValueError as error:
        return f"is not valid PromQL ({error}); it must be {ALLOWED}"
    clause = grouping(expr)
    if clause is None:
        return None
    return (
        f'groups its result with "{clause}": the agent adds all groups together while the '
        "generated rules keep them apart, so a group without errors drops out of the rules and "
        f"the two disagree; use {ALLOWED} (grouping inside an outer sum(...) is fine)"
    )


def grouping(expr: promql.Expr) -> str | None:
    """The aggregation clause (``sum by (route)``) that splits the result of ``expr`` into
    groups, or None when nothing does."""
    if isinstance(expr, promql.AggregateExpr):
        modifier = expr.modifier
        if modifier is None:
            return None
        without = modifier.type == promql.AggModifierType.Without
        if without or modifier.labels:  # "by ()" groups nothing; "without ()" keeps every label
            return f"{expr.op} {modifier}"
        return None  # an ungrouped aggregation is one series, whatever its input
    if isinstance(expr, promql.BinaryExpr):
        return grouping(expr.lhs) or grouping(expr.rhs)
    if isinstance(expr, promql.ParenExpr | promql.UnaryExpr | promql.SubqueryExpr):
        return grouping(expr.expr)
    if isinstance(expr, promql.Call):
        for argument in expr.args:
            found = grouping(argument) if isinstance(argument, promql.Expr) else None
            if found is not None:
                return found
    return None  # selectors and literals: no clause of the query splits them
