"""Where specs come from, and how the agent notices that they changed."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from agent.model import SpecSet
from agent.spec.loader import load_specs, spec_paths

log = logging.getLogger(__name__)

Fingerprint = tuple[tuple[str, int, int], ...]


class SpecSource:
    """The spec paths given on the command line (or their defaults), re-resolved on each load so
    files added to a spec directory are picked up."""

    def __init__(self, args: Sequence[str], env: Mapping[str, str]) -> None:
        self.args = tuple(args)
        self.env = dict(env)

    def paths(self) -> list[Path]:
        return spec_paths(self.args, self.env)

    def load(self) -> SpecSet:
        """Load and validate; raises ``SpecError`` listing every problem. Warnings (specs that
        load but are likely not what was meant) are logged, and loading goes on."""
        specs = load_specs(self.paths(), self.env)
        for warning in specs.warnings:
            log.warning("%s", warning.as_warning())
        return specs

    def fingerprint(self) -> Fingerprint:
        """(path, mtime, size) of every spec file; changes when any file is edited, added or
        removed — including Kubernetes ConfigMap updates, which swap a symlink."""
        try:
            paths = self.paths()
        except Exception:  # a vanished directory is a change too; load() will report it
            return ()
        entries = []
        for path in paths:
            try:
                st = os.stat(path)
            except OSError:
                continue
            entries.append((str(path), st.st_mtime_ns, st.st_size))
        return tuple(entries)
