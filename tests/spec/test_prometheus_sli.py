"""``sli: {prometheus: {...}}``: SLIs from the user's own metrics, beside probe SLIs."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pydantic import ValidationError

from agent.errors import SpecError
from agent.model import ProbeSli, PrometheusSli
from agent.spec.loader import load_specs
from agent.spec.problems import translate
from agent.spec.schema import kind_json_schema
from agent.spec.v1 import NodeDocument
from agent.spec.v1_convert import to_node
from tests.spec.helpers import node_yaml, write

EXAMPLES = Path(__file__).parents[2] / "slo_specs" / "examples"
ERRORS = 'sum(rate(http_requests_total{job="shop",code=~"5.."}[{{window}}]))'
TOTAL = 'sum(rate(http_requests_total{job="shop"}[{{window}}]))'


def document(sli: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "slo-agent/v1",
        "kind": "Node",
        "metadata": {"name": "shop"},
        "spec": {
            "mode": "operated",
            "owner": "web",
            "capability": "web",
            "probes": [{"name": "home", "http": {"url": "https://shop.example/"}}],
            "slos": [{"name": "availability", "objective": 99.9, "window": "28d", "sli": sli}],
        },
    }


def sli_of(sli: dict[str, Any]) -> ProbeSli | PrometheusSli:
    node = to_node(NodeDocument.model_validate(document(sli)), {})
    converted = node.slos[0].sli
    assert isinstance(converted, ProbeSli | PrometheusSli)
    return converted


def problems(sli: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as caught:
        NodeDocument.model_validate(document(sli))
    return translate(caught.value, NodeDocument)


def test_a_prometheus_sli_converts_to_the_model_without_a_probe() -> None:
    sli = sli_of({"prometheus": {"error_query": ERRORS, "total_query": TOTAL}})
    assert sli == PrometheusSli(error_query=ERRORS, total_query=TOTAL)


def test_a_probe_sli_still_converts_to_a_probe_sli() -> None:
    latency = sli_of({"probe": "home", "latency_under": "300ms"})
    assert latency == ProbeSli("home", latency_under=timedelta(milliseconds=300))
    assert sli_of({"probe": "home"}) == ProbeSli("home")


@pytest.mark.parametrize("spelling", ["{{window}}", "{{.window}}", "{{ .window }}", "{{ window }}"])
def test_sloths_spelling_is_accepted_and_stored_as_window(spelling: str) -> None:
    query = f"sum(rate(http_requests_total[{spelling}])) + sum(rate(x_total[{spelling}]))"
    sli = sli_of({"prometheus": {"error_query": query, "total_query": f"  {TOTAL}\n"}})
    assert isinstance(sli, PrometheusSli)
    expected = "sum(rate(http_requests_total[{{window}}])) + sum(rate(x_total[{{window}}]))"
    assert sli.error_query == expected
    assert sli.total_query == TOTAL  # surrounding blank space is dropped


def test_prometheus_sli_problems_are_worded_for_the_user() -> None:
    assert problems({"prometheus": {"error_query": "up", "total_query": TOTAL}}) == [
        (
            "spec.slos[0].sli.prometheus.error_query",
            "must contain {{window}} where the range goes, e.g. "
            'sum(rate(http_requests_total[{{window}}])), got "up"',
        )
    ]
    assert problems({"prometheus": {"error_query": ERRORS}}) == [
        ("spec.slos[0].sli.prometheus.total_query", "is required")
    ]
    assert problems(
        {"probe": "home", "prometheus": {"error_query": ERRORS, "total_query": TOTAL}}
    ) == [("spec.slos[0].sli", "needs exactly one of probe or prometheus, got both")]


def test_a_prometheus_sli_refers_to_no_probe_but_a_probe_sli_still_must(tmp_path: Path) -> None:
    slos = (
        "  slos:\n"
        "    - name: availability\n"
        "      objective: 99.9\n"
        "      window: 28d\n"
        "      sli:\n"
        "        prometheus:\n"
        f"          error_query: '{ERRORS}'\n"
        f"          total_query: '{TOTAL}'\n"
        "    - {name: reachable, objective: 99, window: 28d, sli: {probe: hom}}\n"
    )
    path = write(tmp_path, "shop.yaml", node_yaml("shop", spec=slos))
    with pytest.raises(SpecError) as caught:
        load_specs([path], {})
    assert str(caught.value).splitlines() == [
        f'{path}: document 1: spec.slos[1].sli.probe: unknown probe "hom" (did you mean "home"?)'
    ]


def test_the_example_has_prometheus_and_probe_slis_on_one_operated_node() -> None:
    specs = load_specs([EXAMPLES / "checkout-api.yaml"], {})
    node = specs.node("checkout-api")
    kinds = {slo.name: type(slo.sli) for slo in node.slos}
    assert kinds == {
        "availability": PrometheusSli,
        "latency": PrometheusSli,
        "reachable": ProbeSli,
    }
    latency = node.slos[1].sli
    assert isinstance(latency, PrometheusSli)
    assert latency.error_query.count("{{window}}") == 2
    assert "\n" not in latency.error_query  # a folded YAML block reads as one line


@pytest.mark.parametrize(
    ("sli", "valid"),
    [
        ({"probe": "home"}, True),
        ({"probe": "home", "latency_under": "300ms"}, True),
        ({"prometheus": {"error_query": ERRORS, "total_query": TOTAL}}, True),
        ({"probe": "home", "prometheus": {"error_query": ERRORS, "total_query": TOTAL}}, False),
        (
            {"latency_under": "1s", "prometheus": {"error_query": ERRORS, "total_query": TOTAL}},
            False,
        ),
        ({"prometheus": {"error_query": "up", "total_query": TOTAL}}, False),
        ({}, False),
    ],
)
def test_the_json_schema_tells_editors_the_same(sli: dict[str, Any], valid: bool) -> None:
    validator = jsonschema.Draft202012Validator(kind_json_schema("Node"))
    assert validator.is_valid(document(sli)) is valid
