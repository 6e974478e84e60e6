"""``slo-agent rules PATH...``: Prometheus recording and alerting rules for the specs' SLOs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TextIO

from agent.runtime.source import SpecSource
from exporters.prometheus.rules import RuleFormat, render, rule_set


def rules(paths: Sequence[str], env: Mapping[str, str], fmt: RuleFormat, out: TextIO) -> int:
    """Write the rules of every SLO in the specs at ``paths`` to ``out`` in ``fmt``; exit code 0.

    ``paths`` empty means ``$SLO_AGENT_SPECS``, then ``./slo_specs``. Invalid specs raise
    ``SpecError`` (every problem, one per line) before anything is written.
    """
    specs = SpecSource(paths, env, secrets_required=False).load()
    out.write(render(rule_set(specs), fmt))
    return 0
