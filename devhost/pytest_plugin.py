"""pytest fixtures for apps run on the local host.

``durable_host``: a fresh ``DurableTestHost`` per test for the app in ``--app-dir`` (default: the
rootdir), with virtual time, an in-memory store and real HTTP on a free port.
``--record-histories DIR`` writes every orchestration those tests ran as replay fixtures
(see ``devhost.replayer`` and ``scripts/record_histories.py``).
"""
from __future__ import annotations

from pathlib import Path
from typing import AsyncIterator

import pytest
import pytest_asyncio

from .testing import DurableTestHost


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--app-dir", default=None, help="function app directory for durable_host")
    parser.addoption("--record-histories", default=None, metavar="DIR",
                     help="write the orchestrations run by durable_host tests to DIR as replay fixtures")


@pytest.fixture(scope="session")
def durable_app_dir(request: pytest.FixtureRequest) -> Path:
    option = request.config.getoption("--app-dir")
    return Path(option).resolve() if option else Path(request.config.rootpath)


@pytest_asyncio.fixture
async def durable_host(durable_app_dir: Path, request: pytest.FixtureRequest) -> AsyncIterator[DurableTestHost]:
    record_dir = request.config.getoption("--record-histories")
    async with DurableTestHost.start_time_skipping(durable_app_dir) as env:
        yield env
        if record_dir:
            await env.settle()
            test_name = request.node.name
            await env.record_histories(Path(record_dir) / "".join(c if c.isalnum() else "_" for c in test_name),
                                       statuses=None)
