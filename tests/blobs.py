"""The tests' own view of blob storage, independent of the app's helpers."""
from __future__ import annotations

import json
from typing import Any

from azure.storage.blob import BlobServiceClient


def read_json_blob(blob_service: BlobServiceClient, container: str, name: str) -> Any:
    return json.loads(blob_service.get_blob_client(container, name).download_blob().readall())


def blob_names(blob_service: BlobServiceClient, container: str, prefix: str) -> list[str]:
    container_client = blob_service.get_container_client(container)
    if not container_client.exists():
        return []
    return sorted(b.name for b in container_client.list_blobs(name_starts_with=prefix))
