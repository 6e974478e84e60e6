from __future__ import annotations

from pathlib import Path

import pytest

from agent.demo.faults import DEMO_NODES
from agent.demo.templates import render_demo_specs
from agent.model import SpecSet
from agent.spec.loader import load_specs

FAKE_PORTS = {node: 41000 + index for index, node in enumerate(DEMO_NODES)}
FAKE_URLS = {node: f"http://127.0.0.1:{port}" for node, port in FAKE_PORTS.items()}


@pytest.fixture
def rendered(tmp_path: Path) -> list[Path]:
    """The bundled demo specs rendered for made-up ports."""
    return render_demo_specs(FAKE_URLS, FAKE_PORTS, tmp_path / "specs")


@pytest.fixture
def demo_specs(rendered: list[Path]) -> SpecSet:
    return load_specs(rendered, {})
