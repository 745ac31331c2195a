"""pytest fixtures for apps run on the local host.

``durable_host``: a fresh ``DurableTestHost`` per test for the app in ``--app-dir`` (default: the
rootdir), with virtual time, an in-memory store and real HTTP on a free port.
"""
from __future__ import annotations

from pathlib import Path
from typing import AsyncIterator

import pytest
import pytest_asyncio

from .testing import DurableTestHost


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--app-dir", default=None, help="function app directory for durable_host")


@pytest.fixture(scope="session")
def durable_app_dir(request: pytest.FixtureRequest) -> Path:
    option = request.config.getoption("--app-dir")
    return Path(option).resolve() if option else Path(request.config.rootpath)


@pytest_asyncio.fixture
async def durable_host(durable_app_dir: Path) -> AsyncIterator[DurableTestHost]:
    async with DurableTestHost.start_time_skipping(durable_app_dir) as env:
        yield env
