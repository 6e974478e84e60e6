"""The one formatter of multiples: readable at every size, never an exponent."""

from __future__ import annotations

import math

import pytest

from agent.numbers import multiple, times


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (0.0, "0"),
        (1.0, "1"),
        (1.59, "1.59"),
        (14.4, "14.4"),
        (14.31, "14.3"),
        (11.66, "11.7"),
        (599.4, "599"),
        (999.4, "999"),
        (999.5, "1,000"),  # rounds up into the thousands: not "1e+03"
        (1172.4, "1,172"),
        (1.17e3, "1,170"),
        (123_456_789.0, "123,456,789"),
        (1e21, "1,000,000,000,000,000,000,000"),
        (0.5, "0.5"),
        (0.0123, "0.0123"),
        (0.001, "0.001"),
        (0.00042, "<0.001"),
        (1e-12, "<0.001"),
        (-2.5, "-2.5"),
        (-0.0001, "-<0.001"),
        (math.inf, "\u221e"),
        (math.nan, "?"),
    ],
)
def test_multiples_are_readable_at_every_size(value: float, shown: str) -> None:
    assert multiple(value) == shown


def test_times_carries_the_multiplication_sign() -> None:
    assert times(11.66) == "11.7\u00d7"
    assert times(1172.4) == "1,172\u00d7"
