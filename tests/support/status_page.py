"""Reading the status page's SLO states back out of its HTML (rendered or dumped by a browser)."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

_ROW = re.compile(
    r'<tr class="slo state-([a-z_]+)"><th scope="row">([^<]*)</th>'
    r'.*?<span class="badge ([a-z_]+)">([^<]*)</span>',
    re.S,
)
_COUNT = re.compile(r'<span class="badge count ([a-z_]+)">(\d+) ([a-z ]+)</span>')


@dataclass(frozen=True, slots=True)
class Row:
    slo: str
    row_state: str  # the row's state-* class
    badge_class: str
    badge_text: str


def slo_rows(page: str) -> list[Row]:
    """Every SLO row of the page, in order, with its state badge."""
    return [Row(m[2], m[1], m[3], m[4]) for m in _ROW.finditer(page)]


def header_counts(page: str) -> dict[str, int]:
    """The header's count per state, by the state's words (``"no data"``)."""
    return {m[3]: int(m[2]) for m in _COUNT.finditer(page)}


def badge_counts(page: str) -> Counter[str]:
    """How many SLO rows show each state badge, by its words."""
    return Counter(row.badge_text for row in slo_rows(page))
