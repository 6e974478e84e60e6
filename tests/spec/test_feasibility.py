"""Alert tiers that cannot work are errors: longer than the SLO window, or short windows that
cannot hold min_events runs. Exact messages are in tests/testdata/specs/bad; these tests pin
the boundaries and what is skipped."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from agent.errors import SpecError
from agent.model import CalendarWindow, RollingWindow
from agent.spec.defaults import default_alert_windows
from agent.spec.feasibility import shortest_period, tier_labels
from agent.spec.loader import load_specs
from tests.spec.helpers import node_yaml, write

WINDOWS = """\
apiVersion: slo-agent/v1
kind: AlertWindows
metadata: {{name: {name}}}
spec:
  page:
    - {{budget_percent: 2, long: {long}, short: {short}}}
"""


def node(window: str = "28d", interval: str = "30s", min_events: int = 3, windows: str = "") -> str:
    """Node "shop": probe "home" every ``interval``, one SLO over ``window`` on it."""
    slo = "  slos:\n    - name: availability\n      objective: 99.9\n"
    slo += f"      window: '{window}'\n      sli: {{probe: home}}\n"
    slo += f"      min_events: {min_events}\n"
    text = node_yaml("shop", spec=slo)
    text = text.replace("    - name: home\n", f"    - name: home\n      interval: {interval}\n")
    if windows:
        text += f"  alerting: {{windows: {windows}}}\n"
    return text


def problems(tmp_path: Path, *documents: str) -> list[str]:
    path = write(tmp_path, "specs.yaml", *documents)
    try:
        load_specs([path], {})
    except SpecError as error:
        return [f"{p.path}: {p.message}" for p in error.problems]
    return []


def test_the_shortest_period_of_a_calendar_month_is_28_days() -> None:
    assert shortest_period(CalendarWindow()) == timedelta(days=28)
    assert shortest_period(RollingWindow(timedelta(hours=5))) == timedelta(hours=5)


def test_tiers_are_labelled_as_in_their_document() -> None:
    labels = [label for label, _ in tier_labels(default_alert_windows())]
    assert labels == ["page[0]", "page[1]", "ticket[0]", "ticket[1]"]


@pytest.mark.parametrize(("window", "over"), [("3d", []), ("71h", ["ticket[1] (3d)"])])
def test_a_long_window_as_long_as_the_slo_window_fits(
    tmp_path: Path, window: str, over: list[str]
) -> None:
    found = problems(tmp_path, node(window=window))
    assert len(found) == len(over)
    for problem, tier in zip(found, over, strict=True):
        assert problem.startswith("spec.slos[0].window: ")
        assert tier in problem


def test_the_min_events_boundary_is_floor_of_short_over_interval(tmp_path: Path) -> None:
    long_ = "1h"
    fits = WINDOWS.format(name="quick", long=long_, short="3m")
    # 3m / 1m = 3 runs = min_events: fine; 3m / 61s = 2 runs: not
    assert problems(tmp_path, node(interval="1m", windows="quick"), fits) == []
    found = problems(tmp_path, node(interval="61s", windows="quick"), fits)
    assert len(found) == 1
    assert found[0].startswith("spec.slos[0].min_events: ")
    assert "holds as few as 2 runs, fewer than min_events (3)" in found[0]
    assert "the smallest workable short window is 3m3s (3 x 1m1s)" in found[0]


def test_min_events_raises_the_smallest_workable_short_window(tmp_path: Path) -> None:
    assert problems(tmp_path, node(interval="30s", min_events=10)) == []  # 5m holds 10
    found = problems(tmp_path, node(interval="30s", min_events=11))
    assert len(found) == 1
    assert "the smallest workable short window is 5m30s (11 x 30s)" in found[0]


def test_a_prometheus_sli_is_checked_for_long_windows_only(tmp_path: Path) -> None:
    query = "sum(rate(x[{{window}}]))"
    sli = f"      sli: {{prometheus: {{error_query: '{query}', total_query: '{query}'}}}}\n"
    spec = f"  slos:\n    - name: requests\n      objective: 99\n      window: 1d\n{sli}"
    spec += "      min_events: 1000000\n"
    found = problems(tmp_path, node_yaml("shop", spec=spec))
    assert len(found) == 1
    assert found[0].startswith("spec.slos[0].window: ")
    assert "ticket[1] (3d)" in found[0]


def test_a_default_document_replaces_the_built_in_tiers(tmp_path: Path) -> None:
    own = WINDOWS.format(name="default", long="1h", short="10m")
    assert problems(tmp_path, node(window="1h"), own) == []
    assert len(problems(tmp_path, node(window="1h"))) == 1  # the built-in ones do not fit


def test_an_invalid_alert_windows_document_is_reported_once(tmp_path: Path) -> None:
    broken = WINDOWS.format(name="quick", long="1m", short="1h")  # short > long
    found = problems(tmp_path, node(window="1h", interval="1h", windows="quick"), broken)
    assert found == ["spec.page[0].short: must be shorter than long (1m), got 1h"]


def test_the_windows_an_owner_chooses_are_the_ones_checked(tmp_path: Path) -> None:
    wide = WINDOWS.format(name="wide", long="2d", short="1h")
    fine = node(window="2d", interval="10m", windows="wide")
    assert problems(tmp_path, fine, wide) == []
    on_defaults = problems(tmp_path, node(window="2d", interval="10m"), wide)
    assert [problem.split(":")[0] for problem in on_defaults] == [
        "spec.slos[0].window",
        "spec.slos[0].min_events",
    ]
