"""The advisor's start-up replay in a child process (:mod:`agent.runtime.replay_process`): on
a real store file, a real child gives the state the in-thread replay gives, and the advisor the
same decisions; the child writes nothing to the file; a stop ends it by its PID; a child that
fails is logged and the advisor replays in its own process instead."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agent.advisor.hysteresis import KEEP
from agent.advisor.review import DecisionReport
from agent.app import running_agent
from agent.model import SpecSet
from agent.runtime.advice import (
    Advisor,
    ReplayFailed,
    ReplayStopped,
    policy_of,
    replay,
    replay_past,
)
from agent.runtime.evaluator import evaluate
from agent.runtime.replay_process import ReplayJob, ReplayProcess
from agent.runtime.worker_protocol import frame
from agent.store.sqlite import SqliteStore
from bench.history_shift import shift_to
from tests.advisor.ecosystem import MINUTE, START, FakeClock, load, probe_timeline
from tests.advisor.test_scenarios import DOWN, OK, POLICY, low_value_operated, node
from tests.support.agents import options
from tests.support.fakes import eventually
from tests.support.targets import Target

CHILD = [sys.executable, "-m", "agent.cli.replay_worker", "--log-level=warning"]
MINUTES = 180  # of stored history
# the reviews the cases lead to (fake minutes from the start): while the flaky node's flag
# sustains, while the outage's flag comes and goes, and after it cleared
NOWS = (40, 75, 100, 130, 180)


async def _history(directory: Path, store: SqliteStore) -> SpecSet:
    """Three hours of four nodes: an operated one down 13 minutes in every 25 (flagged by the
    scenario policy and kept flagged), a strict partner down from minute 20 to 80 whose
    fallback drills fail (its flag comes, then clears), its fallback and a steady node probed
    every 2 minutes."""
    async with (
        Target({"/health": OK}) as flaky,
        Target({"/health": OK, "/backup": DOWN}) as partner,
        Target({"/health": OK}) as backup,
        Target({"/health": OK}) as quiet,
    ):
        drill = (
            "  fallbacks:\n    - node: backup-pay\n      drill: {every: 5m, http: {url: "
            f'"{partner.url("/backup")}", timeout: 2s}}}}\n'
        )
        specs = load(
            directory,
            POLICY
            + low_value_operated("inventory", flaky.url("/health"))
            + node("gateway", partner.url("/health"), objective=99.95, extra=drill)
            + node("backup-pay", backup.url("/health"))
            + node("search", quiet.url("/health"), capability="search", interval="2m"),
        )

        def script(minute: int) -> None:
            flaky.route("/health", DOWN if minute % 25 >= 12 else OK)
            partner.route("/health", DOWN if 20 <= minute < 80 else OK)

        await probe_timeline(specs, store, FakeClock(), minutes=MINUTES, script=script)
    return specs


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SpecSet]:
    """A store file with the history (closed: each test copies it)."""
    directory = tmp_path_factory.mktemp("replay-history")
    path = directory / "store.db"

    async def build() -> SpecSet:
        with SqliteStore(path) as store:
            return await _history(directory, store)

    return path, asyncio.run(build())


def _copy(stored: tuple[Path, SpecSet], tmp_path: Path) -> tuple[Path, SpecSet]:
    source, specs = stored
    path = tmp_path / "store.db"
    path.write_bytes(source.read_bytes())
    return path, specs


def _never() -> bool:
    return False


@pytest.mark.parametrize("minute", NOWS)
def test_the_child_rebuilds_the_state_the_in_thread_replay_rebuilds(
    stored: tuple[Path, SpecSet], tmp_path: Path, minute: int
) -> None:
    path, specs = _copy(stored, tmp_path)
    now = START + minute * MINUTE
    policy = policy_of(specs)
    with SqliteStore(path) as store:  # open beside the child, as the agent's is
        here = replay_past(specs, store, now, policy)
        child = ReplayProcess(CHILD, path)
        there = child(specs, now, policy, _never)
    assert there == here
    assert set(there) == {n.name for n in specs.nodes}


def test_the_cases_hold_flags_that_sustain_and_clear(stored: tuple[Path, SpecSet]) -> None:
    """The table above is not of empty states: the replay leads to flags in force at some
    of its reviews and cleared at others (so the equality above compares something)."""
    path, specs = stored
    policy = policy_of(specs)
    with SqliteStore(path) as store:
        states = [replay_past(specs, store, START + m * MINUTE, policy) for m in NOWS]
    in_force = {
        m: {n for n, s in state.items() if s.flagged} for m, state in zip(NOWS, states, strict=True)
    }
    assert "inventory" in in_force[180]
    assert states[0]["gateway"].candidate is not None  # pending: the signal must hold first
    assert "gateway" in in_force[75]  # sustained
    assert "gateway" not in in_force[180]  # cleared after the outage
    assert states[-1]["backup-pay"].recommendation == KEEP


def test_the_advisor_ends_with_the_same_decisions_with_the_child(
    stored: tuple[Path, SpecSet], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path, specs = _copy(stored, tmp_path)
    now = START + 150 * MINUTE
    with SqliteStore(path) as store:
        in_thread = replay(specs, store, now, policy_of(specs))[0]
    child = ReplayProcess(CHILD, path)
    with SqliteStore(path) as store, caplog.at_level("INFO", logger="agent.runtime.advice"):
        advisor = Advisor(store, clock=FakeClock(now), past=child)
        report = advisor.review(specs, evaluate(specs, store, now))
        saved = store.advisor_state()
    assert len(child.started) == 1
    assert report == in_thread
    assert report.flagged  # decisions to compare
    assert saved is not None  # persisted as after an in-thread replay
    lines = [r.getMessage() for r in caplog.records if r.name == "agent.runtime.advice"]
    assert "in a child process" in lines[0]
    assert lines[1].startswith("advisor: replayed ")


def _files(path: Path) -> dict[str, tuple[str, int]]:
    """Each of the store's files: the digest of its bytes and its mtime (ns)."""
    out = {}
    for name in (path, Path(f"{path}-wal")):
        out[name.name] = (hashlib.sha256(name.read_bytes()).hexdigest(), name.stat().st_mtime_ns)
    return out


def test_the_child_writes_nothing_to_the_store(
    stored: tuple[Path, SpecSet], tmp_path: Path
) -> None:
    path, specs = _copy(stored, tmp_path)
    now = START + MINUTES * MINUTE
    with SqliteStore(path, checkpoint_every=0) as store:  # the agent's connection, open
        store.save_advisor_state("{}")  # a write: the log has frames, as beside an agent
        before = _files(path)
        watcher = sqlite3.connect(path)
        version = watcher.execute("PRAGMA data_version").fetchone()[0]
        state = ReplayProcess(CHILD, path)(specs, now, policy_of(specs), _never)
        assert state  # the child replayed
        assert watcher.execute("PRAGMA data_version").fetchone()[0] == version
        watcher.close()
        assert _files(path) == before
        assert store.advisor_state() == "{}"


def test_a_stop_during_the_replay_ends_the_child(
    stored: tuple[Path, SpecSet], tmp_path: Path
) -> None:
    path, specs = _copy(stored, tmp_path)
    child = ReplayProcess(CHILD, path)
    started: list[int] = []
    child.on_start = started.append  # told as soon as it runs: it has not replied yet
    with SqliteStore(path) as store:
        advisor = Advisor(store, clock=FakeClock(START + MINUTES * MINUTE), past=child)
        with pytest.raises(ReplayStopped):
            advisor.review(specs, evaluate(specs, store, START), stopped=lambda: bool(started))
        assert advisor.report is None  # no decisions from a half replay
        assert store.advisor_state() is None
    assert len(started) == 1
    with pytest.raises(ProcessLookupError):  # reaped: the PID is gone
        os.kill(started[0], 0)


def test_a_stop_ends_a_child_that_neither_reads_nor_replies(
    stored: tuple[Path, SpecSet], tmp_path: Path
) -> None:
    """A hung child (here one that only sleeps): the stop ends it by its PID all the same."""
    path, specs = _copy(stored, tmp_path)
    child = ReplayProcess([sys.executable, "-c", "import time; time.sleep(120)"], path)
    asked: list[bool] = []

    def stopped() -> bool:  # a few looks at it first: the child is waited for meanwhile
        asked.append(True)
        return len(asked) > 5

    with pytest.raises(ReplayStopped):
        child(specs, START + MINUTES * MINUTE, policy_of(specs), stopped)
    with pytest.raises(ProcessLookupError):
        os.kill(child.started[0], 0)


def test_the_child_stops_when_its_socket_closes(tmp_path: Path) -> None:
    """The agent gone (its end of the socket closed) before or during a replay: the child
    exits by itself."""
    ours, theirs = socket.socketpair()
    proc = subprocess.Popen(
        [*CHILD, str(theirs.fileno())], pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL
    )
    theirs.close()
    ours.close()
    assert proc.wait(60) == 0


def test_the_child_stops_when_the_agent_goes_away_during_the_replay(
    stored: tuple[Path, SpecSet], tmp_path: Path
) -> None:
    path, specs = _copy(stored, tmp_path)
    ours, theirs = socket.socketpair()
    proc = subprocess.Popen(
        [*CHILD, str(theirs.fileno())], pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL
    )
    theirs.close()
    now = START + MINUTES * MINUTE
    ours.sendall(frame(ReplayJob(str(path), specs, policy_of(specs), now)))
    ours.close()  # the agent is gone: nobody reads the reply
    # it exits (TimeoutExpired otherwise): 0 when it stopped mid-replay, 1 when it had finished
    # and found nobody to send the state to
    assert proc.wait(60) in (0, 1)


def _killing(child: ReplayProcess) -> None:
    def kill(pid: int) -> None:
        os.kill(pid, signal.SIGKILL)

    child.on_start = kill


@pytest.mark.parametrize("failure", ["killed", "store error", "not started"])
def test_a_failed_child_is_logged_and_the_advisor_replays_in_its_own_process(
    stored: tuple[Path, SpecSet],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    failure: str,
) -> None:
    path, specs = _copy(stored, tmp_path)
    now = START + 150 * MINUTE
    with SqliteStore(path) as store:
        in_thread = replay(specs, store, now, policy_of(specs))[0]
    if failure == "killed":
        child = ReplayProcess(CHILD, path)
        _killing(child)
    elif failure == "store error":  # the child cannot open the file it is given
        child = ReplayProcess(CHILD, tmp_path / "missing.db")
    else:
        child = ReplayProcess([str(tmp_path / "no-such-program")], path)
    with SqliteStore(path) as store, caplog.at_level("INFO", logger="agent.runtime.advice"):
        advisor = Advisor(store, clock=FakeClock(now), past=child)
        report = advisor.review(specs, evaluate(specs, store, now))
    assert report == in_thread  # decisions all the same
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1, errors
    assert errors[0].startswith("advisor: the replay process failed (")
    assert errors[0].endswith("replaying in the agent's process instead")
    for pid in child.started:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_a_child_that_sends_no_state_raises_replay_failed(
    stored: tuple[Path, SpecSet], tmp_path: Path
) -> None:
    """A child that replies with something else than the protocol's reply: refused."""
    path, specs = _copy(stored, tmp_path)
    liar = tmp_path / "liar.py"
    liar.write_text(
        "import socket, sys\n"
        "from agent.runtime.worker_protocol import Stop, frame\n"
        "s = socket.socket(fileno=int(sys.argv[1]))\n"
        "s.recv(4)\n"
        "s.sendall(frame(Stop()))\n",
        encoding="utf-8",
    )
    root = str(Path(__file__).resolve().parents[2])
    child = ReplayProcess([sys.executable, str(liar)], path, env={**os.environ, "PYTHONPATH": root})
    with pytest.raises(ReplayFailed, match="unexpected message Stop"):
        child(specs, START + 150 * MINUTE, policy_of(specs), _never)


async def test_the_agents_first_start_replays_in_a_child_and_shows_the_same_decisions(
    stored: tuple[Path, SpecSet], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """``slo-agent run`` on a store with history and no saved advisor state: the replay runs
    in a child process, which is gone afterwards, and the decisions are those an in-thread
    replay reaches at the same time on the same history."""
    path, specs = _copy(stored, tmp_path)
    shift_to(path, time.time(), grain=1)  # the history ends now: the agent's windows hold it
    before = tmp_path / "before.db"
    shutil.copyfile(path, before)
    spec_dir = tmp_path / "specs"
    spec_dir.mkdir()
    text = (stored[0].parent / "specs.yaml").read_text()
    # the agent's own probes and drills answer as at the history's end (every /health up, the
    # fallback's drill route down), so what it records while the replay runs changes no
    # review: the targets the history was made with are gone
    old_ports = set(re.findall(r"127\.0\.0\.1:(\d+)/", text))
    assert len(old_ports) == 4  # the history's four targets
    async with Target({"/health": OK, "/backup": DOWN}) as live:
        for port in old_ports:
            text = text.replace(f"127.0.0.1:{port}/", f"127.0.0.1:{live.port}/")
        (spec_dir / "specs.yaml").write_text(text)
        report, child = await _first_start(spec_dir, path, caplog)
    with SqliteStore(before) as store:
        want = replay(specs, store, report.evaluated_at, policy_of(specs))[0]
    assert {r.node: (r.state, r.advice.recommendation) for r in report.reviews} == {
        r.node: (r.state, r.advice.recommendation) for r in want.reviews
    }
    # something to compare: the flaky node's flag pending or in force (which, depends on
    # where in its 25-minute cycle the replay's 5-minute steps fall)
    assert report.review("inventory").state.candidate or report.review("inventory").flagged
    lines = [r.getMessage() for r in caplog.records if r.name == "agent.runtime.advice"]
    assert "in a child process" in lines[0], lines
    assert len(child.started) == 1
    with pytest.raises(ProcessLookupError):
        os.kill(child.started[0], 0)


async def _first_start(
    spec_dir: Path, path: Path, caplog: pytest.LogCaptureFixture
) -> tuple[DecisionReport, ReplayProcess]:
    """The first review of ``slo-agent run`` on ``path``, and the replay process it used."""
    with caplog.at_level("INFO", logger="agent.runtime.advice"):
        async with running_agent(options(spec_dir, path), {}) as running:
            advisor = running.advisor
            assert advisor is not None
            assert isinstance(advisor.past, ReplayProcess)
            await eventually(lambda: advisor.report is not None, within=120)
            report = advisor.report
            assert report is not None
            return report, advisor.past
