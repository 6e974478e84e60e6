"""``kind: Journey``: what a journey document means, and the capture/environment rule."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import jsonschema
import pytest
import yaml

from agent.errors import SpecError
from agent.journeys.captures import fill
from agent.model import JourneySli, RollingWindow, SpecSet
from agent.spec.loader import load_specs, spec_paths
from agent.spec.schema import kind_json_schema
from tests.journeys.support import checkout_specs

EXAMPLES = Path(__file__).parents[2] / "slo_specs" / "examples"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "specs.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def load(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> SpecSet:
    return load_specs([write(tmp_path, text)], env or {})


def problems(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(SpecError) as caught:
        load(tmp_path, text, env)
    return [str(problem) for problem in caught.value.problems]


def test_the_example_journey_means_what_it_says() -> None:
    specs = load_specs(spec_paths([str(EXAMPLES)], {}), {"ACME_TOKEN": "t0ken"})
    (checkout,) = specs.journeys
    assert checkout.name == "checkout"
    assert checkout.interval == timedelta(minutes=1)
    assert [(s.name, s.node) for s in checkout.steps] == [
        ("add-to-cart", "storefront"),
        ("authorize", "acme-pay"),
        ("quote", "fastship"),
    ]
    cart, authorize, quote = checkout.steps
    assert cart.capture == {"cart": "$.id"}
    assert cart.check.method == "POST"
    assert cart.check.expect_status == frozenset({201})
    assert authorize.check.timeout == timedelta(seconds=3)
    assert authorize.check.headers == {"Authorization": "Bearer t0ken", "X-Cart": "${cart}"}
    assert authorize.fallback is not None
    assert authorize.fallback.node == "globex-pay"
    assert specs.node("globex-pay").capability == specs.node("acme-pay").capability
    assert quote.check.url == "https://api.fastship.example/v3/quote?cart=${cart}"
    assert quote.check.timeout == timedelta(seconds=5)  # the default
    success, latency = checkout.slos
    assert (success.objective, success.window) == (0.995, RollingWindow(timedelta(days=28)))
    assert success.sli == JourneySli()
    assert latency.sli == JourneySli(timedelta(seconds=2))
    assert checkout.alerting.labels == {"team": "checkout"}


def test_journey_names_do_not_clash_with_node_names() -> None:
    specs = load_specs(spec_paths([str(EXAMPLES)], {}), {"ACME_TOKEN": "t"})
    assert not {j.name for j in specs.journeys} & {n.name for n in specs.nodes}


def test_captures_win_over_environment_variables_in_headers(tmp_path: Path) -> None:
    text = checkout_specs("http://shop:1", "http://pay:2", "http://backup:3", "http://ship:4")
    text = text.replace(
        'http: {url: "http://ship:4/quote", timeout: 1s}',
        'http: {url: "http://ship:4/quote", timeout: 1s, '
        'headers: {X-Cart: "${cart}", Authorization: "Bearer ${TOKEN}", X-Lit: "$${cart}"}}',
    )
    env = {"cart": "from-the-environment", "TOKEN": "a${b}c$${d"}
    quote = load(tmp_path, text, env).journeys[0].steps[2]
    request = fill(quote.check, {"cart": "c-9"})
    # the capture, not the variable of the same name; the token's "${" survives the filling
    assert request.headers == {
        "X-Cart": "c-9",
        "Authorization": "Bearer a${b}c$${d",
        "X-Lit": "${cart}",
    }


def test_an_unset_variable_in_a_step_header_is_named(tmp_path: Path) -> None:
    text = checkout_specs("http://shop:1", "http://pay:2", "http://backup:3", "http://ship:4")
    text = text.replace(
        'http: {url: "http://ship:4/quote", timeout: 1s}',
        'http: {url: "http://ship:4/quote", timeout: 1s, headers: {Authorization: "${SHIP_KEY}"}}',
    )
    assert problems(tmp_path, text, {"SHIP_KEY_OTHER": "x"}) == [
        f"{tmp_path / 'specs.yaml'}: document 5: spec.steps[2].http.headers.Authorization: "
        "environment variable SHIP_KEY is not set and no step captures it "
        "(needed by header Authorization)"
    ]


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://ship:4/quote?c=${", 'must be followed by a variable name and "}"'),
        (
            "http://ship:4/quote?c=${nope}",
            "${nope} is not captured by any earlier step (captures: cart)",
        ),
    ],
)
def test_placeholders_in_urls_must_be_earlier_captures(
    tmp_path: Path, url: str, problem: str
) -> None:
    text = checkout_specs("http://shop:1", "http://pay:2", "http://backup:3", "http://ship:4")
    text = text.replace('"http://ship:4/quote"', f'"{url}"')
    (line,) = problems(tmp_path, text)
    assert "spec.steps[2].http.url: " in line
    assert problem in line


def test_an_escaped_placeholder_is_literal(tmp_path: Path) -> None:
    text = checkout_specs("http://shop:1", "http://pay:2", "http://backup:3", "http://ship:4")
    text = text.replace('"http://ship:4/quote"', '"http://ship:4/quote?c=$${x}"')
    quote = load(tmp_path, text).journeys[0].steps[2]
    assert fill(quote.check, {"cart": "c"}).url == "http://ship:4/quote?c=${x}"


def test_the_journey_schema_takes_the_example_and_flags_a_typo() -> None:
    document = yaml.safe_load((EXAMPLES / "checkout-journey.yaml").read_text())
    validator = jsonschema.Draft202012Validator(kind_json_schema("Journey"))
    validator.validate(document)
    document["spec"]["steps"][0]["captures"] = document["spec"]["steps"][0].pop("capture")
    with pytest.raises(jsonschema.ValidationError, match="captures"):
        validator.validate(document)
