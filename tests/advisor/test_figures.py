"""Figures are formatted once and quoted as formatted."""

from __future__ import annotations

import pytest

from agent.advisor.figures import Figure, count, factor, money, number, percent, reason, seconds


@pytest.mark.parametrize(
    ("figure", "text"),
    [
        (percent("r", 0.125), "12.5%"),
        (percent("r", 0.9995, 3), "99.95%"),
        (percent("r", 1.0), "100%"),
        (percent("r", 0.0), "0%"),
        (seconds("s", 200.0), "3m20s"),
        (seconds("s", 0.0423), "42ms"),
        (seconds("s", 3600.0), "1h"),
        (count("n", 1234), "1,234"),
        (number("x", -0.6666), "-0.67"),
        (number("x", 2.0), "2"),
        (number("x", -0.001), "0"),
        (factor("f", 2.25), "2.25\u00d7"),
        (factor("f", 1172.4), "1,172\u00d7"),
        (money("m", 1234.5, "EUR"), "1,234.50 EUR"),
        (money("m", 0.00425, "USD"), "0.00425 USD"),
    ],
)
def test_formats(figure: Figure, text: str) -> None:
    assert figure.text == text


def test_a_reason_quotes_each_figure() -> None:
    why = reason("{rate} of {n} answers", rate=percent("rate", 0.25), n=count("answers", 60))
    assert why.text == "25% of 60 answers"
    assert str(why) == why.text
    assert [(f.name, f.value) for f in why.figures] == [("rate", 0.25), ("answers", 60)]
