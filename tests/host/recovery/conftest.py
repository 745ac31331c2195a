"""Fixtures: a fresh task hub, a marker folder and a host-process factory per test."""
from __future__ import annotations

import uuid
from pathlib import Path
from typing import AsyncIterator, Callable, Iterator

import pytest
import pytest_asyncio

from devhost.store.azure import AzureStore

from .hostproc import HostProcess


@pytest.fixture
def hub() -> str:
    return "r" + uuid.uuid4().hex[:12]


@pytest.fixture
def markers(tmp_path: Path) -> Path:
    folder = tmp_path / "markers"
    folder.mkdir()
    return folder


@pytest.fixture
def hosts(azurite: str, hub: str, markers: Path, tmp_path: Path) -> Iterator[Callable[[], HostProcess]]:
    """``hosts()`` makes an unstarted host process on the test's hub; all are stopped afterwards."""
    made: list[HostProcess] = []

    def make() -> HostProcess:
        host = HostProcess(azurite, hub, markers, tmp_path / f"host{len(made)}.log")
        made.append(host)
        return host

    yield make
    for host in made:
        host.kill()


@pytest_asyncio.fixture
async def hub_store(azurite: str, hub: str) -> AsyncIterator[AzureStore]:
    """The test's task hub, opened from the test itself (to look at what the hosts wrote)."""
    store = AzureStore(azurite, hub)
    await store.open()
    try:
        yield store
    finally:
        await store.delete_task_hub()
        await store.close()
