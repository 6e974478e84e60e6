"""Spec version ``slo-agent/v1``, kind ``Journey``: a cross-partner path probed as one synthetic
transaction.

Builds on the models of :mod:`agent.spec.v1` (a step's ``http`` block is a probe's, with the same
expectations and defaults) and is registered in ``agent.spec.v1_kinds.KINDS``.

Captures
--------
A step may capture values from its JSON response (``capture: {cart: "$.id"}``); later steps use
them as ``${cart}`` in their URL, body and header values, filled in at run time. In header values
``${NAME}`` can also be an environment variable (expanded at load time, as for nodes): a name
that some step of the journey captures is the capture, any other name is read from the
environment. URLs and bodies have only captures. ``$${`` stands for a literal ``${`` everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from datetime import timedelta
from typing import Annotated, Literal

from pydantic import Field, PlainValidator, WithJsonSchema, model_validator

from agent import model
from agent.probe_kinds.http import HttpSpec, http_check
from agent.spec.problems import Loc, describe, spec_error, validation_error
from agent.spec.scalars import Duration, Interval, JsonPath, Name, ObjectivePercent, WindowSpec
from agent.spec.v1 import (
    AlertingSpec,
    Metadata,
    _duplicates,
    _Spec,
    _too_long,
)
from agent.spec.v1_convert import ratio
from agent.spec.variables import (
    HeaderExpander,
    expand_except,
    referenced,
    template_error,
)

DEFAULT_JOURNEY_INTERVAL = timedelta(minutes=1)
CAPTURE_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"


def _capture_name(value: object) -> str:
    if isinstance(value, str) and re.fullmatch(CAPTURE_NAME_PATTERN, value):
        return value
    raise spec_error(
        'must be a variable name: letters, digits and "_", not starting with a digit, '
        f"got {describe(value)}"
    )


CaptureName = Annotated[
    str,
    PlainValidator(_capture_name),
    WithJsonSchema({"type": "string", "pattern": CAPTURE_NAME_PATTERN}),
]


class StepFallbackSpec(_Spec):
    node: Name = Field(description="another Node of the same capability as the step's node")
    http: HttpSpec = Field(description="the request sent to the fallback node instead")


class StepSpec(_Spec):
    name: Name = Field(description="unique within the journey")
    node: Name = Field(description="the Node this request goes to")
    http: HttpSpec = Field(description="the request; ${capture} of earlier steps allowed")
    capture: dict[CaptureName, JsonPath] = Field(
        default_factory=dict,
        description="variable -> JSONPath into this step's JSON response; later ${variable}",
    )
    fallback: StepFallbackSpec | None = Field(
        None, description="where the step is retried when it fails"
    )


class JourneySloSpec(_Spec):
    name: Name
    objective: ObjectivePercent = Field(description="percent of good runs, e.g. 99.5")
    window: WindowSpec
    latency_under: Duration | None = Field(
        None, description="good also needs the whole run to finish faster than this"
    )
    min_events: int = Field(3, ge=1, description="fewer runs in the window means no data")


class JourneySpec(_Spec):
    interval: Interval | None = Field(None, description="time between two runs; default 1m")
    steps: list[StepSpec] = Field(min_length=1)
    slos: list[JourneySloSpec] = Field(default_factory=list)
    alerting: AlertingSpec = Field(default_factory=AlertingSpec)

    @model_validator(mode="after")
    def _consistent(self) -> JourneySpec:
        problems = _duplicates("steps", [step.name for step in self.steps], "step name")
        problems += _capture_problems(self.steps)
        problems += _duplicates("slos", [slo.name for slo in self.slos], "SLO name")
        every = self.interval or DEFAULT_JOURNEY_INTERVAL
        what = "the interval" if self.interval else "the default interval"
        for index, step in enumerate(self.steps):
            _too_long(("steps", index, "http", "timeout"), step.http.timeout, every, what)
            if step.fallback is not None:
                at = ("steps", index, "fallback", "http", "timeout")
                _too_long(at, step.fallback.http.timeout, every, what)
        if problems:
            raise validation_error("journey", problems)
        return self


def _capture_problems(steps: list[StepSpec]) -> list[tuple[Loc, str]]:
    """Duplicate captures, and captures used before (or without) being defined."""
    problems: list[tuple[Loc, str]] = []
    defined_by: dict[str, int] = {}  # variable -> index of the step capturing it
    for index, step in enumerate(steps):
        for name in step.capture:
            if name in defined_by:
                first = defined_by[name]
                message = (
                    f'"{name}" is already captured by step "{steps[first].name}" (steps[{first}])'
                )
                problems.append((("steps", index, "capture", name), message))
            else:
                defined_by[name] = index
    for index, step in enumerate(steps):
        requests: list[tuple[Loc, HttpSpec]] = [(("steps", index, "http"), step.http)]
        if step.fallback is not None:
            requests.append((("steps", index, "fallback", "http"), step.fallback.http))
        for loc, http in requests:
            problems += _request_problems(loc, http, index, steps, defined_by)
    return problems


def _request_problems(
    loc: Loc, http: HttpSpec, index: int, steps: list[StepSpec], defined_by: Mapping[str, int]
) -> list[tuple[Loc, str]]:
    problems: list[tuple[Loc, str]] = []
    known = sorted(name for name, at in defined_by.items() if at < index)
    texts: list[tuple[Loc, str, bool]] = [((*loc, "url"), http.url, True)]
    if http.body is not None:
        texts.append(((*loc, "body"), http.body, True))
    texts += [((*loc, "headers", name), value, False) for name, value in http.headers.items()]
    for at, text, captures_only in texts:
        if captures_only:
            bad_template = template_error(text)
            if bad_template is not None:
                problems.append((at, bad_template))
                continue
        for name in dict.fromkeys(referenced(text)):
            first = defined_by.get(name)
            if first is not None and first >= index:
                message = (
                    f'${{{name}}} is used before it is captured (by step "{steps[first].name}", '
                    f"steps[{first}]); a step can only use what earlier steps captured"
                )
                problems.append((at, message))
            elif first is None and captures_only:
                available = f"captures: {', '.join(known)}" if known else "nothing is captured"
                message = (
                    f"${{{name}}} is not captured by any earlier step ({available}); "
                    'write $${ for a literal "${"'
                )
                problems.append((at, message))
    return problems


class JourneyDocument(_Spec):
    """A user-facing path across operated and orchestrated nodes, probed as one transaction."""

    api_version: Literal["slo-agent/v1"] = Field(alias="apiVersion")
    kind: Literal["Journey"]
    metadata: Metadata
    spec: JourneySpec


# --- conversion into the model ------------------------------------------------------------


class _StepHeaders(HeaderExpander):
    """Expands environment variables in step headers, leaving the journey's captures in place
    for the runner (see the module docstring)."""

    def __init__(self, env: Mapping[str, str], captures: Collection[str]) -> None:
        super().__init__(env)
        self.captures = captures

    def headers(
        self, loc: Loc, headers: Mapping[str, str], field: str = "headers"
    ) -> dict[str, str]:
        expanded: dict[str, str] = {}
        for name, template in headers.items():
            unset = [
                var
                for var in dict.fromkeys(referenced(template))
                if var not in self.captures and var not in self.env
            ]
            for var in unset:
                message = (
                    f"environment variable {var} is not set and no step captures it "
                    f"(needed by header {name})"
                )
                self.missing.append(((*loc, field, name), message))
            if not unset:
                expanded[name] = expand_except(template, self.env, self.captures)
        return expanded


def _step(
    spec: StepSpec, every: timedelta, loc: Loc, expander: HeaderExpander
) -> model.JourneyStep:
    fallback = None
    if spec.fallback is not None:
        at = (*loc, "fallback", "http")
        check = http_check(spec.fallback.http, every, at, expander)
        fallback = model.StepFallback(node=spec.fallback.node, check=check)
    return model.JourneyStep(
        name=spec.name,
        node=spec.node,
        check=http_check(spec.http, every, (*loc, "http"), expander),
        capture=dict(spec.capture),
        fallback=fallback,
    )


def _slo(spec: JourneySloSpec) -> model.Slo:
    return model.Slo(
        name=spec.name,
        objective=ratio(spec.objective),
        window=spec.window,
        sli=model.JourneySli(latency_under=spec.latency_under),
        min_events=spec.min_events,
    )


def to_journey(doc: JourneyDocument, env: Mapping[str, str]) -> model.Journey:
    """The model of a validated Journey document; ``${capture}`` placeholders stay in the
    checks, environment variables in header values are expanded from ``env``.

    Raises ValidationError naming every header whose variable is neither set nor captured.
    """
    spec = doc.spec
    every = spec.interval or DEFAULT_JOURNEY_INTERVAL
    expander = _StepHeaders(env, {name for step in spec.steps for name in step.capture})
    steps = tuple(
        _step(step, every, ("spec", "steps", index), expander)
        for index, step in enumerate(spec.steps)
    )
    if expander.missing:
        raise validation_error("journey", expander.missing)
    return model.Journey(
        name=doc.metadata.name,
        interval=every,
        steps=steps,
        slos=tuple(_slo(slo) for slo in spec.slos),
        labels=dict(doc.metadata.labels),
        alerting=model.Alerting(
            windows=spec.alerting.windows,
            labels=dict(spec.alerting.labels),
            annotations=dict(spec.alerting.annotations),
        ),
    )


__all__ = ["JourneyDocument", "to_journey"]
