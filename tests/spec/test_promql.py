"""Prometheus SLI queries: valid PromQL whose result is not grouped; read by a real parser."""

from __future__ import annotations

import promql_parser
import pytest

from agent.spec.promql import grouping, query_problem

W = "{{window}}"


@pytest.mark.parametrize(
    ("query", "clause"),
    [
        (f"sum by (route) (rate(http_requests_total[{W}]))", "sum by (route)"),
        (f"sum(rate(http_requests_total[{W}])) by (route, code)", "sum by (route, code)"),
        (f"sum without (instance) (rate(x[{W}]))", "sum without (instance)"),
        (f"sum without () (rate(x[{W}]))", "sum without ()"),  # keeps every label
        (f"count by (route) (x) / sum(rate(x[{W}]))", "count by (route)"),
        (f"sum(rate(x[{W}])) / sum by (route) (rate(x[{W}]))", "sum by (route)"),
        (f"(sum by (route) (rate(x[{W}])))", "sum by (route)"),
        (f"-sum by (route) (rate(x[{W}]))", "sum by (route)"),
        (f"clamp_min(sum by (route) (rate(x[{W}])), 0)", "sum by (route)"),
        (f"max_over_time(sum by (route) (rate(x[5m]))[{W}:1m])", "sum by (route)"),
        (f"topk by (route) (1, rate(x[{W}]))", "topk by (route)"),
    ],
)
def test_a_grouped_result_is_found(query: str, clause: str) -> None:
    assert grouping(promql_parser.parse(query.replace(W, "5m"))) == clause
    problem = query_problem(query)
    assert problem is not None
    assert problem.startswith(f'groups its result with "{clause}": ')
    assert "an ungrouped aggregation that returns a single series" in problem


@pytest.mark.parametrize(
    "query",
    [
        f'sum(rate(http_requests_total{{code=~"5.."}}[{W}]))',
        f"sum(rate(requests_by_route_total[{W}]))",  # "by" inside a metric name
        f'sum(rate(x{{group="by", route=~"sum by (.*)"}}[{W}]))',  # ... and label values
        f'sum(rate(x{{without="without (a)"}}[{W}]))',
        f"sum(max by (route) (rate(x[{W}])))",  # grouping inside an ungrouped outer sum
        f"sum by () (rate(x[{W}]))",  # by nothing: one group
        f"rate(http_requests_total[{W}])",  # no aggregation at all
        f"sum(rate(errors_total[{W}])) + sum(rate(timeouts_total[{W}]))",
        f"sum(rate(x[{W}])) / on() group_left sum(rate(y[{W}]))",  # on()/group_left: matching
        f"sum(rate(bad[{W}])) or vector(0)",
    ],
)
def test_an_ungrouped_query_passes(query: str) -> None:
    assert query_problem(query) is None


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        (f"sum(rate(x[{W}])", "unclosed left parenthesis"),
        (f"sum rate(x[{W}])", ""),
        (f"sum(rate(x{{code=~}}[{W}]))", ""),
    ],
)
def test_invalid_promql_is_a_problem(query: str, reason: str) -> None:
    problem = query_problem(query)
    assert problem is not None
    assert problem.startswith("is not valid PromQL (")
    assert reason in problem
