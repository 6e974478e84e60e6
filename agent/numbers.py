"""Numbers for people: the one formatter of burn rates, overspends and other multiples, used
wherever a number is shown to a person (status page, ``report``, ``advise``, the demo).

Never an exponent (``1.17e+03``), never a spurious precision: three significant digits below
1,000, whole numbers with thousands separators from there, and tiny values said as such.
"""

from __future__ import annotations

import math

TIMES = "\u00d7"  # the multiplication sign
SMALLEST = 0.001  # below this (and above 0) a multiple shows as "<0.001"


def multiple(value: float) -> str:
    """``1.59`` -> ``"1.59"``, ``14.31`` -> ``"14.3"``, ``599.4`` -> ``"599"``, ``999.7`` ->
    ``"1,000"``, ``1172.4`` -> ``"1,172"``, ``0.00042`` -> ``"<0.001"``, ``0`` -> ``"0"``."""
    if math.isnan(value):
        return "?"
    if math.isinf(value):
        return "\u221e" if value > 0 else "-\u221e"
    if value == 0:
        return "0"
    size = abs(value)
    if size < SMALLEST:
        return f"{'-' if value < 0 else ''}<{SMALLEST:g}"
    if size >= 999.5:  # whole, with separators (999.5 would round to "1e+03" with .3g)
        return f"{value:,.0f}"
    digits = 2 - math.floor(math.log10(size))  # decimals for three significant digits
    shown = f"{round(value, digits):.{max(digits, 0)}f}"
    return shown.rstrip("0").rstrip(".") if "." in shown else shown


def times(value: float) -> str:
    """A multiple with its sign: ``"11.7\u00d7"``, ``"1,172\u00d7"``."""
    return f"{multiple(value)}{TIMES}"


def whole(value: float) -> str:
    """A count: ``1234567`` -> ``"1,234,567"``."""
    return f"{value:,.0f}"
