"""Fixtures for the host's own tests: the purpose-built app in ``tests/host/app``."""
from __future__ import annotations

import uuid
from pathlib import Path
from typing import AsyncIterator, Callable

import pytest
import pytest_asyncio

from devhost.store.base import Store
from devhost.store.memory import MemoryStore
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


@pytest_asyncio.fixture(params=["memory", "azure"])
async def either_store(request: pytest.FixtureRequest) -> AsyncIterator[Store]:
    """Each kind of store, fresh: a ``MemoryStore``, then an ``AzureStore`` on a new task hub of
    Azurite (dropped afterwards; the host has closed the store by then)."""
    if request.param == "memory":
        yield MemoryStore()
        return
    from devhost.store.azure import AzureStore

    azure = AzureStore(request.getfixturevalue("azurite"), "t" + uuid.uuid4().hex[:12])
    try:
        yield azure
    finally:
        await azure.open()
        await azure.delete_task_hub()
        await azure.close()


@pytest.fixture
def function_errors(caplog) -> Callable[[], str]:
    """The exceptions app functions raised, as the host logged them: an HTTP function that raises
    answers a bare 500 (as on Azure), so tests read what the SDK raised from the log."""
    def text() -> str:
        return "\n".join(f"{r.getMessage()} {r.exc_info[1]!r}" for r in caplog.records if r.exc_info)
    return text
