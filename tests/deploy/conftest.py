"""Fixtures of the deployment tests: the helm binary and the example host chart."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.deploy.chart import Helm, fetch_helm, host_chart


@pytest.fixture(scope="session")
def helm() -> Helm:
    return Helm(fetch_helm())


@pytest.fixture(scope="session")
def shop_api(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return host_chart(tmp_path_factory.mktemp("host"))
