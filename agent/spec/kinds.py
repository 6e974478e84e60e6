"""A kind of spec document: the wire model that validates it and the converter into the model.

Each spec version lists its kinds in a ``KINDS`` dict (``agent.spec.v1_kinds.KINDS``); the
loader maps each apiVersion to such a dict. A new kind is one entry there, a new version one
more dict.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from pydantic import BaseModel

D = TypeVar("D", bound=BaseModel)
M = TypeVar("M")


@dataclass(frozen=True, slots=True)
class Kind(Generic[D, M]):
    """How one kind of document is validated (``document``) and turned into the model."""

    document: type[D]
    # raises pydantic.ValidationError for problems only visible with the environment
    convert: Callable[[D, Mapping[str, str]], M]
