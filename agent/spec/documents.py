"""Reading the YAML documents of one spec file.

Stricter than plain ``yaml.safe_load_all``: a key written twice in one mapping is an error (YAML
would silently keep the last one). A syntax error stops the file but keeps the documents that
came before it, so their problems are reported too.

Bounded, so a hostile or broken file is a problem, never a hang, a crash or gigabytes of memory
(the file's size is bounded by :mod:`agent.spec.files`): per document at most
:data:`MAX_DEPTH` levels of nesting, :data:`MAX_ALIASES` aliases, :data:`MAX_NODES` values
with every alias expanded (an "alias bomb" of a few lines expands to billions), no alias to a
value that contains it, and integers of at most :data:`MAX_INT_DIGITS` digits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode
from yaml.resolver import Resolver

try:  # libyaml's parser (in the PyYAML wheels): reads large spec sets ~2x faster
    from yaml._yaml import CParser

    _HAS_LIBYAML = True
except ImportError:  # pragma: no cover - a PyYAML built without libyaml
    _HAS_LIBYAML = False

from agent.spec.problems import describe

MAX_DEPTH = 64
MAX_ALIASES = 1000
MAX_NODES = 100_000
MAX_INT_DIGITS = 20
MAX_PATH_SHOWN = 120  # characters of a field path in a problem

_INT_TAG = "tag:yaml.org,2002:int"


@dataclass(frozen=True, slots=True)
class Document:
    number: int  # 1-based position in the file, counting empty documents
    data: Any


@dataclass(frozen=True, slots=True)
class SyntaxFault:
    """What stopped reading a file: invalid YAML (anywhere in the file), or a document over a
    limit (``document`` and the field ``path`` where it was found)."""

    line: int  # 1-based; 0 when unknown
    column: int
    message: str
    document: int = 0  # set for a limit, with path
    path: str = ""

    def __str__(self) -> str:
        where = f"line {self.line}, column {self.column}: " if self.line else ""
        what = "" if self.document else "invalid YAML: "
        return f"{where}{what}{self.message}"


class _LimitError(yaml.MarkedYAMLError):
    def __init__(self, message: str, mark: yaml.Mark | None, path: str) -> None:
        super().__init__(None, None, message, mark)
        self.path = path


class _UniqueKeys:
    """A key written twice in one mapping is an error (YAML would keep the last one); mixed
    into every loader before PyYAML's constructor."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[object] = set()
        if not isinstance(node, MappingNode):  # "!!set a" : SafeConstructor says what is wrong
            plain: dict[Any, Any] = super().construct_mapping(node, deep=deep)
            return plain
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)  # type: ignore[attr-defined]
            try:
                duplicate = key in seen
            except TypeError:  # an unhashable key: SafeLoader reports it below
                continue
            if duplicate:
                message = f"duplicate key {describe(key)} in a mapping"
                raise ConstructorError(None, None, message, key_node.start_mark)
            seen.add(key)
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)  # type: ignore[misc]
        return mapping


class _Strict(_UniqueKeys):
    """The limits and the duplicate-key check, on top of PyYAML's composer and constructor;
    mixed into a loader with a pure-Python parser and one with libyaml's."""

    def _start(self) -> None:
        # (parent, index) of each value being composed: its field path, made only for a problem
        self._fields: list[tuple[Node | None, object]] = []
        self._sizes: dict[int, int] = {}  # id(node) -> its size with aliases expanded
        self._nodes = 0  # values of this document so far, aliases expanded
        self._aliases = 0

    def compose_document(self) -> Node | None:
        self._sizes, self._nodes, self._aliases = {}, 0, 0
        node: Node | None = super().compose_document()  # type: ignore[misc]
        return node

    def compose_node(self, parent: Node | None, index: object) -> Node | None:
        event = self.peek_event()  # type: ignore[attr-defined]
        mark = event.start_mark
        if type(event) is AliasEvent:
            node: Node | None = super().compose_node(parent, index)  # type: ignore[misc]
            size = self._sizes.get(id(node))
            if size is None:
                self._limit(
                    "an alias to a value that contains it (a recursive alias)", mark, parent, index
                )
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                self._limit(f"more than {MAX_ALIASES} aliases in one document", mark, parent, index)
            self._count(size or 0, mark, parent, index)
            return node
        fields = self._fields
        if len(fields) >= MAX_DEPTH:
            self._limit(f"nested more than {MAX_DEPTH} levels deep", mark, parent, index)
        before = self._nodes
        fields.append((parent, index))
        try:
            node = super().compose_node(parent, index)  # type: ignore[misc]
        finally:
            fields.pop()
        self._nodes += 1
        if self._nodes > MAX_NODES:
            self._count(0, mark, parent, index)
        self._sizes[id(node)] = self._nodes - before
        assert node is not None
        if node.tag == _INT_TAG and isinstance(node, ScalarNode):
            digits = sum(c.isdigit() for c in node.value)
            if digits > MAX_INT_DIGITS:
                message = f"an integer of {digits} digits; at most {MAX_INT_DIGITS} are allowed"
                self._limit(message, mark, parent, index)
        return node

    def _count(self, size: int, mark: yaml.Mark, parent: Node | None, index: object) -> None:
        self._nodes += size
        if self._nodes > MAX_NODES:
            message = (
                f"more than {MAX_NODES:,} values in one document with its aliases expanded "
                "(an alias bomb?)"
            )
            self._limit(message, mark, parent, index)

    def _limit(self, message: str, mark: yaml.Mark, parent: Node | None, index: object) -> None:
        fields = [_field(p, i) for p, i in [*self._fields, (parent, index)]]
        raise _LimitError(message, mark, _join(fields))


class _StrictLoader(_Strict, yaml.SafeLoader):
    """Pure Python: the reference for every message about a file that is not right."""

    def __init__(self, stream: str) -> None:
        yaml.SafeLoader.__init__(self, stream)
        self._start()


if _HAS_LIBYAML:

    class _FastLoader(_Strict, CParser, Composer, SafeConstructor, Resolver):
        """libyaml's scanner and parser under the same composer and limits. Marks differ in
        detail from the Python parser's, so a file it cannot read whole is read again by
        :class:`_StrictLoader` for the message."""

        # the Python composer (with the limits), not libyaml's own
        check_node = Composer.check_node
        get_node = Composer.get_node
        get_single_node = Composer.get_single_node

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)
            self._start()


def _libyaml_limits_nesting() -> bool:
    """Whether this libyaml refuses deep nesting itself (0.2.5 and later stop at 1,000 levels):
    then its own composer, which recurses in C, cannot exhaust the stack."""
    try:
        parser = CParser("[" * 100_000)
        for _ in range(100_001):
            if parser.get_event() is None:
                return False
    except yaml.YAMLError as error:
        return "nesting" in str(error)
    return False


if _HAS_LIBYAML and _libyaml_limits_nesting():

    class _ComposedLoader(_UniqueKeys, CParser, SafeConstructor, Resolver):
        """libyaml's parser and composer (~2x faster than the Python composer on large spec
        sets); the limits are checked on each composed document (:func:`_plain`) and the
        duplicate keys while it is constructed. A document with an alias, or over a limit, is
        read again by :class:`_FastLoader`, which counts aliases and says what is wrong."""

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)

        def construct_document(self, node: Node) -> Any:
            if not _plain(node):
                raise _LimitError("read again by the strict composer", None, "")
            return super().construct_document(node)

    _LOADERS: tuple[type, ...] = (_ComposedLoader, _FastLoader)
else:  # pragma: no cover - a libyaml without its own nesting limit
    _LOADERS = (_FastLoader,) if _HAS_LIBYAML else ()


def _plain(root: Node) -> bool:
    """Whether a composed document holds no alias (no node reached twice), at most
    :data:`MAX_NODES` values, none nested :data:`MAX_DEPTH` levels deep and no integer over
    :data:`MAX_INT_DIGITS` digits: what the strict composer would accept without counting."""
    seen: set[int] = set()
    stack: list[tuple[Node, int]] = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        if id(node) in seen or depth >= MAX_DEPTH:
            return False
        seen.add(id(node))
        value = node.value
        if isinstance(node, ScalarNode):
            if node.tag == _INT_TAG and sum(c.isdigit() for c in value) > MAX_INT_DIGITS:
                return False
        elif isinstance(node, MappingNode):
            stack += [(part, depth + 1) for pair in value for part in pair]
        else:
            stack += [(item, depth + 1) for item in value]
    return len(seen) <= MAX_NODES


def _parse_fast(text: str) -> list[Document] | None:
    """Every document of ``text`` read with libyaml, or None if anything is wrong with it."""
    for loader_class in _LOADERS:
        documents = _read_with(loader_class, text)
        if documents is not None:
            return documents
    return None


def _read_with(loader_class: type, text: str) -> list[Document] | None:
    documents: list[Document] = []
    try:
        loader = loader_class(text)
    except Exception:
        return None
    try:
        while loader.check_data():
            documents.append(Document(len(documents) + 1, loader.get_data()))
    except Exception:  # any fault: the Python loader reads it again and says what is wrong
        return None
    finally:
        loader.dispose()
    return documents


def parse_documents(text: str) -> tuple[list[Document], SyntaxFault | None]:
    """The documents of ``text`` (None for an empty one) and the syntax error that ended it."""
    fast = _parse_fast(text)
    if fast is not None:
        return fast, None
    return parse_documents_python(text)


def parse_documents_python(text: str) -> tuple[list[Document], SyntaxFault | None]:
    """:func:`parse_documents` with the pure-Python parser only (what says what is wrong)."""
    documents: list[Document] = []
    try:
        loader = _StrictLoader(text)
    except yaml.reader.ReaderError as error:
        return documents, _reader_fault(text, error)
    try:
        while loader.check_data():  # type: ignore[no-untyped-call]
            documents.append(Document(len(documents) + 1, loader.get_data()))
    except _LimitError as error:
        mark = error.problem_mark
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)
        message = error.problem or "over a limit"
        return documents, SyntaxFault(line, column, message, len(documents) + 1, error.path)
    except yaml.MarkedYAMLError as error:
        return documents, _fault(error)
    except yaml.YAMLError as error:
        return documents, SyntaxFault(0, 0, str(error).splitlines()[0])
    finally:
        loader.dispose()
    return documents, None


def _field(parent: Node | None, index: object) -> str:
    """The path segment of a value composed under ``parent``: a key's name, [i], or "" for a
    document's root or a mapping key itself."""
    if isinstance(index, int):
        return f"[{index}]"
    if isinstance(index, ScalarNode):
        return str(index.value)[:100]
    return ""


def _join(fields: list[str]) -> str:
    path = ""
    for field in fields:
        if not field:
            continue
        path += field if field.startswith("[") or not path else f".{field}"
    return path if len(path) <= MAX_PATH_SHOWN else path[: MAX_PATH_SHOWN - 3] + "..."


def _reader_fault(text: str, error: yaml.reader.ReaderError) -> SyntaxFault:
    """A character YAML does not allow (a control character, say), where it is."""
    before = text[: error.position]
    line = before.count("\n") + 1
    column = error.position - (before.rfind("\n") + 1) + 1
    code = error.character if isinstance(error.character, int) else ord(error.character)
    message = f"character U+{code:04X} is not allowed (control characters cannot be in YAML)"
    return SyntaxFault(line, column, message)


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
