"""Names and keys: connection strings, the task hub name, key escaping, continuation tokens."""
from __future__ import annotations

import base64
import json
import logging
import re
from typing import Any

from azure.core.exceptions import HttpResponseError

from ..base import Event


log = logging.getLogger("devhost.store")

# Azurite's well-known development account (public, documented; not a secret).
DEV_ACCOUNT = "devstoreaccount1"
DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

SENTINEL = "sentinel"
# Work items are rows of the Messages table with this Kind (work.py); messages have others.
WORK_KIND = "work"
WORK_ROWS = f"Kind eq '{WORK_KIND}'"
MESSAGE_ROWS = f"Kind ne '{WORK_KIND}'"
# A string property holds at most 64 KiB (UTF-16); keep a margin.
MAX_INLINE_BYTES = 60_000
# A table transaction is at most 100 operations and 4 MiB; one op is the sentinel, one the outbox.
MAX_BATCH_ROWS = 99
MAX_BATCH_INLINE_BYTES = 3_000_000
# Event types whose id says what they complete (for dropping re-delivered messages).
_TASK_RESULTS = {5, 6, 8, 9}  # TaskCompleted/Failed, SubOrchestrationInstanceCompleted/Failed
_TIMER_FIRED = 11
_EXECUTION_STARTED = 0
_EVENT_RAISED = 15

_BAD_KEY_CHARS = re.compile(r"[%/\\#?\x00-\x1f\x7f-\x9f]")
_HUB_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]{2,44}$")


def escape_key(value: str) -> str:
    """PartitionKey/RowKey may not contain / \\ # ? or control characters: %-escape them."""
    return _BAD_KEY_CHARS.sub(lambda m: f"%{ord(m.group()):02X}", value)


def _row_key(index: int) -> str:
    return f"{index:016X}"


# ---------------------------------------------------------------------------- connection strings
def parse_connection_string(connection: str) -> dict[str, str]:
    parts: dict[str, str] = {}
    for piece in connection.strip().split(";"):
        if not piece.strip():
            continue
        name, sep, value = piece.partition("=")
        if not sep:
            raise ValueError(f"invalid connection string segment {piece!r}")
        parts[name.strip()] = value.strip()
    return parts


def normalize_connection_string(connection: str) -> str:
    """``UseDevelopmentStorage=true`` -> Azurite's default endpoints (127.0.0.1:10000-10002)."""
    parts = parse_connection_string(connection)
    lowered = {k.lower(): v for k, v in parts.items()}
    if lowered.get("usedevelopmentstorage", "").lower() == "true":
        proxy = lowered.get("developmentstorageproxyuri", "http://127.0.0.1").rstrip("/")
        return (f"DefaultEndpointsProtocol=http;AccountName={DEV_ACCOUNT};AccountKey={DEV_KEY};"
                f"BlobEndpoint={proxy}:10000/{DEV_ACCOUNT};QueueEndpoint={proxy}:10001/{DEV_ACCOUNT};"
                f"TableEndpoint={proxy}:10002/{DEV_ACCOUNT};")
    if "accountname" not in lowered and "tableendpoint" not in lowered:
        raise ValueError("AzureWebJobsStorage must be a storage connection string "
                         "(AccountName=...;AccountKey=... or UseDevelopmentStorage=true)")
    return connection


def validate_task_hub(name: str) -> str:
    if not _HUB_NAME.match(name):
        raise ValueError(f"Task hub name {name!r} must be 3-45 letters or digits, starting with a letter "
                         "(it names tables and a blob container).")
    return name


def _encode_token(token: Any) -> str | None:
    if not token:
        return None
    return base64.urlsafe_b64encode(json.dumps(token).encode()).decode()


def _decode_token(token: str | None) -> Any:
    if not token:
        return None
    try:
        return json.loads(base64.urlsafe_b64decode(token.encode()))
    except ValueError as exc:
        raise ValueError(f"invalid continuation token {token!r}") from exc


def _is_conflict(exc: HttpResponseError) -> bool:
    code = str(getattr(exc, "error_code", "") or "")
    return exc.status_code in (404, 409, 412) or "UpdateConditionNotSatisfied" in code \
        or "ResourceNotFound" in code or "EntityAlreadyExists" in code

