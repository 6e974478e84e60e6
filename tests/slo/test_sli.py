from __future__ import annotations

import pytest

from agent.slo.events import Counts
from agent.slo.sli import has_data, sli_ratio, sum_counts


@pytest.mark.parametrize(
    ("counts", "min_events", "expected"),
    [
        pytest.param(Counts(total=1000, bad=1), 3, 0.999, id="one-in-a-thousand"),
        pytest.param(Counts(total=4, bad=1), 3, 0.75, id="exact-quarter"),
        pytest.param(Counts(total=3, bad=0), 3, 1.0, id="at-min-events-all-good"),
        pytest.param(Counts(total=3, bad=3), 3, 0.0, id="at-min-events-all-bad"),
        pytest.param(Counts(total=2, bad=0), 3, None, id="below-min-all-good-is-no-data"),
        pytest.param(Counts(total=2, bad=2), 3, None, id="below-min-all-bad-is-no-data"),
        pytest.param(Counts(), 0, None, id="no-events-even-without-guard"),
        pytest.param(Counts(total=1, bad=0), 1, 1.0, id="single-event-min-1"),
        pytest.param(Counts(total=99, bad=50), 100, None, id="just-below-min"),
    ],
)
def test_sli_ratio_and_min_events_guard(
    counts: Counts, min_events: int, expected: float | None
) -> None:
    assert sli_ratio(counts, min_events) == expected
    assert has_data(counts, min_events) is (expected is not None)


def test_sli_is_a_ratio_of_sums_under_uneven_traffic() -> None:
    # 5 h at 1000 events/min without errors, then 5 h at 10 events/min with half of them bad
    busy = [Counts(total=1000, bad=0)] * 300
    quiet = [Counts(total=10, bad=5)] * 300
    summed = sum_counts(busy + quiet)
    assert summed == Counts(total=303_000, bad=1_500)
    # 301500 / 303000 reduces to 201 / 202
    assert sli_ratio(summed) == pytest.approx(201 / 202)
    # the average of the hourly (or per-minute) ratios would say 75%: that is not the SLI
    per_minute = [c.good / c.total for c in busy + quiet]
    assert sum(per_minute) / len(per_minute) == 0.75
    assert sli_ratio(summed) != pytest.approx(0.75)


def test_sum_counts_of_nothing_is_empty() -> None:
    assert sum_counts([]) == Counts()
