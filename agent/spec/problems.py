"""Problems in spec documents, worded for the person who wrote the spec.

Validation runs through pydantic; this module turns its errors into ``(field path, message)``
pairs that say what is allowed, and gives validators a way to raise such problems themselves.
Field paths are dotted with list indices in brackets: ``spec.probes[0].http.timeout``. Map keys
that are not plain words are quoted: ``expect.json["$.status"]``.

Nothing under a ``headers`` field ever has its value shown: header values may be secrets.
"""

from __future__ import annotations

import difflib
import json
import math
import re
import types
from collections.abc import Sequence
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError

Loc = tuple[str | int, ...]

_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_SECRET_FIELDS = frozenset({"headers"})


def format_path(loc: Sequence[str | int]) -> str:
    """``("spec", "probes", 0, "http")`` -> ``spec.probes[0].http``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _PLAIN_KEY.fullmatch(part):
            text += f".{part}" if text else part
        else:
            text += f"[{json.dumps(part)}]"
    return text


def describe(value: object) -> str:
    """A short, unambiguous rendering of a user's value for "got ..." in a message."""
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        shown = value if len(value) <= 60 else value[:57] + "..."
        return json.dumps(shown)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, int | float):
        return repr(_number(value))
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return f"a {type(value).__name__}"


def did_you_mean(word: str, choices: Sequence[str]) -> str:
    """`` (did you mean "x"?)`` when ``word`` is close to one of ``choices``, else ""."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


def spec_error(message: str) -> PydanticCustomError:
    """An error for validators to raise; ``message`` is shown to the user as it is."""
    return PydanticCustomError("spec", "{message}", {"message": message})


def validation_error(title: str, problems: Sequence[tuple[Loc, str]]) -> ValidationError:
    """Several problems at once, each at a location relative to the object being validated."""
    line_errors: list[InitErrorDetails] = [
        {"type": spec_error(message), "loc": loc, "input": None} for loc, message in problems
    ]
    return ValidationError.from_exception_data(title, line_errors)


def translate(error: ValidationError, model: type[BaseModel]) -> list[tuple[str, str]]:
    """Every problem in ``error`` (raised while validating ``model``) as (field path, message)."""
    return [_translate_one(details, model) for details in error.errors()]


def _translate_one(details: ErrorDetails, model: type[BaseModel]) -> tuple[str, str]:
    loc: Loc = tuple(part for part in details["loc"] if part != "[key]")
    kind = details["type"]
    value = details["input"]
    ctx: dict[str, Any] = dict(details.get("ctx") or {})
    secret = any(part in _SECRET_FIELDS for part in loc)
    got = "" if secret else f", got {describe(value)}"
    if kind == "spec":
        return format_path(loc), str(ctx["message"])
    if kind == "extra_forbidden":
        parent, key = loc[:-1], str(loc[-1])
        allowed = fields_at(model, parent)
        hint = did_you_mean(key, allowed)
        if not hint and allowed:
            hint = "; allowed: " + ", ".join(allowed)
        return format_path(parent), f"unknown field {json.dumps(key)}{hint}"
    if kind == "missing":
        return format_path(loc), "is required"
    if kind == "invalid_key":
        return format_path(loc[:-1]), f"field names must be strings, got {describe(loc[-1])}"
    if kind == "literal_error":
        choices = ", ".join(re.findall(r"'([^']*)'", str(ctx.get("expected", ""))))
        shown = "" if secret else f"; got {describe(value)}"
        return format_path(loc), f"must be one of {choices}{shown}"
    if kind == "too_short" and ctx.get("min_length") == 1:
        return format_path(loc), "must not be empty"
    message = _MESSAGES.get(kind)
    if message is not None:
        numbers = {key: _number(value) for key, value in ctx.items()}
        return format_path(loc), message.format(**numbers) + got
    text = details["msg"]
    return format_path(loc), text[:1].lower() + text[1:]


_MESSAGES: dict[str, str] = {
    "string_type": "must be a string",
    "int_type": "must be an integer",
    "float_type": "must be a number",
    "bool_type": "must be true or false",
    "dict_type": "must be a mapping",
    "model_type": "must be a mapping",
    "model_attributes_type": "must be a mapping",
    "list_type": "must be a list",
    "tuple_type": "must be a list",
    "greater_than": "must be greater than {gt}",
    "greater_than_equal": "must be at least {ge}",
    "less_than": "must be less than {lt}",
    "less_than_equal": "must be at most {le}",
    "finite_number": "must be a finite number",
    "string_too_short": "must not be empty",
    "too_short": "must have at least {min_length} items",
    "too_long": "must have at most {max_length} items",
}


def _number(value: object) -> object:
    """``0.0`` -> ``0`` for limits in messages; anything else unchanged."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def fields_at(model: type[BaseModel], loc: Loc) -> list[str]:
    """The field names (as written in a spec) of the object at ``loc`` in ``model``, sorted."""
    target: Any = model
    for part in loc:
        target = _unwrap(target)
        if isinstance(part, str) and _is_model(target):
            field = _field_by_name(target, part)
            if field is None:
                return []
            target = field
        elif isinstance(part, int) and get_origin(target) in (list, tuple):
            target = get_args(target)[0]
        elif isinstance(part, str) and get_origin(target) is dict:
            target = get_args(target)[1]
        else:
            return []
    target = _unwrap(target)
    if not _is_model(target):
        return []
    return sorted(info.alias or name for name, info in target.model_fields.items())


def _field_by_name(model: type[BaseModel], key: str) -> Any:
    for name, info in model.model_fields.items():
        if (info.alias or name) == key:
            return info.annotation
    return None


def _unwrap(target: Any) -> Any:
    while True:
        origin = get_origin(target)
        if origin is Annotated:
            target = get_args(target)[0]
        elif origin in (Union, types.UnionType):
            members = [arg for arg in get_args(target) if arg is not type(None)]
            if len(members) != 1:
                return target
            target = members[0]
        else:
            return target


def _is_model(target: Any) -> bool:
    return isinstance(target, type) and issubclass(target, BaseModel)
