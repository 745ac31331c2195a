"""Activities called directly, as plain functions, against the session's real Azurite."""
from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True, scope="session")
def _storage(azurite: str) -> Iterator[None]:
    """Every activity here reads AzureWebJobsStorage at call time; the session Azurite sets it."""
    yield
    from app_common import storage

    storage.close_clients()
