"""The one error tree of slo-agent.

User mistakes (a bad spec, a bad flag) raise a subclass of :class:`UserError`; the CLI prints
its message and exits 1 without a traceback. A failing probe target is never an exception: it is
a :class:`agent.probes.result.ProbeResult` with ``outcome=FAILURE``.
"""

from __future__ import annotations

from dataclasses import dataclass


class SloAgentError(Exception):
    """Base of every error slo-agent raises on purpose."""


class UserError(SloAgentError):
    """Something the user can fix: shown as a message, never as a traceback."""


@dataclass(frozen=True, slots=True)
class SpecProblem:
    """One problem in one spec document: ``file: document N: field.path: message``."""

    file: str
    document: int  # 1-based; 0 when the problem concerns the whole file
    path: str  # dotted field path, "" when the problem concerns the whole document
    message: str

    def __str__(self) -> str:
        return ": ".join([*self._where(), self.message])

    def as_warning(self) -> str:
        """``file: document N: field.path: warning: message``, for what loads but is likely
        not what was meant."""
        return ": ".join([*self._where(), "warning", self.message])

    def _where(self) -> list[str]:
        where = [self.file]
        if self.document:
            where.append(f"document {self.document}")
        if self.path:
            where.append(self.path)
        return where


class SpecError(UserError):
    """A spec set that cannot be loaded; carries every problem found, not just the first, and
    the warnings found alongside them (not part of the message)."""

    def __init__(self, problems: list[SpecProblem], warnings: tuple[SpecProblem, ...] = ()) -> None:
        self.problems = problems
        self.warnings = warnings
        super().__init__("\n".join(str(p) for p in problems))


class StoreError(UserError):
    """The store cannot be opened or written (disk full, wrong path, foreign file, held by
    another agent): the message names the store path and what is wrong with it."""
