"""Regular expressions matched against text from outside (response bodies), in linear time.

Python's ``re`` backtracks: a pattern such as ``(a+)+\\}`` takes exponential time on a run of
``a``s, and a body comes from a target the agent does not control. ``body_regex`` is therefore
compiled with RE2, whose matching time grows linearly with the text whatever the pattern.

RE2 accepts the syntax of Python's ``re`` except what needs backtracking: backreferences
(``\\1``, ``(?P=name)``), lookarounds (``(?=``, ``(?!``, ``(?<=``, ``(?<!``), possessive and
atomic groups, and ``\\Z`` (write ``\\z``). Its ``\\w``, ``\\d``, ``\\s`` and ``\\b`` are ASCII;
``\\pL``, ``\\p{Greek}`` and ``[[:alpha:]]`` match beyond ASCII. Repetition counts go up to 1000.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import re2

MAX_PATTERN_MEMORY = 8 << 20  # bytes RE2 may use for one compiled pattern (its default)


def _options() -> Any:
    options = re2.Options()
    options.log_errors = False  # a bad pattern is reported once, as a spec error, not on stderr
    options.max_mem = MAX_PATTERN_MEMORY
    return options


@dataclass(frozen=True, slots=True)
class TextPattern:
    """A compiled RE2 pattern; equal to another when their pattern texts are equal."""

    pattern: str
    _compiled: Any = field(compare=False, repr=False)

    @classmethod
    def compile(cls, pattern: str) -> TextPattern:
        """Compile ``pattern``; ValueError saying why RE2 cannot run it otherwise."""
        try:
            compiled = re2.compile(pattern, _options())
        except re2.error as exc:
            reason = exc.args[0] if exc.args else ""
            if isinstance(reason, bytes):
                reason = reason.decode("utf-8", "replace")
            raise ValueError(
                f"invalid regular expression (RE2 syntax: no backreferences or lookarounds): "
                f"{reason}"
            ) from None
        return cls(pattern, compiled)

    def search(self, text: str) -> bool:
        """True when the pattern matches somewhere in ``text``."""
        return self._compiled.search(text) is not None
