"""Shared fixtures: one Azurite per test session (started here unless one is given)."""
from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path
from typing import Iterator

import pytest
from azure.storage.blob import BlobServiceClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import azurite as azurite_tool  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def _keys_outside_the_repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Hosts started by tests (subprocesses included) keep their keys in a temporary file, never in
    the developer's ``.devhost/keys.json``."""
    previous = os.environ.get("DEVHOST_KEYS_FILE")
    os.environ["DEVHOST_KEYS_FILE"] = str(tmp_path_factory.mktemp("devhost-keys") / "keys.json")
    yield
    if previous is None:
        os.environ.pop("DEVHOST_KEYS_FILE", None)
    else:
        os.environ["DEVHOST_KEYS_FILE"] = previous


@pytest.fixture(scope="session")
def azurite() -> Iterator[str]:
    """Connection string of a real Azurite; also exported as ``AzureWebJobsStorage``."""
    with azurite_tool.external_or_temporary(os.environ.get(azurite_tool.EXTERNAL_STORAGE_ENV)) as connection:
        previous = os.environ.get("AzureWebJobsStorage")
        os.environ["AzureWebJobsStorage"] = connection
        try:
            yield connection
        finally:
            if previous is None:
                os.environ.pop("AzureWebJobsStorage", None)
            else:
                os.environ["AzureWebJobsStorage"] = previous


@pytest.fixture(scope="session")
def blob_service(azurite: str) -> Iterator[BlobServiceClient]:
    """The tests' own blob client on the session Azurite."""
    with BlobServiceClient.from_connection_string(azurite) as client:
        yield client


@pytest.fixture
def unique() -> str:
    return uuid.uuid4().hex[:12]
