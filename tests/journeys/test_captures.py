"""Capturing values from a JSON response and filling them into the next request."""

from __future__ import annotations

import pytest

from agent.journeys.captures import capture_values, compile_captures, fill, is_template
from tests.journeys.support import check


def test_captures_take_the_first_match_strings_as_they_are_others_as_json() -> None:
    captures = compile_captures(
        {"cart": "$.id", "total": "$.total", "first": "$.items[*].sku", "ok": "$.ok"}
    )
    body = b'{"id": "c-1", "total": 12.5, "items": [{"sku": "a"}, {"sku": "b"}], "ok": true}'
    assert capture_values(captures, body) == (
        {"cart": "c-1", "total": "12.5", "first": "a", "ok": "true"},
        None,
    )


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b'{"other": 1}', "cannot capture cart: $.id selected nothing"),
        (b'"just a string"', "cannot capture cart: $.id selected nothing"),
        (b"<html>", "cannot capture cart: body is not JSON (Expecting value: line 1 column 1"),
        (None, "cannot capture cart: body is not JSON (Expecting value: line 1 column 1"),
    ],
)
def test_a_capture_that_finds_nothing_says_why(body: bytes | None, problem: str) -> None:
    values, found = capture_values(compile_captures({"cart": "$.id"}), body)
    assert values == {}
    assert found is not None
    assert found.startswith(problem)


def test_fill_substitutes_url_headers_and_body() -> None:
    template = check(
        "http://127.0.0.1:1/pay/${cart}?cart=${cart}&note=${note}",
        method="POST",
        headers={"X-Cart": "${cart}", "Authorization": "Bearer s3cret", "X-Lit": "$${cart}"},
        body=b'{"cart": "${cart}", "note": "${note}"}',
    )
    assert is_template(template)
    request = fill(template, {"cart": "c-1/2", "note": "a b&c"})
    assert request.url == "http://127.0.0.1:1/pay/c-1/2?cart=c-1/2&note=a%20b%26c"
    assert request.headers == {
        "X-Cart": "c-1/2",
        "Authorization": "Bearer s3cret",
        "X-Lit": "${cart}",
    }
    assert request.body == b'{"cart": "c-1/2", "note": "a b&c"}'
    assert (request.method, request.timeout) == (template.method, template.timeout)


def test_a_check_without_placeholders_is_not_a_template() -> None:
    assert not is_template(check("http://127.0.0.1:1/x", headers={"A": "b"}, body=b"{}"))


def test_a_missing_value_is_a_key_error() -> None:
    with pytest.raises(KeyError, match="cart"):
        fill(check("http://127.0.0.1:1/?c=${cart}"), {})
