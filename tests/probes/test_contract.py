"""Contract conditions (``expect.json`` operators, ``expect.headers``) written in a spec,
loaded, and judged against a real loopback target: the reason and the exact detail a user sees."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from agent.model import HttpCheck
from agent.probes.http import HttpProber
from agent.probes.result import Reason
from agent.spec.loader import load_specs
from tests.support.targets import Reply, Target

PAYMENT = {
    "id": "ch_123",
    "amount": -3,
    "currency": "eur",
    "items": [],
    "meta": {"a": 1, "b": 2},
    "note": None,
    "ratio": 1.5,
}


def check_from_spec(tmp_path: Path, url: str, expect: dict[str, Any]) -> HttpCheck:
    """The check a v1 spec with this ``expect`` block loads into (JSON is valid YAML)."""
    document = {
        "apiVersion": "slo-agent/v1",
        "kind": "Node",
        "metadata": {"name": "pay"},
        "spec": {
            "mode": "operated",
            "owner": "payments",
            "capability": "charges",
            "probes": [{"name": "charge", "http": {"url": url, "expect": expect}}],
        },
    }
    path = tmp_path / "pay.yaml"
    path.write_text(json.dumps(document), encoding="utf-8")
    check = load_specs([path], {}).nodes[0].probes[0].check
    assert isinstance(check, HttpCheck)
    return check


@dataclass(frozen=True)
class Case:
    id: str
    expect: dict[str, Any]
    detail: str  # "" for a pass


CASES = [
    Case("equality form unchanged", {"json": {"$.currency": "eur"}}, ""),
    Case(
        "equality form fails as before",
        {"json": {"$.currency": "usd"}},
        '$.currency: expected "usd", got "eur"',
    ),
    Case("gt fails", {"json": {"$.amount": {"gt": 0}}}, "$.amount: expected > 0, got -3"),
    Case("le passes", {"json": {"$.amount": {"le": -3, "ge": -10}}}, ""),
    Case("lt on a string", {"json": {"$.id": {"lt": 5}}}, '$.id: expected < 5, got "ch_123"'),
    Case(
        "ne fails",
        {"json": {"$.currency": {"ne": "eur"}}},
        '$.currency: expected != "eur", got "eur"',
    ),
    Case("eq with an object", {"json": {"$.meta": {"eq": {"b": 2, "a": 1}}}}, ""),
    Case("exists passes for null", {"json": {"$.note": {"exists": True}}}, ""),
    Case(
        "exists fails",
        {"json": {"$.refund": {"exists": True}}},
        "$.refund: expected a value, got nothing",
    ),
    Case(
        "not exists fails",
        {"json": {"$.id": {"exists": False}}},
        '$.id: expected nothing, got "ch_123"',
    ),
    Case("not exists passes", {"json": {"$.error": {"exists": False}}}, ""),
    Case(
        "missing value for gt", {"json": {"$.fee": {"gt": 0}}}, "$.fee: expected > 0, got nothing"
    ),
    Case("regex and type pass", {"json": {"$.id": {"type": "string", "regex": "^ch_"}}}, ""),
    Case(
        "regex fails",
        {"json": {"$.id": {"regex": "^pi_"}}},
        '$.id: expected to match /^pi_/, got "ch_123"',
    ),
    Case(
        "regex on a number",
        {"json": {"$.amount": {"regex": "3"}}},
        "$.amount: expected to match /3/, got -3",
    ),
    Case(
        "type integer fails",
        {"json": {"$.ratio": {"type": "integer"}}},
        "$.ratio: expected type integer, got 1.5",
    ),
    Case("type number takes integers", {"json": {"$.amount": {"type": "number"}}}, ""),
    Case("type null", {"json": {"$.note": {"type": "null"}}}, ""),
    Case(
        "type object fails",
        {"json": {"$.items": {"type": "object"}}},
        "$.items: expected type object, got []",
    ),
    Case(
        "length fails",
        {"json": {"$.items": {"length": {"ge": 1}}}},
        "$.items: expected length >= 1, got length 0",
    ),
    Case("length of an object", {"json": {"$.meta": {"length": 2}}}, ""),
    Case(
        "length of a string",
        {"json": {"$.id": {"length": {"gt": 6}}}},
        "$.id: expected length > 6, got length 6",
    ),
    Case(
        "length of a number",
        {"json": {"$.amount": {"length": 1}}},
        "$.amount: expected length == 1, got -3",
    ),
    Case("several matches: length", {"json": {"$.meta.*": {"length": {"eq": 2}}}}, ""),
    Case(
        "several matches: none exist",
        {"json": {"$.items[*]": {"exists": True}}},
        "$.items[*]: expected a value, got nothing",
    ),
    Case("header equals", {"headers": {"content-type": "application/json"}}, ""),
    Case(
        "header equals fails",
        {"headers": {"Content-Type": "text/html"}},
        "header Content-Type: expected text/html, got application/json",
    ),
    Case("header regex", {"headers": {"X-Request-Id": {"regex": "^req-[0-9]+$"}}}, ""),
    Case(
        "header regex fails",
        {"headers": {"x-request-id": {"regex": "^id-"}}},
        "header x-request-id: expected to match /^id-/, got req-42",
    ),
    Case(
        "header missing",
        {"headers": {"X-Trace": {"exists": True}}},
        "header X-Trace: expected the header, got nothing",
    ),
    Case(
        "header present that must not be",
        {"headers": {"X-Request-Id": {"exists": False}}},
        "header X-Request-Id: expected no such header, got one",
    ),
    Case(
        "credential header value never shown",
        {"headers": {"Set-Cookie": {"regex": "^nope"}}},
        "header Set-Cookie (credential): expected to match /^nope/, got a value not shown",
    ),
    Case(
        "headers judged before the body",
        {"headers": {"Content-Type": "text/html"}, "json": {"$.amount": {"gt": 0}}},
        "header Content-Type: expected text/html, got application/json",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
async def test_condition_against_a_real_target(
    case: Case, tmp_path: Path, target: Target, prober: HttpProber
) -> None:
    target.route(
        "/charge",
        Reply(
            200,
            json.dumps(PAYMENT).encode(),
            headers={"X-Request-Id": "req-42", "Set-Cookie": "session=canary-cookie-secret"},
            content_type="application/json",
        ),
    )
    check = check_from_spec(tmp_path, target.url("/charge"), case.expect)

    observation = await prober.observe(check)

    assert observation.detail == case.detail
    assert observation.reason is (Reason.ASSERTION if case.detail else Reason.OK)
    assert "canary-cookie-secret" not in observation.detail


def test_conditions_count_as_contract_checks(tmp_path: Path) -> None:
    from agent.probe_kinds.http import KIND

    expect = {
        "json": {"$.a": 1, "$.b": {"gt": 0}},
        "headers": {"X-A": "1", "X-B": {"exists": True}},
    }
    check = check_from_spec(tmp_path, "http://127.0.0.1:1/", expect)
    assert KIND.contract_checks(check) == 4
