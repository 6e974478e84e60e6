"""Spec files are read bounded: only regular files, at most MAX_SPEC_BYTES, and durations
that fit. (Nesting, aliases and integers are bad specs in tests/testdata/specs/bad.)"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

from agent.durations import MAX_DURATION, DurationTooLong, parse_duration
from agent.errors import SpecError
from agent.spec.files import MAX_SPEC_BYTES
from agent.spec.loader import load_specs, spec_paths


def problems(*paths: Path) -> list[str]:
    with pytest.raises(SpecError) as caught:
        load_specs(list(paths), {})
    return str(caught.value).splitlines()


def test_a_fifo_named_yaml_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "specs" / "pipe.yaml"
    fifo.parent.mkdir()
    os.mkfifo(fifo)  # nobody ever writes to it: reading it would block forever
    assert problems(*spec_paths([str(tmp_path / "specs")], {})) == [
        f"{fifo}: cannot be read: a named pipe (FIFO), not a regular file"
    ]


def test_a_symlink_to_dev_zero_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "zero.yaml"
    link.symlink_to("/dev/zero")  # endless: reading it would fill memory
    assert problems(link) == [f"{link}: cannot be read: a character device, not a regular file"]


def test_a_file_over_the_size_limit_is_refused_unread(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    with big.open("wb") as out:  # sparse: no 4 MiB written
        out.truncate(MAX_SPEC_BYTES + 1)
    assert problems(big) == [
        f"{big}: is larger than 4 MiB ({MAX_SPEC_BYTES + 1:,} bytes), the most a spec file "
        "may hold; split it"
    ]


def test_a_file_at_the_size_limit_is_read(tmp_path: Path) -> None:
    edge = tmp_path / "edge.yaml"
    edge.write_bytes(b"# padding\n" + b" " * (MAX_SPEC_BYTES - 11) + b"\n")
    assert edge.stat().st_size == MAX_SPEC_BYTES
    assert load_specs([edge], {}).nodes == ()  # read whole: no problem, no node


@pytest.mark.parametrize(
    ("text", "expected"),
    [("3650d", MAX_DURATION), ("520w", timedelta(weeks=520)), ("0001s", timedelta(seconds=1))],
)
def test_durations_up_to_the_longest_parse(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["3651d", "1000000000d", "9" * 4301 + "ms", "3650d1ms"])
def test_longer_durations_are_refused_by_name(text: str) -> None:
    with pytest.raises(DurationTooLong, match=r"is longer than 3650d, the longest duration"):
        parse_duration(text)
