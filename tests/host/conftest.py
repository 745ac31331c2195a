"""Fixtures for the host's own tests: the purpose-built app in ``tests/host/app``."""
from __future__ import annotations

from pathlib import Path
from typing import AsyncIterator, Callable

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


@pytest.fixture
def function_errors(caplog) -> Callable[[], str]:
    """The exceptions app functions raised, as the host logged them: an HTTP function that raises
    answers a bare 500 (as on Azure), so tests read what the SDK raised from the log."""
    def text() -> str:
        return "\n".join(f"{r.getMessage()} {r.exc_info[1]!r}" for r in caplog.records if r.exc_info)
    return text
