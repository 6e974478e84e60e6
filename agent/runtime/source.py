"""Where specs come from, and how the agent notices that they changed."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from agent.model import SpecSet
from agent.spec.files import UnreadableSpec, read_spec_bytes
from agent.spec.loader import load_specs, spec_paths

log = logging.getLogger(__name__)

Fingerprint = tuple["FileState", ...]


class SpecSource:
    """The spec paths given on the command line (or their defaults), re-resolved on each load so
    files added to a spec directory are picked up."""

    def __init__(
        self, args: Sequence[str], env: Mapping[str, str], *, secrets_required: bool = True
    ) -> None:
        """``secrets_required=False``: an unset ``${VAR}`` is a warning, not an error (for
        the verbs that send no request; see :func:`agent.spec.loader.load_specs`)."""
        self.args = tuple(args)
        self.env = dict(env)
        self.secrets_required = secrets_required

    def paths(self) -> list[Path]:
        return spec_paths(self.args, self.env)

    def load(self) -> SpecSet:
        """Load and validate; raises ``SpecError`` listing every problem. Warnings (specs that
        load but are likely not what was meant) are logged, and loading goes on."""
        specs = load_specs(self.paths(), self.env, secrets_required=self.secrets_required)
        for warning in specs.warnings:
            log.warning("%s", warning.as_warning())
        return specs

    def fingerprint(self) -> Fingerprint:
        """(path, SHA-256 of the content, size) of every spec file: changes when any file's
        content changes, or a file is added or removed, whatever its mtime says (``cp -p``
        and ``rsync -t`` keep mtimes; Kubernetes ConfigMap updates swap a symlink). A file
        that cannot be read counts with why, so it is reloaded (and reported) when that
        changes."""
        try:
            paths = self.paths()
        except Exception:  # a vanished directory is a change too; load() will report it
            return ()
        entries = []
        for path in paths:
            try:
                content = read_spec_bytes(path)
            except UnreadableSpec as error:
                entries.append(FileState(str(path), f"unreadable: {error}", -1))
                continue
            entries.append(FileState(str(path), hashlib.sha256(content).hexdigest(), len(content)))
        return tuple(entries)


@dataclass(frozen=True, slots=True)
class FileState:
    path: str
    digest: str  # SHA-256 of the content, or "unreadable: why"
    size: int  # bytes; -1 when unreadable


def emptied(before: Fingerprint, after: Fingerprint) -> list[str]:
    """The files that had content in ``before`` and are empty (0 bytes) in ``after``: most
    likely caught half-written or truncated by mistake, not meant to drop their nodes."""
    had = {state.path for state in before if state.size > 0}
    return [state.path for state in after if state.path in had and state.size == 0]
