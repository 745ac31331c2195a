"""Activities called directly, as plain functions, against the session's real Azurite."""
from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from azure.storage.blob import BlobServiceClient


@pytest.fixture(scope="session")
def blob_service(azurite: str) -> Iterator[BlobServiceClient]:
    with BlobServiceClient.from_connection_string(azurite) as client:
        yield client


@pytest.fixture
def unique() -> str:
    return uuid.uuid4().hex[:12]


def read_json_blob(blob_service: BlobServiceClient, container: str, name: str) -> Any:
    return json.loads(blob_service.get_blob_client(container, name).download_blob().readall())


def blob_names(blob_service: BlobServiceClient, container: str, prefix: str) -> list[str]:
    container_client = blob_service.get_container_client(container)
    if not container_client.exists():
        return []
    return sorted(b.name for b in container_client.list_blobs(name_starts_with=prefix))


@pytest.fixture(autouse=True, scope="session")
def _storage(azurite: str) -> Iterator[None]:
    """Every activity here reads AzureWebJobsStorage at call time; the session Azurite sets it."""
    yield
    from app_common import storage

    storage.close_clients()
