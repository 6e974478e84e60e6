"""A small Dockerfile reader for the image tests: stages and their instructions."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Instruction:
    keyword: str  # upper case: FROM, RUN, COPY, ...
    args: str  # the rest of the (joined) line
    line: int  # 1-based line where it starts

    def exec_form(self) -> list[str] | None:
        """The JSON array form (``["a", "b"]``) as a list, or None for the shell form."""
        text = self.args.strip()
        if not text.startswith("["):
            return None
        value = json.loads(text)
        if not isinstance(value, list) or not all(isinstance(part, str) for part in value):
            raise ValueError(f"line {self.line}: {self.keyword} is not a JSON array of strings")
        return value

    def flags(self) -> tuple[dict[str, str], str]:
        """Leading ``--name=value`` options and the rest, e.g. of COPY or HEALTHCHECK."""
        rest = self.args.strip()
        flags: dict[str, str] = {}
        while rest.startswith("--"):
            word, _, rest = rest.partition(" ")
            name, _, value = word[2:].partition("=")
            flags[name] = value
            rest = rest.lstrip()
        return flags, rest


@dataclass(frozen=True, slots=True)
class Stage:
    base: str
    name: str | None
    instructions: tuple[Instruction, ...]

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]

    def last(self, keyword: str) -> Instruction | None:
        found = self.all(keyword)
        return found[-1] if found else None


def instructions(text: str) -> list[Instruction]:
    """Instructions with ``\\`` continuations joined and comment lines dropped."""
    out: list[Instruction] = []
    parts: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not parts:
            start = number
        if line.endswith("\\"):
            parts.append(line[:-1].strip())
            continue
        parts.append(line)
        joined = " ".join(parts)
        parts = []
        keyword, _, args = joined.partition(" ")
        out.append(Instruction(keyword.upper(), args.strip(), start))
    if parts:
        raise ValueError(f"line {start}: continuation runs past the end of the file")
    return out


def stages(text: str) -> list[Stage]:
    result: list[Stage] = []
    current: list[Instruction] = []
    base = ""
    name: str | None = None
    for instruction in instructions(text):
        if instruction.keyword == "FROM":
            if base:
                result.append(Stage(base, name, tuple(current)))
            words = shlex.split(instruction.args)
            words = [w for w in words if not w.startswith("--platform")]
            base = words[0]
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            current = []
        elif not base and instruction.keyword != "ARG":
            raise ValueError(f"line {instruction.line}: {instruction.keyword} before FROM")
        else:
            current.append(instruction)
    if base:
        result.append(Stage(base, name, tuple(current)))
    return result


def env_of(stage: Stage) -> dict[str, str]:
    """The stage's ``ENV key=value ...`` settings (later ones win)."""
    env: dict[str, str] = {}
    for instruction in stage.all("ENV"):
        for word in shlex.split(instruction.args):
            key, sep, value = word.partition("=")
            if not sep:
                raise ValueError(f"line {instruction.line}: use ENV key=value")
            env[key] = value
    return env
