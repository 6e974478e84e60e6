"""A store that cannot be used is one line naming the store path and what is wrong with it, and
exit 1, for every verb that reads or writes one: never a traceback."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from agent.store.sqlite import SqliteStore
from tests.support.agents import node_spec, write_specs
from tests.support.cli import slo_agent
from tests.support.net import free_port

VERBS = ("run", "report", "advise")


def _args(verb: str, specs: Path, store: Path) -> list[str]:
    if verb == "run":
        return [verb, str(specs), "--store", str(store), "--listen", f"127.0.0.1:{free_port()}"]
    return [verb, str(specs), "--store", str(store)]


def _not_sqlite(tmp: Path) -> Path:
    path = tmp / "notes.db"
    path.write_text("these are my notes, not a database\n" * 100)
    return path


def _truncated(tmp: Path) -> Path:
    whole = tmp / "whole.db"
    with SqliteStore(whole):
        pass
    path = tmp / "truncated.db"
    path.write_bytes(whole.read_bytes()[:3000])  # the header survives, the pages do not
    return path


def _directory(tmp: Path) -> Path:
    path = tmp / "store.db"
    path.mkdir()
    return path


def _newer(tmp: Path) -> Path:
    path = tmp / "newer.db"
    with SqliteStore(path):
        pass
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    return path


CASES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "not-sqlite": (_not_sqlite, "is not a slo-agent store: not an SQLite database"),
    "truncated": (_truncated, "is not a slo-agent store: not an SQLite database"),
    "directory": (_directory, "it is a directory, not a store file"),
    "newer-schema": (_newer, "was written by a newer slo-agent (store schema 99;"),
}


@pytest.mark.parametrize("verb", VERBS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_a_bad_store_is_one_line_and_exit_1(tmp_path: Path, verb: str, case: str) -> None:
    make, what = CASES[case]
    store = make(tmp_path)
    specs = write_specs(tmp_path / "specs", web=node_spec("web", "http://127.0.0.1:9/"))
    result = slo_agent(*_args(verb, specs, store))
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(store) in lines[0]
    assert what in lines[0]
    assert "Traceback" not in result.stderr


@contextlib.contextmanager
def _read_only_dir(tmp: Path) -> Iterator[Path]:
    """A directory on a read-only tmpfs holding a store (needs root to mount)."""
    mount = shutil.which("mount")
    if os.geteuid() != 0 or mount is None:
        pytest.skip("mounting a read-only file system needs root")
    where = tmp / "ro"
    where.mkdir()
    done = subprocess.run([mount, "-t", "tmpfs", "tmpfs", str(where)], check=False, timeout=10)
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        with SqliteStore(where / "store.db"):
            pass
        subprocess.run([mount, "-o", "remount,ro", str(where)], check=True, timeout=10)
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=False, timeout=10)


@pytest.mark.parametrize("verb", VERBS)
def test_a_store_on_a_read_only_file_system_is_one_line(tmp_path: Path, verb: str) -> None:
    specs = write_specs(tmp_path / "specs", web=node_spec("web", "http://127.0.0.1:9/"))
    with _read_only_dir(tmp_path) as where:
        store = where / "store.db"
        result = slo_agent(*_args(verb, specs, store))
    assert result.returncode == 1, result.stderr
    assert result.stderr.strip() == (
        f"cannot open the store {store}: its directory is on a read-only file system (the store "
        "needs write access, also to be read: SQLite keeps its write-ahead log index next to it)"
    )


def test_run_with_nothing_to_probe_exits_1_instead_of_idling(tmp_path: Path) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "windows.yaml").write_text(
        "apiVersion: slo-agent/v1\nkind: AlertWindows\nmetadata: {name: default}\n"
        "spec:\n  page:\n    - {long: 1h, short: 5m, budget_percent: 2}\n"
    )
    result = slo_agent(*_args("run", specs, tmp_path / "store.db"))
    assert result.stderr.strip().splitlines()[-1:] == [
        f"nothing to probe: {specs / 'windows.yaml'} define no Node and no Journey"
    ]
    assert result.returncode == 1
    assert not (tmp_path / "store.db").exists()
