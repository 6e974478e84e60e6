"""Checks across documents: unique names, and references from one document to another.

Runs on every document of a load, valid or not, so that one broken document does not make the
references to it look wrong: a name is known as soon as its document names it validly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from agent.advisor.policy import DecisionPolicy
from agent.errors import SpecProblem
from agent.model import AlertWindows, Journey, JourneyStep, Node
from agent.spec.problems import did_you_mean

DEFAULT_WINDOWS = "default"


@dataclass(frozen=True, slots=True)
class Entry:
    """One document of a load, as far as it could be read."""

    file: str
    document: int
    kind: str
    name: str | None  # metadata.name, when it is a valid name
    value: Node | AlertWindows | Journey | DecisionPolicy | None  # None: it has problems


def cross_check(entries: Sequence[Entry], complete: bool) -> list[SpecProblem]:
    """Problems between documents. ``complete`` is False when some file could not be read:
    references to unknown names are then not reported (they may be in the unread part)."""
    problems = _duplicates(entries) + _one_policy(entries)
    node_entries = {e.name: e for e in reversed(entries) if e.kind == "Node" and e.name}
    window_names = {e.name for e in entries if e.kind == "AlertWindows" and e.name}
    window_names.add(DEFAULT_WINDOWS)
    for entry in entries:
        if entry.kind == "Journey" and entry.name in node_entries:
            node_entry = node_entries[entry.name]
            message = (
                f'Journey "{entry.name}" has the name of the Node defined in {node_entry.file} '
                f"(document {node_entry.document}); journeys and nodes share the node label of "
                "every metric, so their names must differ"
            )
            problems.append(_at(entry, "metadata.name", message))
        if isinstance(entry.value, Node | Journey):
            if isinstance(entry.value, Node):
                problems += _fallbacks(entry, entry.value, node_entries, complete)
            else:
                problems += _journey_steps(entry, entry.value, node_entries, complete)
            windows = entry.value.alerting.windows
            if complete and windows not in window_names:
                known = sorted(window_names)
                hint = did_you_mean(windows, known)
                message = f'unknown AlertWindows "{windows}"{hint}; defined: {", ".join(known)}'
                problems.append(_at(entry, "spec.alerting.windows", message))
    return problems


def _at(entry: Entry, path: str, message: str) -> SpecProblem:
    return SpecProblem(entry.file, entry.document, path, message)


def _duplicates(entries: Sequence[Entry]) -> list[SpecProblem]:
    first: dict[tuple[str, str], Entry] = {}
    problems: list[SpecProblem] = []
    for entry in entries:
        if entry.name is None:
            continue
        key = (entry.kind, entry.name)
        if key in first:
            where = first[key]
            message = (
                f'{entry.kind} "{entry.name}" is already defined in '
                f"{where.file} (document {where.document})"
            )
            problems.append(_at(entry, "metadata.name", message))
        else:
            first[key] = entry
    return problems


def _one_policy(entries: Sequence[Entry]) -> list[SpecProblem]:
    """At most one DecisionPolicy is in force: every one after the first is a problem."""
    policies = [entry for entry in entries if entry.kind == "DecisionPolicy"]
    if len(policies) < 2:
        return []
    first = policies[0]
    message = (
        f"only one DecisionPolicy may be in force; another is defined in {first.file} "
        f"(document {first.document})"
    )
    return [
        _at(entry, "metadata.name", message)
        for entry in policies[1:]
        if (entry.kind, entry.name) != (first.kind, first.name)  # duplicates say so already
    ]


def _alternatives_hint(node: Node, nodes: dict[str, Entry]) -> str:
    """What a fallback of ``node`` could name instead: the other nodes of its capability."""
    alternatives = sorted(
        name
        for name, other in nodes.items()
        if isinstance(other.value, Node)
        and other.value.capability == node.capability
        and name != node.name
    )
    if alternatives:
        return f'; nodes of capability "{node.capability}": {", ".join(alternatives)}'
    return f'; no other node has capability "{node.capability}"'


def _fallbacks(
    entry: Entry, node: Node, nodes: dict[str, Entry], complete: bool
) -> list[SpecProblem]:
    problems: list[SpecProblem] = []
    for index, fallback in enumerate(node.fallbacks):
        path = f"spec.fallbacks[{index}].node"
        target = nodes.get(fallback.node)
        if fallback.node == node.name:
            problems.append(_at(entry, path, "a node cannot be its own fallback"))
        elif target is None:
            if complete:
                hint = did_you_mean(fallback.node, sorted(set(nodes) - {node.name}))
                candidates = _alternatives_hint(node, nodes)  # scans every node: only here
                message = f'unknown node "{fallback.node}"{hint}{candidates}'
                problems.append(_at(entry, path, message))
        elif isinstance(target.value, Node) and target.value.capability != node.capability:
            candidates = _alternatives_hint(node, nodes)
            message = (
                f'node "{fallback.node}" has capability "{target.value.capability}", '
                f'not "{node.capability}": a fallback must be an alternative{candidates}'
            )
            problems.append(_at(entry, path, message))
    return problems


def _journey_steps(
    entry: Entry, journey: Journey, nodes: dict[str, Entry], complete: bool
) -> list[SpecProblem]:
    """Every step goes to a known node; a step's fallback is an alternative to that node."""
    problems: list[SpecProblem] = []
    for index, step in enumerate(journey.steps):
        path = f"spec.steps[{index}]"
        target = nodes.get(step.node)
        if target is None:
            if complete:
                hint = did_you_mean(step.node, sorted(nodes))
                message = (
                    f'unknown node "{step.node}"{hint}; a step goes to a Node defined in any '
                    "spec file"
                )
                problems.append(_at(entry, f"{path}.node", message))
        elif step.fallback is not None and isinstance(target.value, Node):
            problems += _step_fallback(
                entry, f"{path}.fallback.node", step, target.value, nodes, complete
            )
    return problems


def _step_fallback(
    entry: Entry,
    path: str,
    step: JourneyStep,
    node: Node,
    nodes: dict[str, Entry],
    complete: bool,
) -> list[SpecProblem]:
    assert step.fallback is not None
    fallback = step.fallback.node
    candidates = _alternatives_hint(node, nodes)
    target = nodes.get(fallback)
    if fallback == node.name:
        return [
            _at(entry, path, f'the step already goes to "{fallback}": a fallback is another node')
        ]
    if target is None:
        if not complete:
            return []
        hint = did_you_mean(fallback, sorted(set(nodes) - {node.name}))
        return [_at(entry, path, f'unknown node "{fallback}"{hint}{candidates}')]
    if isinstance(target.value, Node) and target.value.capability != node.capability:
        message = (
            f'node "{fallback}" has capability "{target.value.capability}", not '
            f'"{node.capability}" like the step\'s node "{node.name}": a fallback must be an '
            f"alternative{candidates}"
        )
        return [_at(entry, path, message)]
    return []
