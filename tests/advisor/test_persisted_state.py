"""The advisor's hysteresis state is persisted in the store: a restarted agent goes on from its
last review instead of replaying the stored history; a state of another policy, or one older
than a replay would cover, is replayed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agent.advisor.policy import DecisionPolicy
from agent.model import SpecSet
from agent.runtime.advice import Advisor, ReplayStopped, policy_of, replay_times
from agent.runtime.evaluator import evaluate
from agent.store.sqlite import SqliteStore
from tests.support.targets import Target

from .ecosystem import MINUTE, START, FakeClock, load, probe_timeline
from .test_scenarios import DOWN, OK, POLICY, low_value_operated, node

READS = ("probe_sums", "failure_runs", "drill_summaries")


class CountingStore:
    """A real store whose evidence reads are counted."""

    def __init__(self, inner: SqliteStore) -> None:
        self.inner = inner
        self.calls: dict[str, int] = dict.fromkeys(READS, 0)

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.inner, name)
        if name not in READS:
            return attribute

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            return attribute(*args, **kwargs)

        return counted


async def history(tmp_path: Path, store: SqliteStore) -> SpecSet:
    """Two hours of an operated node that is down 13 minutes in every 25 (flagged
    ``review: orchestrate`` by the scenario policy) and a steady one."""
    async with Target({"/health": OK}) as flaky, Target({"/health": OK}) as steady:
        specs = load(
            tmp_path,
            POLICY
            + low_value_operated("inventory", flaky.url("/health"))
            + node("steady", steady.url("/health"), capability="payments"),
        )

        def script(minute: int) -> None:
            flaky.route("/health", DOWN if minute % 25 >= 12 else OK)

        await probe_timeline(specs, store, FakeClock(), minutes=120, script=script)
    return specs


def review(store: CountingStore, specs: SpecSet, now: float) -> Advisor:
    advisor = Advisor(store, clock=FakeClock(now))
    advisor.review(specs, evaluate(specs, store.inner, now))
    return advisor


def replayed_steps(policy: DecisionPolicy, now: float) -> int:
    return len(replay_times(now, policy))


async def test_a_restart_goes_on_from_the_persisted_state_without_replaying(
    tmp_path: Path,
) -> None:
    db = tmp_path / "store.db"
    with SqliteStore(db) as opened:
        specs = await history(tmp_path, opened)
    policy = policy_of(specs)
    now = START + 120 * MINUTE
    with SqliteStore(db) as opened:
        first = CountingStore(opened)
        before = review(first, specs, now)  # nothing persisted yet: replays
    steps = replayed_steps(policy, now)
    assert steps > 5
    assert first.calls["drill_summaries"] == 2 * steps  # two nodes, each step
    flagged = before.report.review("inventory").state if before.report else None
    assert flagged is not None
    assert flagged.recommendation == "review: orchestrate"

    later = now + 5 * MINUTE
    with SqliteStore(db) as reopened:  # the agent restarted
        second = CountingStore(reopened)
        after = review(second, specs, later)
    # one review of two nodes, no replay: each window read whole once (its final minutes and
    # its newest ones apart), the runs once
    assert second.calls == {"probe_sums": 8, "failure_runs": 2, "drill_summaries": 2}
    assert after.report is not None
    state = after.report.review("inventory").state
    # carried on, not rebuilt: in force since the same review as before the restart
    assert (state.recommendation, state.since) == (flagged.recommendation, flagged.since)


async def test_a_state_of_another_policy_or_too_old_is_replayed(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    with SqliteStore(db) as opened:
        specs = await history(tmp_path, opened)
    now = START + 120 * MINUTE
    with SqliteStore(db) as opened:
        review(CountingStore(opened), specs, now)
        changed = load_with(tmp_path, specs, "sustain: 30m", "sustain: 40m")
        counted = CountingStore(opened)
        review(counted, changed, now + 5 * MINUTE)
        assert counted.calls["drill_summaries"] == 2 * replayed_steps(
            policy_of(changed), now + 5 * MINUTE
        )
        # the state saved under the changed policy, read an hour later (more than the 45
        # minutes a replay covers): stale, replayed
        late = now + 60 * MINUTE
        counted = CountingStore(opened)
        review(counted, changed, late)
        assert counted.calls["drill_summaries"] == 2 * replayed_steps(policy_of(changed), late)
        # and a restart right after that goes on from it
        counted = CountingStore(opened)
        review(counted, changed, late + 60)
        assert counted.calls["drill_summaries"] == 2


def load_with(tmp_path: Path, specs: SpecSet, old: str, new: str) -> SpecSet:
    text = (tmp_path / "specs.yaml").read_text(encoding="utf-8")
    assert old in text
    directory = tmp_path / "changed"
    directory.mkdir()
    return load(directory, text.replace(old, new))


async def test_a_replay_skips_the_steps_whose_windows_hold_no_data(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    with SqliteStore(db) as opened:
        specs = await history(tmp_path, opened)
    with SqliteStore(tmp_path / "empty.db") as empty:
        counted = CountingStore(empty)
        review(counted, specs, START + 120 * MINUTE)
    assert replayed_steps(policy_of(specs), START + 120 * MINUTE) > 1
    assert counted.calls["drill_summaries"] == 2  # the review at now only, for both nodes


async def test_a_replay_stops_between_steps_when_told(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    with SqliteStore(db) as opened:
        specs = await history(tmp_path, opened)
    now = START + 120 * MINUTE
    with SqliteStore(db) as opened:
        counted = CountingStore(opened)
        advisor = Advisor(counted, clock=FakeClock(now))

        def stopped() -> bool:
            return counted.calls["drill_summaries"] >= 4  # after two steps (two nodes each)

        with pytest.raises(ReplayStopped):
            advisor.review(specs, evaluate(specs, opened, now), stopped)
        assert advisor.report is None
        assert opened.advisor_state() is None  # nothing saved from a half replay
    assert counted.calls["drill_summaries"] == 4  # no third step began


async def test_a_replay_stops_within_a_step_before_its_evaluation_reads(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    with SqliteStore(db) as opened:
        specs = await history(tmp_path, opened)
    now = START + 120 * MINUTE
    with SqliteStore(db) as opened:
        counted = CountingStore(opened)
        advisor = Advisor(counted, clock=FakeClock(now))
        asked: list[int] = []

        def stopped() -> bool:  # not between the first and second step, yes within the second
            asked.append(counted.calls["drill_summaries"])
            return asked.count(2) > 1

        with pytest.raises(ReplayStopped):
            advisor.review(specs, evaluate(specs, opened, now), stopped)
    assert counted.calls["drill_summaries"] == 2  # the second step's review never began


async def test_a_paced_replay_rests_after_each_step_in_the_past(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    with SqliteStore(db) as opened:
        specs = await history(tmp_path, opened)
    now = START + 120 * MINUTE
    with SqliteStore(db) as opened:
        counted = CountingStore(opened)
        advisor = Advisor(counted, clock=FakeClock(now))
        rests: list[float] = []
        advisor.review(specs, evaluate(specs, opened, now), rest=rests.append)
    steps = counted.calls["drill_summaries"] // 2  # reviews of two nodes
    assert steps > 2
    assert len(rests) == steps - 1  # not after the review at now: nothing is left to do
    assert all(seconds > 0 for seconds in rests)


async def test_a_replay_says_when_it_begins_and_ends(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "store.db"
    with SqliteStore(db) as opened:
        specs = await history(tmp_path, opened)
    now = START + 120 * MINUTE
    steps = len(replay_times(now, policy_of(specs)))
    with SqliteStore(db) as opened, caplog.at_level("INFO", logger="agent.runtime.advice"):
        advisor = Advisor(opened, clock=FakeClock(now))
        advisor.review(specs, evaluate(specs, opened, now))
        advisor.review(specs, evaluate(specs, opened, now))  # the state is there: no replay
    lines = [r.getMessage() for r in caplog.records if r.name == "agent.runtime.advice"]
    assert len(lines) == 2, lines
    assert lines[0].startswith(
        f"advisor: no saved state for this decision policy; replaying {steps} "
    )
    assert lines[1].startswith(f"advisor: replayed {steps} reviews in ")
