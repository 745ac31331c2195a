"""Fixtures for the host's own tests: the purpose-built app in ``tests/host/app``."""
from __future__ import annotations

from pathlib import Path
from typing import AsyncIterator

import pytest
import pytest_asyncio

from devhost.testing import DurableTestHost

HOST_TEST_APP = Path(__file__).resolve().parent / "app"


@pytest.fixture
def knobs():
    import sys

    sys.path.insert(0, str(HOST_TEST_APP))
    import knobs as module

    module.FLAKY_CALLS.clear()
    module.FLAKY_FAILURES.clear()
    module.SWITCHABLE_ACTIVITY = "hello"
    yield module
    module.SWITCHABLE_ACTIVITY = "hello"


@pytest_asyncio.fixture
async def env(knobs) -> AsyncIterator[DurableTestHost]:
    async with DurableTestHost.start_time_skipping(HOST_TEST_APP) as host:
        yield host
