"""Checks across documents: unique names, and references from one document to another.

Runs on every document of a load, valid or not, so that one broken document does not make the
references to it look wrong: a name is known as soon as its document names it validly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from agent.errors import SpecProblem
from agent.model import AlertWindows, Node
from agent.spec.problems import did_you_mean

DEFAULT_WINDOWS = "default"


@dataclass(frozen=True, slots=True)
class Entry:
    """One document of a load, as far as it could be read."""

    file: str
    document: int
    kind: str
    name: str | None  # metadata.name, when it is a valid name
    value: Node | AlertWindows | None  # None when the document has problems


def cross_check(entries: Sequence[Entry], complete: bool) -> list[SpecProblem]:
    """Problems between documents. ``complete`` is False when some file could not be read:
    references to unknown names are then not reported (they may be in the unread part)."""
    problems = _duplicates(entries)
    node_entries = {e.name: e for e in reversed(entries) if e.kind == "Node" and e.name}
    window_names = {e.name for e in entries if e.kind == "AlertWindows" and e.name}
    window_names.add(DEFAULT_WINDOWS)
    for entry in entries:
        if isinstance(entry.value, Node):
            node = entry.value
            problems += _fallbacks(entry, node, node_entries, complete)
            windows = node.alerting.windows
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


def _fallbacks(
    entry: Entry, node: Node, nodes: dict[str, Entry], complete: bool
) -> list[SpecProblem]:
    problems: list[SpecProblem] = []
    alternatives = sorted(
        name
        for name, other in nodes.items()
        if isinstance(other.value, Node)
        and other.value.capability == node.capability
        and name != node.name
    )
    if alternatives:
        candidates = f'; nodes of capability "{node.capability}": {", ".join(alternatives)}'
    else:
        candidates = f'; no other node has capability "{node.capability}"'
    for index, fallback in enumerate(node.fallbacks):
        path = f"spec.fallbacks[{index}].node"
        target = nodes.get(fallback.node)
        if fallback.node == node.name:
            problems.append(_at(entry, path, "a node cannot be its own fallback"))
        elif target is None:
            if complete:
                hint = did_you_mean(fallback.node, sorted(set(nodes) - {node.name}))
                message = f'unknown node "{fallback.node}"{hint}{candidates}'
                problems.append(_at(entry, path, message))
        elif isinstance(target.value, Node) and target.value.capability != node.capability:
            message = (
                f'node "{fallback.node}" has capability "{target.value.capability}", '
                f'not "{node.capability}": a fallback must be an alternative{candidates}'
            )
            problems.append(_at(entry, path, message))
    return problems
