"""Payload size limits of the durable backend being emulated.

Which backend is read from ``host.json`` ``extensions.durableTask.storageProvider.type`` (or the
app setting ``AzureFunctionsJobHost__extensions__durableTask__storageProvider__type`` that
overrides it), as the extension picks its durability provider:

* Azure Storage (the default): no cap. DTFx's provider compresses queue messages above 45 KB into
  the ``<hub>-largemessages`` blob container (``MessageManager.MaxStorageQueuePayloadSizeInBytes``)
  and moves table properties above 60 KB to blobs (``AzureTableTrackingStore.MaxTablePropertySizeInBytes``),
  so a 5 MB output completes (slower, more storage calls: the host logs that once, as advice).
* Durable Task Scheduler (``azureManaged``): messages are capped at 1 MiB; its large-payload support
  exists for .NET only, so a Python app has to pass a blob reference instead.
* MSSQL and Netherite: no cap known to the host.

``DEVHOST_PAYLOAD_LIMIT_BYTES`` (bytes, or ``none``) overrides the backend's cap. Custom status is
capped at 16 KB of UTF-16 whatever the backend (``custom_status_error``).
"""
from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from typing import Any, Mapping

log = logging.getLogger("devhost")

MIB = 1024 * 1024
AZURE_STORAGE_BLOB_THRESHOLD = 45 * 1024
CUSTOM_STATUS_LIMIT_KB = 16
LIMIT_ENV = "DEVHOST_PAYLOAD_LIMIT_BYTES"
PROVIDER_TYPE_SETTING = "AzureFunctionsJobHost__extensions__durableTask__storageProvider__type"

# storageProvider.type (case-insensitive) -> (backend name, cap in bytes or None)
_BACKENDS: dict[str, tuple[str, int | None]] = {
    "azurestorage": ("Azure Storage", None),
    "azuremanaged": ("Durable Task Scheduler", MIB),
    "mssql": ("MSSQL", None),
    "netherite": ("Netherite", None),
}


class PayloadTooLarge(ValueError):
    pass


@dataclass(frozen=True)
class PayloadPolicy:
    backend: str = "Azure Storage"
    limit: int | None = None  # bytes; None: no cap
    _advised: set[tuple[str, str]] = field(default_factory=set, compare=False, repr=False)

    def check(self, kind: str, name: str, text: str | None, limit: int | None = None) -> None:
        """Raise ``PayloadTooLarge`` above the cap (``limit`` if given, else the backend's)."""
        cap = self.limit if limit is None else limit
        advice = AZURE_STORAGE_BLOB_THRESHOLD if self.backend == "Azure Storage" else None
        thresholds = [t for t in (cap, advice) if t is not None]
        if not text or not thresholds or len(text) * 4 <= min(thresholds):
            return  # UTF-8 takes at most 4 bytes a character: no need to encode
        size = len(text.encode("utf-8"))
        if cap is not None and size > cap:
            raise PayloadTooLarge(
                f"The {kind} of '{name}' is {size:,} bytes, above the {cap:,}-byte limit of the "
                f"{self.backend} backend. Store the data in a blob (or another store) and pass its name "
                "or URL instead.")
        if advice is not None and size > advice and (kind, name) not in self._advised:
            self._advised.add((kind, name))
            log.warning("The %s of '%s' is %s bytes: above 45 KB the Azure Storage provider compresses it "
                        "into a blob on every send; consider passing a blob reference instead.",
                        kind, name, f"{size:,}")


def custom_status_error(custom: Any) -> str | None:
    """The extension's refusal of a custom status, or None.

    Azure/azure-functions-durable-extension ``DurableOrchestrationContext.SetCustomStatus``
    (``MaxCustomStatusPayloadSizeInKB = 16``) -> ``MessagePayloadDataConverter.Serialize(value, 16)``
    (62-70): the compact JSON (Newtonsoft leaves non-ASCII unescaped) measured in UTF-16 bytes,
    in whole KB rounded down, refused only above 16: up to 17,407 bytes pass."""
    if custom is None:
        return None
    text = json.dumps(custom, separators=(",", ":"), ensure_ascii=False)
    if len(text) * 4 < (CUSTOM_STATUS_LIMIT_KB + 1) * 1024:
        return None  # UTF-16 takes at most 4 bytes a character: no need to encode
    size_kb = len(text.encode("utf-16-le")) // 1024
    if size_kb <= CUSTOM_STATUS_LIMIT_KB:
        return None
    return (f"The UTF-16 size of the JSON-serialized payload must not exceed {CUSTOM_STATUS_LIMIT_KB:,} KB. "
            f"The current payload size is {size_kb:,} KB.")


def policy_for(host_json: Mapping[str, Any], environ: Mapping[str, str] = os.environ) -> PayloadPolicy:
    durable = (host_json.get("extensions") or {}).get("durableTask") or {}
    provider_type = environ.get(PROVIDER_TYPE_SETTING) or (durable.get("storageProvider") or {}).get("type") \
        or "AzureStorage"
    known = _BACKENDS.get(str(provider_type).lower())
    if known is None:
        raise ValueError(f"Unknown durable storage provider type '{provider_type}' in host.json; the "
                         f"extension knows AzureStorage, azureManaged, mssql and netherite.")
    backend, limit = known
    override = environ.get(LIMIT_ENV)
    if override:
        limit = None if override.strip().lower() == "none" else int(override)
    return PayloadPolicy(backend, limit)
