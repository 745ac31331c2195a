"""The store contract suite runs every test against ``MemoryStore`` and ``AzureStore`` (Azurite)."""
from __future__ import annotations

import uuid
from typing import AsyncIterator

import pytest
import pytest_asyncio

from devhost.store.base import Store
from devhost.store.memory import MemoryStore


def unique_hub() -> str:
    return "t" + uuid.uuid4().hex[:12]


async def open_azure(connection: str, hub: str, **kwargs) -> Store:
    from devhost.store.azure import AzureStore

    store = AzureStore(connection, hub, **kwargs)
    await store.open()
    return store


@pytest_asyncio.fixture(params=["memory", "azure"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[Store]:
    if request.param == "memory":
        memory = MemoryStore()
        await memory.open()
        yield memory
        await memory.close()
        return
    connection = request.getfixturevalue("azurite")
    azure = await open_azure(connection, unique_hub())
    try:
        yield azure
    finally:
        await azure.delete_task_hub()
        await azure.close()


@pytest_asyncio.fixture
async def azure(azurite: str) -> AsyncIterator[Store]:
    """One Azure store on a fresh task hub (the Azure-only tests)."""
    store = await open_azure(azurite, unique_hub())
    yield store
    await store.delete_task_hub()
    await store.close()


@pytest_asyncio.fixture
async def azure_pair(azurite: str) -> AsyncIterator[tuple[Store, Store]]:
    """Two stores (two 'processes') on one task hub, with short leases."""
    hub = unique_hub()
    first = await open_azure(azurite, hub, lease_seconds=1.0)
    second = await open_azure(azurite, hub, lease_seconds=1.0)
    try:
        yield first, second
    finally:
        await first.delete_task_hub()
        await first.close()
        await second.close()
