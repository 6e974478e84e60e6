"""``${VAR}`` references in header values, expanded from the environment at load time.

``${NAME}`` is replaced by the variable's value; ``$${`` stands for a literal ``${``. A ``$`` not
followed by ``{`` is kept as it is. Values may be secrets: nothing here puts a value into an
error message; errors name only the variable.

The run values (:data:`RUN_VALUES`: ``${run.uuid}``, ``${run.time}``) are no variables: they
are left as written at load time and filled in by the prober for each run
(:mod:`agent.probes.run_values`).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping
from typing import TYPE_CHECKING

from agent.spec.problems import Loc
from agent.spec.v1_transport import Transport

if TYPE_CHECKING:
    from agent.model import HttpAuth

# "$" + optional second "$" (the escape) + "{" + optional "NAME}" (a run value: "run.NAME}")
_REFERENCE = re.compile(r"\$(\$?)\{(?:([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)\})?")

RUN_VALUES = ("run.uuid", "run.time")
"""Filled in per run: a fresh UUID (e.g. an idempotency key) and the run's start (RFC 3339)."""

TEMPLATE_HELP = 'write ${NAME} for an environment variable, $${ for a literal "${"'


def template_error(template: str) -> str | None:
    """Why ``template`` is not a valid header template, or None when it is."""
    for match in _REFERENCE.finditer(template):
        escaped, name = match.groups()
        if not escaped and name is None:
            return f'"${{" must be followed by a variable name and "}}" ({TEMPLATE_HELP})'
        if not escaped and "." in name and name not in RUN_VALUES:
            run_values = ", ".join(f"${{{value}}}" for value in RUN_VALUES)
            return f"unknown run value ${{{name}}} (run values: {run_values})"
    return None


_RUN_REFERENCE = re.compile(r"(?<!\$)\$\{(run\.[^}\s]*)\}")


def run_value_error(text: str) -> str | None:
    """Why ``text`` (a URL or a body, where only run values are filled in) refers to a run value
    that does not exist (``${run.uid}``), or None."""
    for name in _RUN_REFERENCE.findall(text):
        if name not in RUN_VALUES:
            run_values = ", ".join(f"${{{value}}}" for value in RUN_VALUES)
            return f"unknown run value ${{{name}}} (run values: {run_values})"
    return None


def referenced(template: str) -> list[str]:
    """The names of the variables ``template`` refers to, in order of appearance (run values
    are not variables and are left out)."""
    return [
        name
        for escaped, name in _REFERENCE.findall(template)
        if not escaped and name and name not in RUN_VALUES
    ]


def expand(template: str, env: Mapping[str, str]) -> str:
    """``template`` with every ``${NAME}`` replaced; KeyError(NAME) when a variable is unset."""

    def replace(match: re.Match[str]) -> str:
        escaped, name = match.groups()
        if escaped:
            return "${" + (f"{name}}}" if name else "")
        if name is None:
            raise ValueError(template_error(template))
        if name in RUN_VALUES and name not in env:
            return match.group(0)  # filled in per run by the prober
        return env[name]

    return _REFERENCE.sub(replace, template)


def expand_except(template: str, env: Mapping[str, str], keep: Collection[str]) -> str:
    """``template`` with ``${NAME}`` replaced for every name not in ``keep``, still a template.

    References to names in ``keep`` and ``$${`` escapes stay as written, and every ``${`` in a
    replaced value is escaped, so that a later :func:`expand` of the result fills in the kept
    names and yields the values unchanged. KeyError(NAME) when a variable is unset.
    """

    def replace(match: re.Match[str]) -> str:
        escaped, name = match.groups()
        if escaped or name is None or name in keep or name in RUN_VALUES:
            return match.group(0)
        return env[name].replace("${", "$${")

    return _REFERENCE.sub(replace, template)


class HeaderExpander:
    """Expands the headers of one document, collecting every missing variable (as a problem at
    the header's location) instead of stopping at the first."""

    def __init__(
        self,
        env: Mapping[str, str],
        transport: Transport | None = None,
        auth: HttpAuth | None = None,
    ) -> None:
        self.env = env
        self.auth = auth  # the document's default auth for HTTP checks (a node's spec.auth)
        self.missing: list[tuple[Loc, str]] = []
        # the document's node-wide ``tls`` and ``proxy``, for the converters of its requests
        self.transport = transport or Transport()

    def value(self, loc: Loc, template: str) -> str:
        """One secret field (found at ``loc``) expanded; "" when a variable is missing."""
        unset = [var for var in dict.fromkeys(referenced(template)) if var not in self.env]
        for var in unset:
            self.missing.append((loc, f"environment variable {var} is not set"))
        return "" if unset else expand(template, self.env)

    def headers(
        self, loc: Loc, headers: Mapping[str, str], field: str = "headers"
    ) -> dict[str, str]:
        """``headers`` (found at ``loc`` + ``field``, e.g. a gRPC probe's ``metadata``)
        expanded; headers with a missing variable are left out."""
        expanded: dict[str, str] = {}
        for name, template in headers.items():
            unset = [var for var in dict.fromkeys(referenced(template)) if var not in self.env]
            for var in unset:
                what = "header" if field == "headers" else field
                message = f"environment variable {var} is not set (needed by {what} {name})"
                self.missing.append(((*loc, field, name), message))
            if not unset:
                expanded[name] = expand(template, self.env)
        return expanded


class Placeholders(Mapping[str, str]):
    """``env`` with a stand-in value (``<unset NAME>``) for every variable it lacks: the
    environment of the verbs that never send a request, so that a spec loads without its
    secrets. Iterates over the variables that are set only."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env

    def __getitem__(self, name: str) -> str:
        value = self._env.get(name)
        return f"<unset {name}>" if value is None else value

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str)

    def __iter__(self) -> Iterator[str]:
        return iter(self._env)

    def __len__(self) -> int:
        return len(self._env)
