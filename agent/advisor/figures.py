"""Reasons in plain language that quote the measured figures they rest on.

A :class:`Reason` is built from a template and named :class:`Figure` values; each figure is
formatted once and quoted in the text as formatted, so a reader (and a test) can find every
number a reason rests on in its text. Pure: no I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from agent.durations import format_duration
from agent.numbers import times


@dataclass(frozen=True, slots=True)
class Figure:
    name: str
    value: float
    text: str  # how the reason quotes it: "12.5%", "3m20s", "0.0042 EUR"


@dataclass(frozen=True, slots=True)
class Reason:
    text: str
    figures: tuple[Figure, ...]

    def __str__(self) -> str:
        return self.text


def reason(template: str, **figures: Figure) -> Reason:
    """``template`` with ``{name}`` replaced by each figure's text, e.g.
    ``reason("{rate} of answers broke the contract", rate=percent("rate", 0.125))``."""
    text = template.format(**{key: figure.text for key, figure in figures.items()})
    return Reason(text, tuple(figures.values()))


def percent(name: str, ratio: float, digits: int = 2) -> Figure:
    """A ratio as a percent: ``0.99951`` -> ``99.95%``, ``0.125`` -> ``12.5%``."""
    shown = f"{ratio * 100:.{digits}f}".rstrip("0").rstrip(".")
    return Figure(name, ratio, f"{shown}%")


def seconds(name: str, value: float) -> Figure:
    """A duration: ``200.0`` -> ``3m20s``, ``0.0423`` -> ``42ms``."""
    if abs(value) < 1:
        return Figure(name, value, f"{round(value * 1000)}ms")
    sign = "-" if value < 0 else ""
    return Figure(name, value, sign + format_duration(timedelta(seconds=round(abs(value)))))


def at_most(name: str, lower: float, upper: float) -> Figure:
    """A latency known to its histogram bucket ``(lower, upper]``: ``≤ 700ms``, or ``> 1h``
    for the overflow bucket (``upper`` infinite)."""
    if math.isinf(upper):
        return Figure(name, lower, "> " + seconds(name, lower).text)
    return Figure(name, upper, "≤ " + seconds(name, upper).text)


def count(name: str, value: float) -> Figure:
    return Figure(name, value, f"{value:,.0f}")


def number(name: str, value: float, digits: int = 2) -> Figure:
    """A plain number: ``1.5`` -> ``1.5``, ``2.0`` -> ``2``, ``-0.375`` -> ``-0.38``."""
    shown = f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return Figure(name, value, shown if shown not in ("", "-0") else "0")


def factor(name: str, value: float) -> Figure:
    """A ratio between two measurements: ``2.25`` -> ``2.25\u00d7``, ``1172.4`` ->
    ``1,172\u00d7`` (:func:`agent.numbers.times`)."""
    return Figure(name, value, times(value))


def money(name: str, value: float, currency: str) -> Figure:
    """An amount: ``1234.5`` -> ``1,234.50 EUR``; small ones with 4 significant digits."""
    if abs(value) >= 1 or value == 0:
        return Figure(name, value, f"{value:,.2f} {currency}")
    return Figure(name, value, f"{value:.4g} {currency}")
