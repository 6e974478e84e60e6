"""Reading the YAML documents of one spec file.

Stricter than plain ``yaml.safe_load_all``: a key written twice in one mapping is an error (YAML
would silently keep the last one). A syntax error stops the file but keeps the documents that
came before it, so their problems are reported too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode

from agent.spec.problems import describe


@dataclass(frozen=True, slots=True)
class Document:
    number: int  # 1-based position in the file, counting empty documents
    data: Any


@dataclass(frozen=True, slots=True)
class SyntaxFault:
    line: int  # 1-based; 0 when unknown
    column: int
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}, column {self.column}: " if self.line else ""
        return f"{where}invalid YAML: {self.message}"


class _StrictLoader(yaml.SafeLoader):
    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[object] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
            except TypeError:  # an unhashable key: SafeLoader reports it below
                continue
            if duplicate:
                message = f"duplicate key {describe(key)} in a mapping"
                raise ConstructorError(None, None, message, key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def parse_documents(text: str) -> tuple[list[Document], SyntaxFault | None]:
    """The documents of ``text`` (None for an empty one) and the syntax error that ended it."""
    documents: list[Document] = []
    loader = _StrictLoader(text)
    try:
        while loader.check_data():  # type: ignore[no-untyped-call]
            documents.append(Document(len(documents) + 1, loader.get_data()))
    except yaml.MarkedYAMLError as error:
        return documents, _fault(error)
    except yaml.YAMLError as error:
        return documents, SyntaxFault(0, 0, str(error).splitlines()[0])
    finally:
        loader.dispose()
    return documents, None


def _fault(error: yaml.MarkedYAMLError) -> SyntaxFault:
    mark, context = error.problem_mark, error.context_mark
    message = error.problem or error.context or "cannot be parsed"
    if error.problem and error.context and context is not None and context != mark:
        message += f" ({error.context} at line {context.line + 1}, column {context.column + 1})"
    if mark is None:
        mark = context
    if mark is None:
        return SyntaxFault(0, 0, message)
    return SyntaxFault(mark.line + 1, mark.column + 1, message)
