"""libyaml reads spec files fast; what it reads equals what the pure-Python reader reads, and
every file it cannot read whole (syntax, duplicate keys, limits) is left to the Python reader,
so the messages stay the same."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.spec import documents
from agent.spec.documents import (
    MAX_ALIASES,
    MAX_DEPTH,
    _parse_fast,
    parse_documents,
    parse_documents_python,
)
from bench.scale import node_specs

REPO = Path(__file__).resolve().parents[2]
GOOD = sorted((REPO / "slo_specs" / "examples").glob("*.yaml"))
BAD = sorted((REPO / "tests" / "testdata" / "specs" / "bad").glob("*.yaml"))


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.name)
def test_the_fast_reader_reads_what_the_python_reader_reads(path: Path) -> None:
    text = path.read_text()
    fast = _parse_fast(text)
    assert fast is not None
    assert fast == parse_documents_python(text)[0]


def test_a_generated_spec_set_reads_the_same() -> None:
    text = "---\n".join(node_specs(50, "http://127.0.0.1:8080/health", None))
    documents = parse_documents(text)[0]
    assert len(documents) == 50
    assert documents == parse_documents_python(text)[0]


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.name)
def test_a_bad_file_reads_as_the_python_reader_says(path: Path) -> None:
    text = path.read_text(errors="replace")
    assert parse_documents(text) == parse_documents_python(text)


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\na: 2\n",  # a duplicate key
        "a: [1, 2\n",  # a syntax error
        "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "\n",  # too deep
        "a: &x 1\nb: [" + ", ".join(["*x"] * (MAX_ALIASES + 1)) + "]\n",  # too many aliases
        "a: 1" + "0" * 30 + "\n",  # an integer too long
    ],
)
def test_the_fast_reader_leaves_every_fault_to_the_python_reader(text: str) -> None:
    assert _parse_fast(text) is None
    documents, fault = parse_documents(text)
    assert fault is not None
    assert (documents, fault) == parse_documents_python(text)


COMPOSED = documents._LOADERS[0] if documents._LOADERS else None


@pytest.mark.skipif(
    COMPOSED is None or COMPOSED.__name__ != "_ComposedLoader",
    reason="a libyaml without its own nesting limit composes in Python only",
)
@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.name)
def test_libyaml_composed_documents_equal_the_python_reader(path: Path) -> None:
    text = path.read_text()
    assert COMPOSED is not None
    composed = documents._read_with(COMPOSED, text)
    if composed is None:  # an alias: left to the composer that counts them
        assert "*" in text
        return
    assert composed == parse_documents_python(text)[0]


@pytest.mark.skipif(
    COMPOSED is None or COMPOSED.__name__ != "_ComposedLoader",
    reason="a libyaml without its own nesting limit composes in Python only",
)
@pytest.mark.parametrize(
    "text",
    [
        "a: &x 1\nb: *x\n",  # an alias: counted by the strict composer, which accepts it
        "a: 1\na: 2\n",  # a duplicate key
        "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "\n",  # one level too deep
        "a: 1" + "0" * 30 + "\n",  # an integer too long
        "[" * 5000 + "]" * 5000 + "\n",  # beyond libyaml's own nesting limit
    ],
)
def test_libyaml_composition_leaves_aliases_and_faults_to_the_strict_composer(text: str) -> None:
    assert COMPOSED is not None
    assert documents._read_with(COMPOSED, text) is None
    assert parse_documents(text) == parse_documents_python(text)
