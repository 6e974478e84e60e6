from __future__ import annotations

import pytest

from agent.spec.variables import HeaderExpander, expand, referenced, template_error

ENV = {"TOKEN": "t0k", "REGION": "eu", "EMPTY": ""}


@pytest.mark.parametrize(
    ("template", "expanded"),
    [
        ("plain", "plain"),
        ("Bearer ${TOKEN}", "Bearer t0k"),
        ("${TOKEN}${REGION}", "t0keu"),
        ("${EMPTY}-", "-"),
        ("$${TOKEN}", "${TOKEN}"),
        ("$${", "${"),
        ("$TOKEN and $ {TOKEN} and a $", "$TOKEN and $ {TOKEN} and a $"),
        ("$$${TOKEN}", "$${TOKEN}"),  # "$" then the escape "$${"
    ],
)
def test_expand(template: str, expanded: str) -> None:
    assert template_error(template) is None
    assert expand(template, ENV) == expanded


@pytest.mark.parametrize("template", ["${", "${TOKEN", "${1ABC}", "${A-B}", "a ${} b"])
def test_malformed_references_are_errors_without_the_value(template: str) -> None:
    message = template_error(template)
    assert message is not None
    assert message.startswith('"${" must be followed by a variable name and "}"')
    with pytest.raises(ValueError, match="must be followed"):
        expand(template, ENV)


def test_referenced_skips_escapes() -> None:
    assert referenced("${A}/$${B}/${C}/${A}") == ["A", "C", "A"]


def test_missing_variable_is_a_key_error_naming_it() -> None:
    with pytest.raises(KeyError, match="NOPE"):
        expand("x ${NOPE}", ENV)


def test_expander_collects_every_missing_variable_once_per_header() -> None:
    expander = HeaderExpander(ENV)
    headers = expander.headers(("http",), {"A": "${X}${X}${Y}", "B": "${TOKEN}", "C": "${Y}"})
    assert headers == {"B": "t0k"}
    assert expander.missing == [
        (("http", "headers", "A"), "environment variable X is not set (needed by header A)"),
        (("http", "headers", "A"), "environment variable Y is not set (needed by header A)"),
        (("http", "headers", "C"), "environment variable Y is not set (needed by header C)"),
    ]


def test_run_values_are_left_for_the_prober_and_are_no_variables() -> None:
    template = "${run.uuid}/${TOKEN}/${run.time}/$${run.uuid}"
    assert template_error(template) is None
    assert referenced(template) == ["TOKEN"]
    assert expand(template, ENV) == "${run.uuid}/t0k/${run.time}/${run.uuid}"


def test_an_unknown_run_value_is_an_error() -> None:
    assert template_error("${run.id}") == (
        "unknown run value ${run.id} (run values: ${run.uuid}, ${run.time})"
    )
