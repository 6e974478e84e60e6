"""The scalar value types of the spec wire format: durations, names, percents, status codes...

Each is an ``Annotated`` type for pydantic models with its own validator (messages say what is
allowed) and its own JSON Schema (for editors). Validators raise problems, never return them.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Annotated
from urllib.parse import urlsplit

import jsonpath
from pydantic import PlainValidator, WithJsonSchema

from agent.durations import (
    DURATION_HELP,
    MAX_DURATION,
    DurationTooLong,
    format_duration,
    parse_duration,
)
from agent.model import CalendarWindow, RollingWindow, Window
from agent.spec.problems import describe, did_you_mean, spec_error, validation_error
from agent.spec.promql import WINDOW_PLACEHOLDER, query_problem
from agent.spec.variables import template_error
from agent.text_pattern import TextPattern

NAME_PATTERN = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"
LABEL_NAME_PATTERN = r"^[a-zA-Z_][a-zA-Z0-9_]*$"
DURATION_PATTERN = r"^([0-9]+(ms|s|m|h|d|w))+$"
HEADER_NAME_PATTERN = r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$"
CURRENCY_PATTERN = r"^[A-Z]{3}$"
STATUS_CLASS_PATTERN = r"^[1-5]xx$"

NAME_HELP = (
    'lowercase letters, digits and "-", starting and ending with a letter or digit, '
    "at most 63 characters"
)
MIN_INTERVAL = timedelta(milliseconds=100)
MAX_INTERVAL = timedelta(days=1)  # a probe, journey or drill runs at least once a day
MIN_WINDOW = timedelta(hours=1)
MAX_WINDOW = timedelta(days=366)
MAX_SPEC_DURATION = MAX_WINDOW  # any other duration of a spec: no longer than a window


def _number(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


# --- durations ----------------------------------------------------------------------------


def _positive(value: object) -> timedelta:
    """A duration longer than 0s; one longer than ``parse_duration`` reads is returned as
    just longer than its longest, for the caller's range check."""
    if isinstance(value, str):
        try:
            parsed = parse_duration(value)
        except DurationTooLong:
            parsed = MAX_DURATION + timedelta(milliseconds=1)
        except ValueError:
            raise spec_error(f"must be {DURATION_HELP}, got {describe(value)}") from None
        if parsed <= timedelta():
            raise spec_error(f"must be longer than 0s, got {describe(value)}")
        return parsed
    raise spec_error(f"must be {DURATION_HELP}, got {describe(value)}")


def _duration(value: object) -> timedelta:
    parsed = _positive(value)
    if parsed > MAX_SPEC_DURATION:
        longest = format_duration(MAX_SPEC_DURATION)
        raise spec_error(f"must be at most {longest}, got {describe(value)}")
    return parsed


def _interval(value: object) -> timedelta:
    parsed = _positive(value)
    if not MIN_INTERVAL <= parsed <= MAX_INTERVAL:
        shortest, longest = format_duration(MIN_INTERVAL), format_duration(MAX_INTERVAL)
        raise spec_error(f"must be from {shortest} to {longest}, got {describe(value)}")
    return parsed


_DURATION_SCHEMA = {"type": "string", "pattern": DURATION_PATTERN, "description": DURATION_HELP}

Duration = Annotated[timedelta, PlainValidator(_duration), WithJsonSchema(_DURATION_SCHEMA)]
Interval = Annotated[
    timedelta,
    PlainValidator(_interval),
    WithJsonSchema(
        {
            **_DURATION_SCHEMA,
            "description": f"from {format_duration(MIN_INTERVAL)} to "
            f"{format_duration(MAX_INTERVAL)}; {DURATION_HELP}",
        }
    ),
]


def _window(value: object) -> Window:
    if isinstance(value, dict):
        unknown = [str(key) for key in value if key != "calendar"]
        if unknown:
            hint = did_you_mean(unknown[0], ["calendar"]) or "; allowed: calendar"
            # quoted like every other unknown field: a newline in the key stays on one line
            raise spec_error(f"unknown field {json.dumps(unknown[0])}{hint}")
        unit = value.get("calendar")
        if unit != "month":
            raise validation_error(
                "window",
                [
                    (
                        ("calendar",),
                        f'must be "month" (the only calendar window), got {describe(unit)}',
                    )
                ],
            )
        return CalendarWindow("month")
    if isinstance(value, str):
        length: timedelta | None
        try:
            length = parse_duration(value)
        except DurationTooLong:
            length = MAX_DURATION + timedelta(milliseconds=1)
        except ValueError:
            length = None
        if length is not None:
            if MIN_WINDOW <= length <= MAX_WINDOW:
                return RollingWindow(length)
            raise spec_error(
                f"a rolling window must be from {format_duration(MIN_WINDOW)} "
                f"to {format_duration(MAX_WINDOW)}, got {describe(value)}"
            )
    raise spec_error(
        "must be a rolling window such as 28d or 30d (units ms, s, m, h, d, w) "
        f"or {{calendar: month}}, got {describe(value)}"
    )


WindowSpec = Annotated[
    Window,
    PlainValidator(_window),
    WithJsonSchema(
        {
            "description": "a rolling window (a duration such as 28d) or {calendar: month}",
            "oneOf": [
                {"type": "string", "pattern": DURATION_PATTERN},
                {
                    "type": "object",
                    "properties": {"calendar": {"const": "month"}},
                    "required": ["calendar"],
                    "additionalProperties": False,
                },
            ],
        }
    ),
]


# --- names --------------------------------------------------------------------------------


def _name(value: object) -> str:
    if isinstance(value, str) and re.fullmatch(NAME_PATTERN, value):
        return value
    raise spec_error(f"must be {NAME_HELP}, got {describe(value)}")


def _label_name(value: object) -> str:
    valid = isinstance(value, str) and re.fullmatch(LABEL_NAME_PATTERN, value)
    if valid and not str(value).startswith("__"):
        return str(value)
    raise spec_error(
        'must be a label name: letters, digits and "_", not starting with a digit '
        f'nor with "__", got {describe(value)}'
    )


Name = Annotated[
    str,
    PlainValidator(_name),
    WithJsonSchema({"type": "string", "pattern": NAME_PATTERN, "description": NAME_HELP}),
]
LabelName = Annotated[
    str,
    PlainValidator(_label_name),
    WithJsonSchema({"type": "string", "pattern": LABEL_NAME_PATTERN}),
]


# --- percents -----------------------------------------------------------------------------


def _objective(value: object) -> float:
    number = _number(value)
    if number is not None and 0 < number < 100:
        return number
    raise spec_error(f"must be a percent strictly between 0 and 100, got {describe(value)}")


def _percent(value: object) -> float:
    number = _number(value)
    if number is not None and 0 < number <= 100:
        return number
    raise spec_error(f"must be a percent greater than 0 and at most 100, got {describe(value)}")


ObjectivePercent = Annotated[
    float,
    PlainValidator(_objective),
    WithJsonSchema({"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 100}),
]
Percent = Annotated[
    float,
    PlainValidator(_percent),
    WithJsonSchema({"type": "number", "exclusiveMinimum": 0, "maximum": 100}),
]


# --- HTTP ---------------------------------------------------------------------------------


def _status(value: object) -> int | str:
    if isinstance(value, int) and not isinstance(value, bool) and 100 <= value <= 599:
        return value
    if isinstance(value, str) and re.fullmatch(STATUS_CLASS_PATTERN, value):
        return value
    raise spec_error(
        'must be an HTTP status code from 100 to 599 or a class such as "2xx", '
        f"got {describe(value)}"
    )


StatusCode = Annotated[
    int | str,
    PlainValidator(_status),
    WithJsonSchema(
        {
            "oneOf": [
                {"type": "integer", "minimum": 100, "maximum": 599},
                {"type": "string", "pattern": STATUS_CLASS_PATTERN},
            ]
        }
    ),
]


def _url(value: object) -> str:
    if not isinstance(value, str):
        raise spec_error(f"must be an http:// or https:// URL, got {describe(value)}")
    try:
        parts = urlsplit(value)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        valid = False
    if not valid:
        raise spec_error("must be an http:// or https:// URL with a host and a valid port")
    return value


Url = Annotated[
    str,
    PlainValidator(_url),
    WithJsonSchema({"type": "string", "pattern": "^https?://", "format": "uri"}),
]


def _header_name(value: object) -> str:
    if isinstance(value, str) and re.fullmatch(HEADER_NAME_PATTERN, value):
        return value
    raise spec_error(f"must be an HTTP header name (no spaces or colons), got {describe(value)}")


def _header_value(value: object) -> str:
    # header values may be secrets: no message here shows the value
    if not isinstance(value, str):
        raise spec_error("must be a string (quote it)")
    if "\r" in value or "\n" in value:
        raise spec_error("must not contain line breaks")
    problem = template_error(value)
    if problem is not None:
        raise spec_error(problem)
    return value


HeaderName = Annotated[
    str,
    PlainValidator(_header_name),
    WithJsonSchema({"type": "string", "pattern": HEADER_NAME_PATTERN}),
]
HeaderValue = Annotated[
    str,
    PlainValidator(_header_value),
    WithJsonSchema({"type": "string", "description": "${NAME} is read from the environment"}),
]


def _regex(value: object) -> str:
    if not isinstance(value, str):
        raise spec_error(f"must be a regular expression (a string), got {describe(value)}")
    try:
        TextPattern.compile(value)
    except ValueError as error:
        raise spec_error(str(error)) from None
    return value


Regex = Annotated[
    str,
    PlainValidator(_regex),
    WithJsonSchema({"type": "string", "format": "regex"}),
]


def _json_path(value: object) -> str:
    if not isinstance(value, str) or not value.startswith("$"):
        raise spec_error(f'must be a JSONPath starting with "$", got {describe(value)}')
    try:
        jsonpath.compile(value)
    except jsonpath.JSONPathError as error:
        reason = str(error).splitlines()[0]
        raise spec_error(f"invalid JSONPath {describe(value)}: {reason}") from None
    return value


JsonPath = Annotated[
    str,
    PlainValidator(_json_path),
    WithJsonSchema({"type": "string", "pattern": r"^\$"}),
]


# --- Prometheus queries -------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}")
_WINDOW_NAME = re.compile(r"\s*\.?window\s*")  # {{window}}, Sloth's {{.window}}, {{ .window }}


def _prom_query(value: object) -> str:
    """A PromQL query with ``{{window}}`` where the range goes; Sloth's ``{{.window}}`` is
    accepted and rewritten, so the model only ever holds ``{{window}}``. It must parse, and
    its result must not be grouped (:mod:`agent.spec.promql`)."""
    if not isinstance(value, str):
        raise spec_error(f"must be a PromQL query (a string), got {describe(value)}")
    query = value.strip()
    if not query:
        raise spec_error("must not be empty")
    names = _PLACEHOLDER.findall(query)
    unknown = [name for name in names if not _WINDOW_NAME.fullmatch(name)]
    if unknown:
        raise spec_error(
            f"unknown placeholder {{{{{unknown[0]}}}}}: the only one is {WINDOW_PLACEHOLDER}"
        )
    if not names:
        raise spec_error(
            f"must contain {WINDOW_PLACEHOLDER} where the range goes, e.g. "
            f"sum(rate(http_requests_total[{WINDOW_PLACEHOLDER}])), got {describe(value)}"
        )
    query = _PLACEHOLDER.sub(WINDOW_PLACEHOLDER, query)
    problem = query_problem(query)
    if problem is not None:
        raise spec_error(problem)
    return query


PromQuery = Annotated[
    str,
    PlainValidator(_prom_query),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"\{\{\s*\.?window\s*\}\}",
            "description": f"a PromQL query; {WINDOW_PLACEHOLDER} is replaced by the window",
        }
    ),
]


# --- money --------------------------------------------------------------------------------


def _currency(value: object) -> str:
    if isinstance(value, str) and re.fullmatch(CURRENCY_PATTERN, value):
        return value
    raise spec_error(
        f"must be a three-letter currency code such as EUR or USD, got {describe(value)}"
    )


Currency = Annotated[
    str,
    PlainValidator(_currency),
    WithJsonSchema({"type": "string", "pattern": CURRENCY_PATTERN}),
]
