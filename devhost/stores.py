"""Pick the state store from the command line and ``AzureWebJobsStorage``."""
from __future__ import annotations

from .config import HostConfig
from .store.base import Store
from .store.memory import MemoryStore


def open_store(kind: str, config: HostConfig) -> Store:
    if kind == "memory" or (kind == "auto" and not config.storage_connection):
        return MemoryStore()
    try:
        from .store.azure import AzureStore
    except ImportError as exc:  # pragma: no cover - until the Azure store lands
        if kind == "azure":
            raise SystemExit(f"The Azure Storage store is not available: {exc}") from exc
        return MemoryStore()
    if not config.storage_connection:
        raise SystemExit("--store azure needs the AzureWebJobsStorage setting.")
    return AzureStore(config.storage_connection, config.task_hub)
