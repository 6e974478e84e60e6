"""The shipped examples load together, mean what they say, and match the JSON Schema."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from agent.model import CalendarWindow, HttpCheck, Mode, RollingWindow, SpecSet
from agent.probe_kinds.tcp import TcpCheck
from agent.spec.loader import load_specs, spec_paths
from agent.spec.schema import kind_json_schema, spec_json_schema
from tests.support.builders import probe_sli

EXAMPLES = Path(__file__).parents[2] / "slo_specs" / "examples"
ENV = {"ACME_TOKEN": "example-token"}
EXAMPLE_FILES = sorted(EXAMPLES.glob("*.yaml"))


@pytest.fixture(scope="module")
def specs() -> SpecSet:
    return load_specs(spec_paths([str(EXAMPLES)], {}), ENV)


def test_all_examples_load_as_one_set(specs: SpecSet) -> None:
    assert [node.name for node in specs.nodes] == [
        "acme-pay",
        "checkout-api",
        "fastship",
        "globex-pay",
        "inventory",
        "parcelpost",
        "storefront",
    ]
    assert sorted(specs.alert_windows) == ["default", "fast"]
    assert len(specs.sources) == len(EXAMPLE_FILES) == 7


def test_examples_cover_both_modes_and_both_probe_kinds(specs: SpecSet) -> None:
    assert {node.mode for node in specs.nodes} == {Mode.OPERATED, Mode.ORCHESTRATED}
    checks = [probe.check for node in specs.nodes for probe in node.probes]
    assert any(isinstance(check, TcpCheck) for check in checks)
    assert any(isinstance(check, HttpCheck) for check in checks)


def test_the_partner_token_comes_from_the_environment(specs: SpecSet) -> None:
    check = specs.node("acme-pay").probe("authorize").check
    assert isinstance(check, HttpCheck)
    assert check.headers["Authorization"] == "Bearer example-token"


def test_calendar_and_latency_slos(specs: SpecSet) -> None:
    inventory = specs.node("inventory").slos[0]
    assert inventory.window == CalendarWindow("month")
    latency = next(slo for slo in specs.node("acme-pay").slos if slo.name == "latency")
    assert probe_sli(latency).latency_under == timedelta(milliseconds=400)
    assert latency.window == RollingWindow(timedelta(days=28))
    assert latency.objective == 0.99


def test_fallbacks_are_alternatives_with_a_drill(specs: SpecSet) -> None:
    for node in specs.nodes:
        for fallback in node.fallbacks:
            assert specs.node(fallback.node).capability == node.capability
    drill = specs.node("acme-pay").fallbacks[0].drill
    assert drill is not None
    assert drill.every == timedelta(hours=1)
    assert drill.check.headers == {"X-Route": "backup"}


def test_custom_windows_are_used(specs: SpecSet) -> None:
    assert specs.windows_for(specs.node("fastship")).name == "fast"
    assert specs.windows_for(specs.node("storefront")).name == "default"


def documents() -> list[tuple[str, Any]]:
    found = []
    for path in EXAMPLE_FILES:
        for number, document in enumerate(yaml.safe_load_all(path.read_text()), start=1):
            found.append((f"{path.name}#{number}", document))
    return found


@pytest.mark.parametrize(("where", "document"), documents(), ids=[w for w, _ in documents()])
def test_example_documents_match_the_json_schema(where: str, document: Any) -> None:
    jsonschema.Draft202012Validator(spec_json_schema()).validate(document)
    jsonschema.Draft202012Validator(kind_json_schema(document["kind"])).validate(document)
    assert where


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (lambda d: d["spec"]["probes"][0]["http"].update(timout="5s"), "timout"),
        (lambda d: d["spec"]["slos"][0].update(objective=100), "100"),
        (lambda d: d["spec"]["slos"][0].update(window="5 minutes"), "5 minutes"),
        (lambda d: d["metadata"].update(name="Acme_Pay"), "Acme_Pay"),
        (lambda d: d["spec"]["probes"][0]["http"]["expect"].update(status=[999]), "999"),
        (lambda d: d["spec"]["alerting"]["labels"].update({"bad-label": "x"}), "bad-label"),
    ],
)
def test_the_json_schema_rejects_what_editors_should_flag(change: Any, complaint: str) -> None:
    document = yaml.safe_load((EXAMPLES / "payments.yaml").read_text().split("---")[0])
    change(document)
    with pytest.raises(jsonschema.ValidationError) as caught:
        jsonschema.Draft202012Validator(kind_json_schema("Node")).validate(document)
    assert complaint in str(caught.value.message)
