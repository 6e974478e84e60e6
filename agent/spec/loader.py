"""Finding spec files and loading them into one validated :class:`agent.model.SpecSet`.

Loading collects every problem of every file before it fails, so one run of ``slo-agent
validate`` shows the user all there is to fix. Problems read ``file: document N: field.path:
message``; no traceback and no header value is ever part of one.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from agent.advisor.policy import DecisionPolicy
from agent.errors import SpecError, SpecProblem
from agent.model import AlertWindows, Journey, Node, SpecSet
from agent.spec import v1_kinds
from agent.spec.defaults import default_alert_windows
from agent.spec.documents import Document, parse_documents
from agent.spec.feasibility import feasibility_problems
from agent.spec.files import UnreadableSpec, read_spec_text
from agent.spec.kinds import Kind
from agent.spec.objectives import objective_warnings
from agent.spec.problems import describe, did_you_mean, translate
from agent.spec.references import DEFAULT_WINDOWS, Entry, cross_check
from agent.spec.scalars import NAME_PATTERN
from agent.spec.variables import Placeholders

SPECS_ENV = "SLO_AGENT_SPECS"
DEFAULT_SPECS_DIR = Path("slo_specs")
SPEC_SUFFIXES = (".yaml", ".yml")

# apiVersion -> kind -> how to read it
API_VERSIONS: dict[str, Mapping[str, Kind[Any, Node | AlertWindows | Journey | DecisionPolicy]]] = {
    v1_kinds.API_VERSION: v1_kinds.KINDS,
}


def spec_paths(args: Sequence[str], env: Mapping[str, str]) -> list[Path]:
    """The spec files to load: ``args``, else ``$SLO_AGENT_SPECS`` (os.pathsep-separated), else
    ``./slo_specs``. Directories are walked recursively for ``*.yaml``/``*.yml`` in sorted order,
    skipping names that start with "." (Kubernetes ConfigMap mounts keep copies there)."""
    if args:
        given, origin = [Path(arg) for arg in args], ""
    elif env.get(SPECS_ENV):
        parts = env[SPECS_ENV].split(os.pathsep)
        given, origin = [Path(part) for part in parts if part], f" (from ${SPECS_ENV})"
    else:
        given = [DEFAULT_SPECS_DIR]
        origin = f" (the default; give spec paths as arguments or set ${SPECS_ENV})"
    files: list[Path] = []
    seen: set[Path] = set()
    problems: list[SpecProblem] = []
    for path in given:
        if path.is_dir():
            found = _walk(path)
            if not found:
                message = (
                    f"no {' or '.join('*' + s for s in SPEC_SUFFIXES)} files in this directory"
                )
                problems.append(SpecProblem(str(path), 0, "", message + origin))
        elif path.exists():
            found = [path]
        else:
            problems.append(SpecProblem(str(path), 0, "", "no such file or directory" + origin))
            continue
        for file in found:
            key = file.resolve()
            if key not in seen:
                seen.add(key)
                files.append(file)
    if problems:
        raise SpecError(problems)
    return files


def _walk(directory: Path) -> list[Path]:
    found: list[Path] = []
    for root, dirs, names in os.walk(directory):
        dirs[:] = [name for name in dirs if not name.startswith(".")]
        found += [
            Path(root) / name
            for name in names
            if not name.startswith(".") and name.lower().endswith(SPEC_SUFFIXES)
        ]
    return sorted(found)


def load_specs(
    paths: Sequence[Path], env: Mapping[str, str], *, secrets_required: bool = True
) -> SpecSet:
    """Every document of ``paths``, validated and cross-checked; raise SpecError with every
    problem found. ``env`` supplies the ``${VAR}`` references of header values.

    ``secrets_required=False`` is for the verbs that never send a request (``validate``,
    ``rules``, ``report``, ``advise``): an unset variable is then a warning at its field, and
    the value a stand-in (:class:`~agent.spec.variables.Placeholders`)."""
    entries: list[Entry] = []
    problems: list[SpecProblem] = []
    unset: list[SpecProblem] = []
    complete = True
    for path in paths:
        label = str(path)
        try:
            text = read_spec_text(path)
        except UnreadableSpec as error:
            problems.append(SpecProblem(label, 0, "", str(error)))
            complete = False
            continue
        documents, fault = parse_documents(text)
        for document in documents:
            if document.data is None:
                continue
            entry, found = _load_document(label, document, env)
            if found and entry is not None and entry.value is None and not secrets_required:
                # what only the environment could tell: converts with stand-ins for the unset
                # variables, so every problem was one of them
                retried, _ = _load_document(label, document, Placeholders(env))
                if retried is not None and retried.value is not None:
                    entry, unset, found = retried, unset + found, []
            problems += found
            if entry is not None:
                entries.append(entry)
        if fault is not None:
            problems.append(SpecProblem(label, fault.document, fault.path, str(fault)))
            complete = False
    problems += cross_check(entries, complete)
    windows = _alert_windows(entries)
    problems += feasibility_problems(entries, windows)
    warnings = tuple(_in_order(unset + objective_warnings(entries), paths))
    if problems:
        raise SpecError(_in_order(problems, paths), warnings)
    return _spec_set(entries, paths, windows, warnings)


def _in_order(problems: list[SpecProblem], paths: Sequence[Path]) -> list[SpecProblem]:
    """By file in the order given, then by document (whole-file problems last)."""
    order = {str(path): index for index, path in enumerate(paths)}
    return sorted(problems, key=lambda p: (order.get(p.file, len(order)), p.document or 1 << 30))


def _alert_windows(entries: list[Entry]) -> dict[str, AlertWindows]:
    """The valid AlertWindows by name, with the built-in "default" unless a document of that
    name replaces it (an invalid one replaces it too: it is reported, not silently ignored)."""
    windows: dict[str, AlertWindows] = {}
    if not any(e.kind == "AlertWindows" and e.name == DEFAULT_WINDOWS for e in entries):
        windows[DEFAULT_WINDOWS] = default_alert_windows()
    for entry in entries:
        if isinstance(entry.value, AlertWindows):
            windows[entry.value.name] = entry.value
    return windows


def _spec_set(
    entries: list[Entry],
    paths: Sequence[Path],
    windows: dict[str, AlertWindows],
    warnings: tuple[SpecProblem, ...],
) -> SpecSet:
    nodes = [entry.value for entry in entries if isinstance(entry.value, Node)]
    journeys = [entry.value for entry in entries if isinstance(entry.value, Journey)]
    policies = [entry.value for entry in entries if isinstance(entry.value, DecisionPolicy)]
    return SpecSet(
        nodes=tuple(sorted(nodes, key=lambda node: node.name)),
        alert_windows=dict(sorted(windows.items())),
        sources=tuple(str(path) for path in paths),
        journeys=tuple(sorted(journeys, key=lambda journey: journey.name)),
        decision_policy=policies[0] if policies else None,  # cross_check allows one at most
        warnings=warnings,
    )


def _load_document(
    file: str, document: Document, env: Mapping[str, str]
) -> tuple[Entry | None, list[SpecProblem]]:
    data = document.data

    def problem(path: str, message: str) -> SpecProblem:
        return SpecProblem(file, document.number, path, message)

    if not isinstance(data, dict):
        message = (
            f"must be a mapping with apiVersion, kind, metadata and spec, got {describe(data)}"
        )
        return None, [problem("", message)]
    version, kind_name, name = data.get("apiVersion"), data.get("kind"), _raw_name(data)
    all_kinds = sorted({kind for kinds in API_VERSIONS.values() for kind in kinds})
    recognised = kind_name if isinstance(kind_name, str) and kind_name in all_kinds else None
    partial = None if recognised is None else Entry(file, document.number, recognised, name, None)
    supported = ", ".join(API_VERSIONS)
    if version is None:
        return partial, [problem("apiVersion", f"is required; supported: {supported}")]
    if not isinstance(version, str):
        message = f"must be a string such as {v1_kinds.API_VERSION}, got {describe(version)}"
        return partial, [problem("apiVersion", message)]
    if version not in API_VERSIONS:
        hint = did_you_mean(version, list(API_VERSIONS))
        message = f"unknown apiVersion {describe(version)}{hint}; supported: {supported}"
        return partial, [problem("apiVersion", message)]
    kinds = API_VERSIONS[version]
    known = ", ".join(sorted(kinds))
    if kind_name is None:
        return None, [problem("kind", f"is required; {version} has: {known}")]
    if not isinstance(kind_name, str):
        message = f"must be a string, one of {known}; got {describe(kind_name)}"
        return None, [problem("kind", message)]
    if kind_name not in kinds:
        hint = did_you_mean(kind_name, sorted(kinds))
        message = f"unknown kind {describe(kind_name)}{hint}; {version} has: {known}"
        return None, [problem("kind", message)]
    kind = kinds[kind_name]
    try:
        value = kind.convert(kind.document.model_validate(data), env)
    except ValidationError as error:
        found = [problem(path, message) for path, message in translate(error, kind.document)]
        return Entry(file, document.number, kind_name, name, None), found
    return Entry(file, document.number, kind_name, name, value), []


def _raw_name(data: dict[Any, Any]) -> str | None:
    metadata = data.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    return name if isinstance(name, str) and re.fullmatch(NAME_PATTERN, name) else None
