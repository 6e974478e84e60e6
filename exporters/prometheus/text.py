"""The exposition text formats written directly, byte for byte what prometheus-client prints.

prometheus-client turns every sample into a ``Sample`` tuple with a label dict, sorts the labels
and formats them again at every scrape; at 10,000 SLOs that was most of a 3-4 s scrape. Here
each family is a header (``# HELP``/``# TYPE``) and lines of ``name{labels} value``, the label
text of a series escaped once by the exposition rules (backslash, double quote and newline in
label values; backslash and newline in help text, and double quote too in OpenMetrics) in the
order prometheus-client prints them (label names sorted).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

from prometheus_client.utils import floatToGoString


@lru_cache(maxsize=1 << 16)  # node, SLO, probe and window names repeat on every scrape
def escape_value(value: str) -> str:
    """A label value as it goes between double quotes."""
    return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


def escape_help(documentation: str, openmetrics: bool = False) -> str:
    text = documentation.replace("\\", r"\\").replace("\n", r"\n")
    return text.replace('"', r"\"") if openmetrics else text


def label_text(names: Sequence[str], values: Sequence[str]) -> str:
    """``a="x",b="y"`` with the names sorted, as prometheus-client prints them (no braces)."""
    return ",".join(
        f'{name}="{escape_value(value)}"'
        for name, value in sorted(zip(names, values, strict=True), key=lambda pair: pair[0])
    )


def number(value: float) -> str:
    """A sample value: Go's float formatting, as Prometheus and prometheus-client write it
    (``floatToGoString``, with a fast path for the common finite values under a million)."""
    if value.__class__ is int and -1_000_000 < value < 1_000_000:  # counts: "12.0"
        return f"{value}.0"
    f = float(value)
    if math.isfinite(f) and -1e6 < f < 1e6:
        return repr(f)  # no exponent below 1e6, and repr is what floatToGoString returns
    out: str = floatToGoString(f)  # type: ignore[no-untyped-call]
    return out


def header(name: str, documentation: str, kind: str, openmetrics: bool = False) -> str:
    return f"# HELP {name} {escape_help(documentation, openmetrics)}\n# TYPE {name} {kind}\n"


class GaugeFamily:
    """One gauge family's text: its header and one line per series added."""

    __slots__ = ("documentation", "lines", "name")

    def __init__(self, name: str, documentation: str) -> None:
        self.name = name
        self.documentation = documentation
        self.lines: list[str] = []  # whole ``name{labels} value\n`` lines, in order

    def add(self, labels: str, value: float) -> None:
        """``labels``: the label text from :func:`label_text` (or built the same way)."""
        self.lines.append(f"{self.name}{{{labels}}} {number(value)}\n")

    def __len__(self) -> int:
        return len(self.lines)

    def text(self, openmetrics: bool = False) -> str:
        return header(self.name, self.documentation, "gauge", openmetrics) + "".join(self.lines)


__all__ = [
    "GaugeFamily",
    "escape_help",
    "escape_value",
    "header",
    "label_text",
    "number",
]
