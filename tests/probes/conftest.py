from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from agent.probes.http import HttpProber
from tests.support.targets import Target


@pytest.fixture
async def prober() -> AsyncIterator[HttpProber]:
    http = HttpProber()
    try:
        yield http
    finally:
        await http.aclose()


@pytest.fixture
async def target() -> AsyncIterator[Target]:
    async with Target() as running:
        yield running


@pytest.fixture
async def tls_target() -> AsyncIterator[Target]:
    async with Target(tls=True) as running:
        yield running
