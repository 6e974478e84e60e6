"""The one redaction of URLs, headers and free text, and the log filter built on it."""

from __future__ import annotations

import dataclasses
import logging
from datetime import timedelta

import pytest

from agent.model import BasicAuth, HttpCheck, Probe, SpecSet
from agent.redaction import (
    REDACTED,
    KnownSecrets,
    RedactingFilter,
    redact_headers,
    redact_text,
    redact_url,
    spec_secrets,
    url_secrets,
)
from tests.support.builders import node, spec_set


def _specs(check: HttpCheck) -> SpecSet:
    probe = Probe("authorize", timedelta(seconds=30), check)
    return spec_set(dataclasses.replace(node("shop"), probes=(probe,)))


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://shop.example/cart", "http://shop.example/cart"),
        ("http://token@shop.example/", "http://REDACTED:REDACTED@shop.example/"),
        ("http://u:p%40ss@shop.example:81/x", "http://REDACTED:REDACTED@shop.example:81/x"),
        ("http://shop.example/?Signature=abc&x=1", "http://shop.example/?Signature=REDACTED&x=1"),
        ("http://shop.example/?tokenish=1&q", "http://shop.example/?tokenish=1&q"),
        (
            "https://s.example/p?api_key=k1&API-KEY=k2&access_token=t&password=p&sig=s&page=2",
            "https://s.example/p?api_key=REDACTED&API-KEY=REDACTED&access_token=REDACTED"
            "&password=REDACTED&sig=REDACTED&page=2",
        ),
        (
            "https://s.example/cb#access_token=t&x=1",
            "https://s.example/cb#access_token=REDACTED&x=1",
        ),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected


def test_an_unparsable_url_with_userinfo_loses_it() -> None:
    assert redact_url("http://u:hunter2@[::1/x") == "http://REDACTED:REDACTED@[::1/x"


def test_redact_headers_by_name_and_by_known_value() -> None:
    headers = {
        "Authorization": "Bearer abc",
        "cookie": "s=1",
        "X-Api-Key": "k",
        "X-Tenant": "from-env-value",
        "Accept": "application/json",
    }
    shown = redact_headers(headers, secrets=["from-env-value"])
    assert shown == {
        "Authorization": REDACTED,
        "cookie": REDACTED,
        "X-Api-Key": REDACTED,
        "X-Tenant": REDACTED,
        "Accept": "application/json",
    }


def test_redact_text_finds_urls_headers_and_known_values() -> None:
    text = (
        'GET http://u:hunter2@h.example/a?token=t0k "HTTP/1.1 302" '
        "headers={'authorization': 'Bearer abcdefgh123', 'x-api-key': 'k3y'} "
        "then the value s3cret-value again; Basic dXNlcjpwYXNzd29yZA=="
    )
    shown = redact_text(text, ["s3cret-value"])
    for secret in ("hunter2", "t0k", "abcdefgh123", "k3y", "s3cret-value", "dXNlcjpwYXNzd29yZA"):
        assert secret not in shown
    assert "http://REDACTED:REDACTED@h.example/a?token=REDACTED" in shown
    assert redact_text("nothing secret: 5 probes ok") == "nothing secret: 5 probes ok"


def test_url_and_spec_secrets() -> None:
    found = url_secrets("http://u:p%40ss@h/?token=a%2Bb&x=1")
    assert found == {"u:p%40ss", "p%40ss", "p@ss", "a%2Bb", "a+b"}
    check = HttpCheck("http://h/?api_key=qk", headers={"Authorization": "Bearer envtoken"})
    specs = _specs(check)
    assert {"qk", "Bearer envtoken", "envtoken"} <= spec_secrets(specs)


def test_a_nodes_own_auth_and_proxy_are_secrets_without_any_http_probe() -> None:
    # a node with no HTTP probe whose journey steps take its auth and proxy at run time
    bare = dataclasses.replace(
        node("shop"),
        probes=(),
        auth=BasicAuth("probe", "node-password"),
        proxy="http://egress:proxy-password@proxy.internal:3128",
    )

    found = spec_secrets(spec_set(bare))

    assert {"node-password", "proxy-password"} <= found


def _record(message: str, *args: object, exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    return logging.LogRecord("httpx", logging.DEBUG, __file__, 1, message, args, exc_info)


def test_the_filter_redacts_message_arguments_and_traceback() -> None:
    secrets = KnownSecrets()
    secrets.add_urls(["http://am:am-password@127.0.0.1:9093"])
    secrets.add_values(["Bearer otlp-token"])
    check = HttpCheck("http://h/", headers={"X-Key": "spec-secret"})
    current = _specs(check)
    secrets.follow(lambda: current)
    redacting = RedactingFilter(secrets)
    formatter = logging.Formatter("%(message)s")
    try:
        raise ValueError("failed with spec-secret and otlp-token")
    except ValueError as exc:
        record = _record("to %s: %s (am-password)", "http://x:y@h/?sig=zz", "ok", exc=exc)
    assert redacting.filter(record) is True
    shown = formatter.format(record)
    for secret in ("am-password", "otlp-token", "spec-secret", ":y@", "zz"):
        assert secret not in shown
    assert "ValueError" in shown
    assert "to http://REDACTED:REDACTED@h/?sig=REDACTED: ok" in shown


def test_the_filter_follows_a_reload() -> None:
    secrets = KnownSecrets()
    first = _specs(HttpCheck("http://h/", headers={"A": "old-secret"}))
    second = _specs(HttpCheck("http://h/", headers={"A": "new-secret"}))
    current = [first]
    secrets.follow(lambda: current[0])
    assert "old-secret" in secrets.values()
    current[0] = second
    assert "new-secret" in secrets.values()
    assert "old-secret" not in secrets.values()
