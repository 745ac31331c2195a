"""Blob helpers for activities. Clients are built on first use from the settings read at call
time (never at import), then cached per connection string / account URL."""
from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import BlobServiceClient, ContentSettings

from . import settings

JSON_CONTENT = ContentSettings(content_type="application/json")


class StorageNotConfigured(RuntimeError):
    pass


_clients: dict[str, BlobServiceClient] = {}
_clients_lock = threading.Lock()


def _cached(key: str, build: Callable[[], BlobServiceClient]) -> BlobServiceClient:
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = build()
        return client


def _from_identity(account_url: str) -> BlobServiceClient:
    from azure.identity import DefaultAzureCredential  # picks the identity named by AZURE_CLIENT_ID

    return BlobServiceClient(account_url, credential=DefaultAzureCredential())


def blob_service() -> BlobServiceClient:
    connection_string = settings.storage_connection_string()
    if connection_string:
        return _cached(connection_string, lambda: BlobServiceClient.from_connection_string(connection_string))
    account_url = settings.blob_service_uri()
    if account_url:
        return _cached(account_url, lambda: _from_identity(account_url))
    raise StorageNotConfigured(
        f"Set {settings.STORAGE_CONNECTION} (a connection string, e.g. UseDevelopmentStorage=true) "
        f"or {settings.STORAGE_BLOB_SERVICE_URI} (identity-based access)."
    )


def upload_json(container: str, name: str, document: Any) -> None:
    """Write ``document`` as a JSON blob, creating the container on first use (Azurite starts empty)."""
    data = json.dumps(document, sort_keys=True).encode()
    blob = blob_service().get_blob_client(container, name)
    try:
        blob.upload_blob(data, overwrite=True, content_settings=JSON_CONTENT)
    except ResourceNotFoundError:
        ensure_container(container)
        blob.upload_blob(data, overwrite=True, content_settings=JSON_CONTENT)


def create_json(container: str, name: str, document: Any) -> bool:
    """Write ``document`` only if the blob does not exist yet (``overwrite=False`` sends
    ``If-None-Match: *``, so of concurrent writers exactly one succeeds); False if it existed."""
    blob = blob_service().get_blob_client(container, name)

    def create() -> bool:
        try:
            blob.upload_blob(json.dumps(document, sort_keys=True).encode(), overwrite=False,
                             content_settings=JSON_CONTENT)
            return True
        except ResourceExistsError:
            return False

    try:
        return create()
    except ResourceNotFoundError:
        ensure_container(container)
        return create()


def delete_blob(container: str, name: str) -> None:
    """Delete the blob if it exists."""
    try:
        blob_service().get_blob_client(container, name).delete_blob()
    except ResourceNotFoundError:
        pass


def ensure_container(container: str) -> None:
    try:
        blob_service().create_container(container)
    except ResourceExistsError:
        pass


def download_bytes(container: str, name: str) -> bytes | None:
    """The blob's content, or None if the blob (or its container) does not exist."""
    try:
        return blob_service().get_blob_client(container, name).download_blob().readall()
    except ResourceNotFoundError:
        return None


def iter_blob_chunks(container: str, name: str) -> Iterator[bytes]:
    yield from blob_service().get_blob_client(container, name).download_blob().chunks()


def list_blob_names(container: str, prefix: str) -> list[str]:
    """Names under ``prefix`` in listing order; a missing container has no blobs."""
    try:
        return [b.name for b in blob_service().get_container_client(container).list_blobs(name_starts_with=prefix)]
    except ResourceNotFoundError:
        return []


def delete_blobs(container: str, prefix: str) -> int:
    """Delete every blob under ``prefix``; returns how many were deleted (idempotent)."""
    container_client = blob_service().get_container_client(container)
    deleted = 0
    for name in list_blob_names(container, prefix):
        try:
            container_client.delete_blob(name)
            deleted += 1
        except ResourceNotFoundError:
            pass
    return deleted


def close_clients() -> None:
    """Close and forget the cached clients (tests: lets the emulator shut down promptly)."""
    with _clients_lock:
        clients = list(_clients.values())
        _clients.clear()
    for client in clients:
        client.close()
