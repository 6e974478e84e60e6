"""The spec source of the running agent: warnings are logged at every load, and loading goes
on; errors raise."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from agent.errors import SpecError
from agent.runtime.source import SpecSource
from tests.support.agents import node_spec, write_specs


def test_warnings_are_logged_and_the_specs_load(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    specs = write_specs(tmp_path, a=node_spec("node-a", "http://127.0.0.1:9/", objective=0.999))
    with caplog.at_level(logging.WARNING, logger="agent.runtime.source"):
        loaded = SpecSource([str(specs)], {}).load()
    assert [node.name for node in loaded.nodes] == ["node-a"]
    assert [record.getMessage() for record in caplog.records] == [
        f"{specs / 'a.yaml'}: document 1: spec.slos[0].objective: warning: objective 0.999 is "
        "a percent, so it means 0.999% of events must be good; if the ratio 0.999 was meant, "
        "write 99.9 (objectives are percents)"
    ]


def test_a_spec_without_warnings_logs_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    specs = write_specs(tmp_path, a=node_spec("node-a", "http://127.0.0.1:9/"))
    with caplog.at_level(logging.WARNING, logger="agent.runtime.source"):
        SpecSource([str(specs)], {}).load()
    assert caplog.records == []


def test_a_tier_that_cannot_work_raises(tmp_path: Path) -> None:
    text = node_spec("node-a", "http://127.0.0.1:9/").replace("window: 3d", "window: 1d")
    specs = write_specs(tmp_path, a=text)
    with pytest.raises(SpecError, match=r"tier ticket\[1\] \(3d\)"):
        SpecSource([str(specs)], {}).load()
