"""Hysteresis: a flag needs its signal sustained, and clears the same way."""

from __future__ import annotations

import pytest

from agent.advisor.hysteresis import KEEP, FlagState, step

SUSTAIN, CLEAR = 100.0, 50.0
OPERATE = "review: operate"


def run(signals: list[tuple[float, str, str | None]]) -> list[FlagState]:
    state, states = FlagState(), []
    for now, signal, target in signals:
        state = step(state, signal, target, now, sustain=SUSTAIN, clear=CLEAR)
        states.append(state)
    return states


@pytest.mark.parametrize(
    ("signals", "in_force"),
    [
        # nothing to flag
        ([(0, KEEP, None), (500, KEEP, None)], [KEEP, KEEP]),
        # a blip never flips it
        ([(0, OPERATE, None), (50, KEEP, None), (200, KEEP, None)], [KEEP, KEEP, KEEP]),
        # sustained for `sustain`: flagged at 100, not at 99
        ([(0, OPERATE, None), (99, OPERATE, None), (100, OPERATE, None)], [KEEP, KEEP, OPERATE]),
        # an interruption restarts the count
        (
            [(0, OPERATE, None), (60, KEEP, None), (70, OPERATE, None), (160, OPERATE, None)],
            [KEEP, KEEP, KEEP, KEEP],
        ),
        # clears only after `clear` without the signal
        (
            [
                (0, OPERATE, None),
                (100, OPERATE, None),
                (110, KEEP, None),
                (159, KEEP, None),
                (160, KEEP, None),
            ],
            [KEEP, OPERATE, OPERATE, OPERATE, KEEP],
        ),
        # a brief return of the signal while clearing restarts the clearing
        (
            [
                (0, OPERATE, None),
                (100, OPERATE, None),
                (110, KEEP, None),
                (150, OPERATE, None),
                (155, KEEP, None),
                (200, KEEP, None),
                (205, KEEP, None),
            ],
            [KEEP, OPERATE, OPERATE, OPERATE, OPERATE, OPERATE, KEEP],
        ),
    ],
)
def test_in_force_over_time(
    signals: list[tuple[float, str, str | None]], in_force: list[str]
) -> None:
    assert [s.recommendation for s in run(signals)] == in_force


def test_a_reroute_to_another_target_is_a_new_signal() -> None:
    states = run(
        [
            (0, "reroute", "a"),
            (100, "reroute", "a"),
            (150, "reroute", "b"),
            (249, "reroute", "b"),
            (250, "reroute", "b"),
        ]
    )
    assert [(s.recommendation, s.target) for s in states] == [
        (KEEP, None),
        ("reroute", "a"),
        ("reroute", "a"),
        ("reroute", "a"),
        ("reroute", "b"),
    ]


def test_state_says_what_is_pending_and_since_when() -> None:
    first, second, third = run([(0, OPERATE, None), (40, OPERATE, None), (100, OPERATE, None)])
    assert (first.candidate, first.candidate_since, first.flagged) == (OPERATE, 0, False)
    assert second == first
    assert (third.candidate, third.since, third.flagged) == (None, 100, True)


def test_zero_sustain_flags_at_once() -> None:
    state = step(FlagState(), OPERATE, None, 5.0, sustain=0, clear=0)
    assert (state.recommendation, state.since) == (OPERATE, 5.0)


def test_a_pending_flag_says_when_it_takes_effect() -> None:
    state = step(FlagState(), OPERATE, None, 1000.0, sustain=SUSTAIN, clear=CLEAR)

    pending = state.pending(SUSTAIN, CLEAR)

    assert pending is not None
    assert (pending.recommendation, pending.since, pending.takes_effect_at) == (OPERATE, 1000, 1100)
    assert pending.wait(1030.0) == 70
    assert pending.text(1030.0) == "pending: review: operate, takes effect in 1m10s"
    assert pending.text(1099.5) == "pending: review: operate, takes effect in 1s"
    assert pending.wait(1200.0) == 0


def test_a_pending_clear_waits_for_clear_and_a_reroute_names_its_target() -> None:
    flagged = FlagState(OPERATE, None, since=0.0)
    clearing = step(flagged, KEEP, None, 500.0, sustain=SUSTAIN, clear=CLEAR)
    rerouting = step(FlagState(), "reroute", "backup-pay", 0.0, sustain=130.0, clear=CLEAR)

    assert (pending := clearing.pending(SUSTAIN, CLEAR)) is not None
    assert pending.takes_effect_at == 550
    assert pending.text(500.0) == "pending: keep, takes effect in 50s"
    assert (pending := rerouting.pending(130.0, CLEAR)) is not None
    assert pending.text(0.0) == "pending: reroute to backup-pay, takes effect in 2m10s"


def test_nothing_is_pending_once_in_force_or_without_a_signal() -> None:
    assert FlagState().pending(SUSTAIN, CLEAR) is None
    [*_, in_force] = run([(0, OPERATE, None), (100, OPERATE, None)])
    assert in_force.flagged
    assert in_force.pending(SUSTAIN, CLEAR) is None
