"""``slo-agent validate PATH...``: load the specs and say what is wrong, or what was found.

Errors make the specs unusable (exit 1). An unset ``${VAR}`` is a warning here: validating
needs no secrets (``run`` refuses to start without them). Warnings point at what loads but is
almost certainly not what was meant (an objective of 0.999 percent): they are printed and the
exit code stays 0, unless ``--strict`` makes them errors.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TextIO

from agent.errors import SpecError
from agent.model import SpecSet
from agent.spec.defaults import default_alert_windows
from agent.spec.loader import load_specs, spec_paths


def validate(
    paths: Sequence[str],
    env: Mapping[str, str],
    out: TextIO,
    err: TextIO,
    *,
    strict: bool = False,
) -> int:
    """Exit code 0 with a one-line summary on ``out``; 1 with every problem, one per line, on
    ``err``. Warnings go to ``err`` (``file: document N: field: warning: message``) before any
    problem; with ``strict`` they make the exit code 1. ``paths`` empty means
    ``$SLO_AGENT_SPECS``, then ``./slo_specs``."""
    try:
        files = spec_paths(paths, env)
        spec_set = load_specs(files, env, secrets_required=False)
    except SpecError as error:
        for warning in error.warnings:
            print(warning.as_warning(), file=err)
        for problem in error.problems:
            print(problem, file=err)
        return 1
    for warning in spec_set.warnings:
        print(warning.as_warning(), file=err)
    if strict and spec_set.warnings:
        count = _count(len(spec_set.warnings), "warning")
        print(f"{count}: errors under --strict", file=err)
        return 1
    print(summary(spec_set), file=out)
    return 0


def summary(spec_set: SpecSet) -> str:
    """``ok: 4 nodes, 9 probes, 11 SLOs, 1 alert window set from 3 files`` (journeys are
    counted when there are some; their SLOs count among the SLOs; warnings when there are
    some)."""
    built_in = default_alert_windows()
    window_sets = [w for w in spec_set.alert_windows.values() if w != built_in]
    slos = sum(len(node.slos) for node in spec_set.nodes)
    slos += sum(len(journey.slos) for journey in spec_set.journeys)
    counts = [
        _count(len(spec_set.nodes), "node"),
        _count(sum(len(node.probes) for node in spec_set.nodes), "probe"),
        _count(slos, "SLO"),
    ]
    if spec_set.journeys:
        counts.append(_count(len(spec_set.journeys), "journey"))
    counts.append(_count(len(window_sets), "alert window set"))
    text = f"ok: {', '.join(counts)} from {_count(len(spec_set.sources), 'file')}"
    if spec_set.warnings:
        text += f" ({_count(len(spec_set.warnings), 'warning')})"
    return text


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
