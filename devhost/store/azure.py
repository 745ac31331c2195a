"""Azure Storage state store (Azure Tables + Blobs; Azurite locally).

Layout (see docs/storage.md), for task hub ``<hub>``:

* ``<hub>Instances``  PartitionKey = instance id, RowKey = ""  - a query view of each instance.
* ``<hub>History``    PartitionKey = instance id, RowKey = 16 hex digits (event sequence number)
  for history rows, and RowKey = ``sentinel`` for the row that is the *authoritative* instance
  state: status, output, the visible history range and the ETag used for optimistic
  concurrency. Because it lives in the same partition as the history rows, one table
  transaction appends an episode's events and moves the instance on, or does neither.
* ``<hub>Messages``   PartitionKey = target (instance or entity id), RowKey = message id.
* ``<hub>WorkItems``  PartitionKey = instance id, RowKey = work item id, plus lease columns.
* ``<hub>Entities``   PartitionKey = entity id ("@name@key"), RowKey = "".
* ``<hub>Leases``     PartitionKey = target, RowKey = "" - who runs the target's episode now.
* blob container ``<hub-lower>-largemessages`` - any text too large for a table property.

Keys are escaped (``%XX``) for the characters Azure Tables forbids in keys.
"""
from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import json
import logging
import math
import os
import re
import socket
import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any, AsyncIterator, Awaitable, Callable, Iterable
from urllib.parse import quote

from azure.core import MatchConditions
from azure.core.exceptions import (
    HttpResponseError, ResourceExistsError, ResourceModifiedError, ResourceNotFoundError,
)
from azure.data.tables import TableTransactionError, UpdateMode
from azure.data.tables.aio import TableClient, TableServiceClient
from azure.storage.blob.aio import BlobServiceClient, ContainerClient

from .base import (
    ACTIVE_STATUSES, PENDING, TERMINAL_STATUSES, ConflictError, EntityRecord, EpisodeCommit, Event,
    InstanceQuery, InstanceRecord, Message, ParentRef, Store, WorkItem,
)

log = logging.getLogger("devhost.store")

# Azurite's well-known development account (public, documented; not a secret).
DEV_ACCOUNT = "devstoreaccount1"
DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

SENTINEL = "sentinel"
# A string property holds at most 64 KiB (UTF-16); keep a margin.
MAX_INLINE_BYTES = 60_000
# A table transaction is at most 100 operations and 4 MiB; one op is the sentinel.
MAX_BATCH_ROWS = 99
MAX_BATCH_INLINE_BYTES = 3_000_000
# Event types whose id says what they complete (for dropping re-delivered messages).
_TASK_RESULTS = {5, 6, 8, 9}  # TaskCompleted/Failed, SubOrchestrationInstanceCompleted/Failed
_TIMER_FIRED = 11
_EXECUTION_STARTED = 0

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


# ---------------------------------------------------------------------------- small records
@dataclass
class _Sentinel:
    etag: str
    execution_id: str
    status: str
    history_start: int
    history_end: int
    consumed: frozenset[str]
    read_at: float
    entity: dict[str, Any] = field(repr=False, default_factory=dict)


@dataclass
class _WorkState:
    partition: str
    etag: str
    owner: str
    until: float
    count: int


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


class AzureStore(Store):
    """``Store`` on Azure Tables + Blobs. Safe to share between host processes (``shared``)."""

    shared = True

    def __init__(self, connection_string: str, task_hub: str, *, lease_seconds: float | None = None,
                 poll_interval: float | None = None) -> None:
        self.connection_string = normalize_connection_string(connection_string)
        self.task_hub = validate_task_hub(task_hub)
        self.lease_seconds = float(lease_seconds or os.environ.get("DEVHOST_LEASE_SECONDS") or 15)
        self.poll_interval = float(poll_interval or os.environ.get("DEVHOST_POLL_SECONDS") or 0.5)
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        hub = task_hub
        self.table_names = {
            "instances": f"{hub}Instances", "history": f"{hub}History", "messages": f"{hub}Messages",
            "work": f"{hub}WorkItems", "entities": f"{hub}Entities", "leases": f"{hub}Leases",
        }
        self.container_name = f"{hub.lower()}-largemessages"
        self._service: TableServiceClient | None = None
        self._blob_service: BlobServiceClient | None = None
        self._container: ContainerClient | None = None
        self._t: dict[str, TableClient] = {}
        # Caches (this process only; each is validated against an ETag before use).
        self._sentinels: dict[str, _Sentinel] = {}
        self._resolved: dict[str, tuple[str, set[Any]]] = {}
        self._entity_rows: dict[str, tuple[float, Any]] = {}
        self._msg_index: dict[str, tuple[str, str]] = {}  # message id -> (partition, blob name)
        # Leases held by this process.
        self._held_targets: dict[str, str] = {}  # target -> lease row etag
        self._target_until: dict[str, float] = {}  # target -> end of its lease
        self._held_work: dict[str, _WorkState] = {}
        self._work_state: dict[str, _WorkState] = {}
        self._attempts: dict[str, int] = {}
        self._work_blobs: dict[str, str] = {}
        self._entity_blobs: dict[str, set[str]] = {}
        self._renewer: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ lifecycle
    async def open(self) -> None:
        if self._service is not None:
            return
        self._service = TableServiceClient.from_connection_string(self.connection_string)
        for key, name in self.table_names.items():
            self._t[key] = await self._service.create_table_if_not_exists(name)
        self._blob_service = BlobServiceClient.from_connection_string(self.connection_string)
        self._container = self._blob_service.get_container_client(self.container_name)
        try:
            await self._container.create_container()
        except ResourceExistsError:
            pass
        await self._repair_projections()
        self._renewer = asyncio.create_task(self._renew_loop(), name="devhost-lease-renewal")

    async def close(self) -> None:
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._renewer
            self._renewer = None
        for target in list(self._held_targets):
            with contextlib.suppress(Exception):
                await self._release(target)
        for item_id, state in list(self._held_work.items()):
            with contextlib.suppress(Exception):  # let another process take it at once
                await self._t["work"].update_entity(
                    {"PartitionKey": state.partition, "RowKey": escape_key(item_id), "LeaseUntil": 0.0},
                    mode=UpdateMode.MERGE, etag=state.etag, match_condition=MatchConditions.IfNotModified)
        self._held_work.clear()
        for client in self._t.values():
            await client.close()
        self._t.clear()
        if self._blob_service is not None:
            await self._blob_service.close()
        if self._service is not None:
            await self._service.close()
        self._service = self._blob_service = self._container = None

    async def delete_task_hub(self) -> None:
        """Drop every table and the blob container of this task hub (tests, `reset`)."""
        assert self._service is not None and self._container is not None
        for name in self.table_names.values():
            await self._service.delete_table(name)
        with contextlib.suppress(ResourceNotFoundError):
            await self._container.delete_container()

    # ------------------------------------------------------------------ large text
    def _text(self, entity: dict[str, Any], name: str, text: str | None, owner: str,
              uploads: list[tuple[str, str]], budget: list[int] | None = None) -> None:
        """Put ``text`` inline in ``entity[name]`` or, if too large, in a blob (``name``Blob)."""
        if text is None:
            return
        size = len(text.encode("utf-16-le"))
        if size <= MAX_INLINE_BYTES and (budget is None or budget[0] + size <= MAX_BATCH_INLINE_BYTES):
            entity[name] = text
            if budget is not None:
                budget[0] += size
            return
        blob = f"{quote(owner, safe='')}/{uuid.uuid4().hex}"
        entity[name + "Blob"] = blob
        uploads.append((blob, text))

    async def _upload(self, uploads: list[tuple[str, str]]) -> None:
        if not uploads:
            return
        assert self._container is not None
        await asyncio.gather(*(self._container.upload_blob(name, text.encode("utf-8"), overwrite=True)
                               for name, text in uploads))

    async def _read_text(self, entity: dict[str, Any], name: str) -> str | None:
        blob = entity.get(name + "Blob")
        if blob:
            assert self._container is not None
            try:
                downloader = await self._container.download_blob(blob)
            except ResourceNotFoundError:
                log.warning("devhost: large-message blob %s is missing", blob)
                return None
            return (await downloader.readall()).decode("utf-8")
        return entity.get(name)

    async def _delete_blobs(self, names: Iterable[str]) -> None:
        assert self._container is not None
        container = self._container

        async def one(name: str) -> None:
            with contextlib.suppress(ResourceNotFoundError):
                await container.delete_blob(name)

        names = [n for n in names if n]
        if names:
            await asyncio.gather(*(one(n) for n in names))

    async def _delete_blob_prefix(self, owner: str) -> None:
        assert self._container is not None
        names = [b.name async for b in self._container.list_blobs(name_starts_with=quote(owner, safe="") + "/")]
        await self._delete_blobs(names)

    # ------------------------------------------------------------------ instance rows
    def _instance_entity(self, record: InstanceRecord, uploads: list[tuple[str, str]]) -> dict[str, Any]:
        entity: dict[str, Any] = {
            "PartitionKey": escape_key(record.instance_id),
            "InstanceId": record.instance_id,
            "Name": record.name,
            "ExecutionId": record.execution_id,
            "RuntimeStatus": record.status,
            "CreatedTime": record.created_time,
            "LastUpdatedTime": record.last_updated_time,
            "Generation": record.generation,
            "Parent": json.dumps(asdict(record.parent)) if record.parent else "",
        }
        self._text(entity, "Input", record.input, record.instance_id, uploads)
        self._text(entity, "Output", record.output, record.instance_id, uploads)
        self._text(entity, "CustomStatus", record.custom_status, record.instance_id, uploads)
        return entity

    async def _record_from(self, entity: dict[str, Any], etag: str | None) -> InstanceRecord:
        input_text, output, custom = await asyncio.gather(
            self._read_text(entity, "Input"), self._read_text(entity, "Output"),
            self._read_text(entity, "CustomStatus"))
        parent = json.loads(entity["Parent"]) if entity.get("Parent") else None
        return InstanceRecord(
            instance_id=entity["InstanceId"], name=entity["Name"], execution_id=entity["ExecutionId"],
            status=entity["RuntimeStatus"], input=input_text, created_time=entity["CreatedTime"],
            last_updated_time=entity["LastUpdatedTime"], output=output, custom_status=custom,
            parent=ParentRef(**parent) if parent else None, generation=int(entity.get("Generation") or 0),
            etag=etag)

    @staticmethod
    def _blob_refs(entity: dict[str, Any]) -> set[str]:
        return {v for k, v in entity.items() if k.endswith("Blob") and v}

    def _projection(self, sentinel: dict[str, Any]) -> dict[str, Any]:
        skip = {"RowKey", "HistoryStart", "Consumed", "ConsumedBlob"}
        row = {k: v for k, v in sentinel.items() if k not in skip}
        row["RowKey"] = ""
        return row

    async def _read_sentinel(self, instance_id: str) -> _Sentinel | None:
        try:
            entity = await self._t["history"].get_entity(escape_key(instance_id), SENTINEL)
        except ResourceNotFoundError:
            self._sentinels.pop(instance_id, None)
            return None
        consumed_text = await self._read_text(entity, "Consumed")
        info = _Sentinel(
            etag=entity.metadata["etag"], execution_id=entity["ExecutionId"], status=entity["RuntimeStatus"],
            history_start=int(entity.get("HistoryStart") or 0), history_end=int(entity.get("HistoryEnd") or 0),
            consumed=frozenset(json.loads(consumed_text) if consumed_text else ()), read_at=time.monotonic(),
            entity=dict(entity))
        self._sentinels[instance_id] = info
        return info

    async def _repair_projections(self) -> None:
        """After a crash between an episode's commit and its query-view write, the view still
        shows an active status: rewrite every active view row from its sentinel."""
        statuses = sorted(ACTIVE_STATUSES)
        flt = " or ".join(f"RuntimeStatus eq @s{i}" for i in range(len(statuses)))
        params = {f"s{i}": s for i, s in enumerate(statuses)}
        async for row in self._t["instances"].query_entities(flt, parameters=params):
            instance_id = row.get("InstanceId")
            if not instance_id:
                continue
            sentinel = await self._read_sentinel(instance_id)
            if sentinel is None:
                await self._t["instances"].delete_entity(row["PartitionKey"], "")
                continue
            if (row.get("RuntimeStatus") != sentinel.status or row.get("ExecutionId") != sentinel.execution_id
                    or int(row.get("HistoryEnd") or 0) != sentinel.history_end):
                await self._t["instances"].upsert_entity(self._projection(sentinel.entity), mode=UpdateMode.REPLACE)
            if sentinel.status == PENDING and sentinel.history_end == sentinel.history_start:
                # No episode committed yet: make sure the start message exists (same id: idempotent).
                from ..engine import start_message

                record = await self._record_from(sentinel.entity, sentinel.etag)
                await self._put_message(start_message(record, record.created_time, record.parent))

    # ------------------------------------------------------------------ instances
    async def create_instance(self, record: InstanceRecord, start: Message,
                              overwrite_statuses: Iterable[str]) -> bool:
        existing = await self._read_sentinel(record.instance_id)
        if existing is not None and existing.status not in set(overwrite_statuses):
            return False
        if existing is not None:
            old = await self._query_messages(record.instance_id)
            await self._delete_message_rows([(m.id, escape_key(record.instance_id)) for m in old])
        uploads: list[tuple[str, str]] = []
        entity = self._instance_entity(record, uploads)
        start_at = existing.history_end if existing else 0
        entity.update(RowKey=SENTINEL, HistoryStart=start_at, HistoryEnd=start_at)
        await self._upload(uploads)
        # The query view first (an active status), then the sentinel (the commit point), then the
        # start message. A crash after the view leaves an active view row, which open() repairs
        # from the sentinel; a crash before the start message leaves a Pending instance with no
        # history, for which open() sends the (deterministic) start message again. The start
        # message must not come first: another process that sees it before the sentinel exists
        # would take it for a message to a purged instance and delete it.
        await self._t["instances"].upsert_entity(self._projection(entity), mode=UpdateMode.REPLACE)
        try:
            if existing is None:
                meta = await self._t["history"].create_entity(entity)
            else:
                meta = await self._t["history"].update_entity(
                    entity, mode=UpdateMode.REPLACE, etag=existing.etag,
                    match_condition=MatchConditions.IfNotModified)
        except (ResourceExistsError, ResourceModifiedError, ResourceNotFoundError):
            current = await self._read_sentinel(record.instance_id)
            if current is not None:
                await self._t["instances"].upsert_entity(self._projection(current.entity), mode=UpdateMode.REPLACE)
            return False
        record.etag = meta["etag"]
        await self._put_message(start)
        self._sentinels[record.instance_id] = _Sentinel(
            etag=record.etag, execution_id=record.execution_id, status=record.status, history_start=start_at,
            history_end=start_at, consumed=frozenset(), read_at=time.monotonic(), entity=entity)
        self._resolved[record.instance_id] = (record.etag, set())
        if existing is not None:
            await self._delete_history_rows(record.instance_id, below=start_at)
            await self._delete_blobs(self._blob_refs(existing.entity) - self._blob_refs(entity))
        return True

    async def get_instance(self, instance_id: str) -> InstanceRecord | None:
        sentinel = await self._read_sentinel(instance_id)
        if sentinel is None:
            return None
        return await self._record_from(sentinel.entity, sentinel.etag)

    async def query_instances(self, query: InstanceQuery) -> tuple[list[InstanceRecord], str | None]:
        parts: list[str] = []
        params: dict[str, Any] = {}
        if query.created_from:
            parts.append("CreatedTime ge @cfrom")
            params["cfrom"] = query.created_from
        if query.created_to:
            parts.append("CreatedTime le @cto")
            params["cto"] = query.created_to
        if query.statuses:
            names = sorted(query.statuses)
            # (the SDK substitutes @params in space-separated words: keep the parentheses apart)
            parts.append("( " + " or ".join(f"RuntimeStatus eq @st{i}" for i in range(len(names))) + " )")
            params.update({f"st{i}": s for i, s in enumerate(names)})
        if query.prefix:
            low = escape_key(query.prefix)
            parts.append("PartitionKey ge @plow and PartitionKey lt @phigh")
            params.update(plow=low, phigh=low[:-1] + chr(ord(low[-1]) + 1))
        flt = " and ".join(parts) or "PartitionKey ge ''"
        token = _decode_token(query.continuation)
        rows: list[Any] = []
        while True:
            per_page = (query.top - len(rows)) if query.top else 1000
            pager = self._t["instances"].query_entities(flt, parameters=params, results_per_page=per_page).by_page(
                continuation_token=token)
            try:
                page = await pager.__anext__()
                rows.extend([row async for row in page])
            except StopAsyncIteration:
                pass
            token = pager.continuation_token
            if not token or (query.top and len(rows) >= query.top):
                break
        records = await asyncio.gather(*(self._record_from(row, None) for row in rows))
        return list(records), _encode_token(token)

    # ------------------------------------------------------------------ history
    async def _read_history(self, instance_id: str, sentinel: _Sentinel) -> list[Event]:
        pk = escape_key(instance_id)
        flt = "PartitionKey eq @pk and RowKey ge @low and RowKey lt @high"
        params = {"pk": pk, "low": _row_key(sentinel.history_start), "high": _row_key(sentinel.history_end)}
        rows = [row async for row in self._t["history"].query_entities(flt, parameters=params)]
        rows.sort(key=lambda r: r["RowKey"])
        texts = await asyncio.gather(*(self._read_text(row, "Data") for row in rows))
        events: list[Event] = []
        for row, text in zip(rows, texts):
            if row.get("ExecutionId") != sentinel.execution_id or text is None:
                continue
            data = json.loads(text)
            events.extend(data if isinstance(data, list) else [data])
        self._resolved[instance_id] = (sentinel.etag, _resolved_keys(events))
        return events

    async def get_history(self, instance_id: str) -> list[Event]:
        sentinel = await self._read_sentinel(instance_id)
        if sentinel is None:
            return []
        return await self._read_history(instance_id, sentinel)

    def _history_rows(self, instance_id: str, execution_id: str, events: list[Event], first: int,
                      uploads: list[tuple[str, str]]) -> list[dict[str, Any]]:
        """One row per event; an episode with more events than a batch allows packs several
        events (a JSON array) per row so that the whole episode is one transaction."""
        pk = escape_key(instance_id)
        per_row = max(1, math.ceil(len(events) / (MAX_BATCH_ROWS - 1)))
        budget = [0]
        rows: list[dict[str, Any]] = []
        index = first
        for offset in range(0, len(events), per_row):
            group = events[offset:offset + per_row]
            row: dict[str, Any] = {
                "PartitionKey": pk, "RowKey": _row_key(index), "ExecutionId": execution_id,
                "EventType": int(group[0].get("EventType", -1)), "EventId": int(group[0].get("EventId", -1)),
                "EventCount": len(group),
            }
            if len(group) == 1 and group[0].get("Name"):
                row["Name"] = str(group[0]["Name"])[:200]
            text = json.dumps(group[0] if len(group) == 1 else group, separators=(",", ":"))
            self._text(row, "Data", text, instance_id, uploads, budget)
            rows.append(row)
            index += len(group)
        return rows

    async def commit_episode(self, commit: EpisodeCommit) -> None:
        record = commit.instance
        iid = record.instance_id
        sentinel = self._sentinels.get(iid)
        if sentinel is None or sentinel.etag != record.etag:
            sentinel = await self._read_sentinel(iid)
        if sentinel is None or sentinel.etag != record.etag:
            raise ConflictError(f"instance {iid} changed since it was read")
        start = sentinel.history_end if commit.new_execution else sentinel.history_start
        uploads: list[tuple[str, str]] = []
        rows = self._history_rows(iid, record.execution_id, commit.new_events, sentinel.history_end, uploads)
        new_end = sentinel.history_end + len(commit.new_events)
        entity = self._instance_entity(record, uploads)
        entity.update(RowKey=SENTINEL, HistoryStart=start, HistoryEnd=new_end)
        consumed = list(dict.fromkeys([*commit.consumed, *commit.deleted_messages]))
        self._text(entity, "Consumed", json.dumps(consumed), iid, uploads)

        # 1. Everything the episode sends, under deterministic ids (a redo rewrites the same rows).
        await self._upload(uploads)
        for child, start_message in commit.child_instances:
            await self.create_instance(child, start_message, overwrite_statuses=TERMINAL_STATUSES)
        await asyncio.gather(*(self._put_message(m) for m in commit.messages),
                             *(self._put_work(w) for w in commit.work))
        await self._delete_message_rows([(mid, escape_key(iid)) for mid in commit.deleted_messages])
        # 2. The commit point: history rows + sentinel in one transaction, ETag-checked.
        operations: list[Any] = [("upsert", row, {"mode": UpdateMode.REPLACE}) for row in rows]
        operations.append(("update", entity, {"mode": UpdateMode.REPLACE, "etag": record.etag,
                                              "match_condition": MatchConditions.IfNotModified}))
        try:
            results = await self._t["history"].submit_transaction(operations)
        except TableTransactionError as exc:
            if _is_conflict(exc):
                self._sentinels.pop(iid, None)
                raise ConflictError(f"instance {iid} changed since it was read ({exc.error_code})") from exc
            raise
        record.etag = results[-1]["etag"]
        old_blobs = self._blob_refs(sentinel.entity) - self._blob_refs(entity)
        self._sentinels[iid] = _Sentinel(
            etag=record.etag, execution_id=record.execution_id, status=record.status, history_start=start,
            history_end=new_end, consumed=frozenset(consumed), read_at=time.monotonic(), entity=entity)
        previous = self._resolved.get(iid)
        if commit.new_execution:
            self._resolved[iid] = (record.etag, _resolved_keys(commit.new_events))
        elif previous is not None and previous[0] == sentinel.etag:
            self._resolved[iid] = (record.etag, previous[1] | _resolved_keys(commit.new_events))
        else:
            self._resolved.pop(iid, None)
        # 3. Clean-up; the sentinel's Consumed list hides these messages should we crash first.
        await asyncio.gather(
            self._delete_message_rows([(mid, escape_key(iid)) for mid in commit.consumed]),
            self._t["instances"].upsert_entity(self._projection(entity), mode=UpdateMode.REPLACE),
            self._delete_blobs(old_blobs))
        if commit.new_execution:
            await self._delete_history_rows(iid, below=start)

    async def _delete_history_rows(self, instance_id: str, below: int) -> None:
        """Drop rows of earlier executions (invisible already: they are below HistoryStart)."""
        pk = escape_key(instance_id)
        flt = "PartitionKey eq @pk and RowKey lt @high"
        rows = [row async for row in self._t["history"].query_entities(
            flt, parameters={"pk": pk, "high": _row_key(below)})]
        await self._delete_rows("history", pk, rows)

    async def _delete_rows(self, table: str, pk: str, rows: list[Any]) -> None:
        blobs = [b for row in rows for b in self._blob_refs(row)]
        for offset in range(0, len(rows), 100):
            chunk = rows[offset:offset + 100]
            try:
                await self._t[table].submit_transaction([("delete", {"PartitionKey": pk, "RowKey": r["RowKey"]})
                                                         for r in chunk])
            except TableTransactionError:  # something vanished meanwhile: one by one
                for row in chunk:
                    await self._t[table].delete_entity(pk, row["RowKey"])
        await self._delete_blobs(blobs)

    async def purge_instance(self, instance_id: str) -> bool:
        pk = escape_key(instance_id)
        sentinel = await self._read_sentinel(instance_id)
        await self._t["instances"].delete_entity(pk, "")
        if sentinel is None:
            return False
        await self._t["history"].delete_entity(pk, SENTINEL)
        rows = [row async for row in self._t["history"].query_entities(
            "PartitionKey eq @pk", parameters={"pk": pk})]
        await self._delete_rows("history", pk, rows)
        messages = [row async for row in self._t["messages"].query_entities(
            "PartitionKey eq @pk", parameters={"pk": pk})]
        await self._delete_rows("messages", pk, messages)
        await self._delete_blob_prefix(instance_id)
        self._sentinels.pop(instance_id, None)
        self._resolved.pop(instance_id, None)
        return True

    # ------------------------------------------------------------------ messages
    async def _put_message(self, message: Message) -> None:
        uploads: list[tuple[str, str]] = []
        pk = escape_key(message.target)
        entity: dict[str, Any] = {
            "PartitionKey": pk, "RowKey": escape_key(message.id), "MessageId": message.id,
            "Target": message.target, "Kind": message.kind, "Created": message.created,
            "ExecutionId": message.execution_id or "", "DequeueCount": message.dequeue_count,
        }
        if message.due is not None:
            entity["Due"] = message.due
        self._text(entity, "Body", json.dumps(message.body, separators=(",", ":")), message.target, uploads)
        await self._upload(uploads)
        await self._t["messages"].upsert_entity(entity, mode=UpdateMode.REPLACE)
        self._msg_index[message.id] = (pk, entity.get("BodyBlob", ""))

    async def _message_from(self, row: dict[str, Any]) -> Message:
        body = await self._read_text(row, "Body")
        self._msg_index[row["MessageId"]] = (row["PartitionKey"], row.get("BodyBlob", ""))
        return Message(id=row["MessageId"], target=row["Target"], kind=row["Kind"],
                       body=json.loads(body) if body else {}, created=row["Created"], due=row.get("Due"),
                       execution_id=row.get("ExecutionId") or None,
                       dequeue_count=int(row.get("DequeueCount") or 0))

    async def _query_messages(self, target: str) -> list[Message]:
        rows = [row async for row in self._t["messages"].query_entities(
            "PartitionKey eq @pk", parameters={"pk": escape_key(target)})]
        return list(await asyncio.gather(*(self._message_from(row) for row in rows)))

    async def send_messages(self, messages: list[Message]) -> None:
        await asyncio.gather(*(self._put_message(m) for m in messages))

    async def pending_messages(self) -> list[Message]:
        rows = [row async for row in self._t["messages"].list_entities()]
        return list(await asyncio.gather(*(self._message_from(row) for row in rows)))

    async def messages_for(self, target: str) -> list[Message]:
        """Undelivered messages of ``target``. Messages that a committed episode/batch already
        consumed (a crash came between its commit and the clean-up, or an activity ran again
        after a crash) are dropped here, so the scheduler sees every message once."""
        messages = await self._query_messages(target)
        if not messages:
            return messages
        if target.startswith("@"):
            stale = await self._stale_entity_requests(target, messages)
        else:
            stale = await self._stale_instance_messages(target, messages)
        if stale:
            await self._delete_message_rows([(m.id, escape_key(target)) for m in stale])
            gone = {m.id for m in stale}
            messages = [m for m in messages if m.id not in gone]
        return messages

    async def _stale_instance_messages(self, target: str, messages: list[Message]) -> list[Message]:
        sentinel = self._sentinels.get(target)
        if sentinel is None or time.monotonic() - sentinel.read_at > 1.0:
            sentinel = await self._read_sentinel(target)
        if sentinel is None:
            return []
        stale = [m for m in messages if m.id in sentinel.consumed]
        candidates = [m for m in messages if m.id not in sentinel.consumed and m.kind == "event"
                      and (m.execution_id in (None, sentinel.execution_id)) and _completion_key(m.body) is not None]
        if candidates:
            resolved = self._resolved.get(target)
            if resolved is None or resolved[0] != sentinel.etag:
                await self._read_history(target, sentinel)
                resolved = self._resolved[target]
            stale += [m for m in candidates if _completion_key(m.body) in resolved[1]]
        return stale

    async def _stale_entity_requests(self, target: str, messages: list[Message]) -> list[Message]:
        row = await self._get_entity_row(target)
        self._entity_rows[target] = (time.monotonic(), row)
        if not row:
            return []
        consumed_text = await self._read_text(row, "Consumed")
        consumed = set(json.loads(consumed_text)) if consumed_text else set()
        return [m for m in messages if m.id in consumed]

    async def delete_messages(self, ids: list[str]) -> None:
        known = [(i, self._msg_index[i][0]) for i in ids if i in self._msg_index]
        unknown = [i for i in ids if i not in self._msg_index]
        for message_id in unknown:  # rare: ids this process never read; find their partition
            async for row in self._t["messages"].query_entities(
                    "RowKey eq @rk", parameters={"rk": escape_key(message_id)}):
                known.append((message_id, row["PartitionKey"]))
                self._msg_index[message_id] = (row["PartitionKey"], row.get("BodyBlob", ""))
        await self._delete_message_rows(known)

    async def _delete_message_rows(self, rows: list[tuple[str, str]]) -> None:
        if not rows:
            return
        blobs = []
        for message_id, _ in rows:
            entry = self._msg_index.pop(message_id, None)
            if entry and entry[1]:
                blobs.append(entry[1])
        await asyncio.gather(*(self._t["messages"].delete_entity(pk, escape_key(mid)) for mid, pk in rows))
        await self._delete_blobs(blobs)

    # ------------------------------------------------------------------ activity work
    async def _put_work(self, item: WorkItem) -> None:
        uploads: list[tuple[str, str]] = []
        pk = escape_key(item.instance_id)
        entity: dict[str, Any] = {
            "PartitionKey": pk, "RowKey": escape_key(item.id), "WorkId": item.id,
            "InstanceId": item.instance_id, "ExecutionId": item.execution_id, "Seq": item.seq,
            "Name": item.name, "Created": item.created,
            "HttpRequest": json.dumps(item.http_request) if item.http_request is not None else "",
        }
        self._text(entity, "Input", item.input, item.instance_id, uploads)
        await self._upload(uploads)
        # MERGE: a redo of the episode must not reset the lease/attempts of a running item.
        meta = await self._t["work"].upsert_entity(entity, mode=UpdateMode.MERGE)
        if entity.get("InputBlob"):
            self._work_blobs[item.id] = entity["InputBlob"]
        self._work_state[item.id] = _WorkState(pk, meta["etag"], "", 0.0, item.dequeue_count)

    async def _work_from(self, row: dict[str, Any]) -> WorkItem:
        text = await self._read_text(row, "Input")
        state = _WorkState(row["PartitionKey"], row.metadata["etag"], row.get("LeaseOwner") or "",
                           float(row.get("LeaseUntil") or 0.0), int(row.get("DequeueCount") or 0))
        if row["WorkId"] not in self._held_work:
            self._work_state[row["WorkId"]] = state
        if row.get("InputBlob"):
            self._work_blobs[row["WorkId"]] = row["InputBlob"]
        return WorkItem(id=row["WorkId"], instance_id=row["InstanceId"], execution_id=row["ExecutionId"],
                        seq=int(row["Seq"]), name=row["Name"], input=text, created=row["Created"],
                        http_request=json.loads(row["HttpRequest"]) if row.get("HttpRequest") else None,
                        dequeue_count=state.count)

    async def pending_work(self) -> list[WorkItem]:
        rows = [row async for row in self._t["work"].list_entities()]
        return list(await asyncio.gather(*(self._work_from(row) for row in rows)))

    def work_claimable(self, item: WorkItem) -> bool:
        if item.id in self._held_work:
            return False
        state = self._work_state.get(item.id)
        return state is None or not state.owner or state.owner == self.owner or state.until <= time.time()

    async def claim_work(self, item: WorkItem) -> bool:
        """Take the item's lease (ETag-checked update of LeaseOwner/LeaseUntil/DequeueCount)."""
        for _ in range(3):
            if not self.work_claimable(item):
                return False
            state = self._work_state.get(item.id)
            if state is None:
                try:
                    row = await self._t["work"].get_entity(escape_key(item.instance_id), escape_key(item.id))
                except ResourceNotFoundError:
                    return False  # completed meanwhile
                await self._work_from(row)
                continue
            count = state.count + 1
            until = time.time() + self.lease_seconds
            try:
                meta = await self._t["work"].update_entity(
                    {"PartitionKey": state.partition, "RowKey": escape_key(item.id), "LeaseOwner": self.owner,
                     "LeaseUntil": until, "DequeueCount": count},
                    mode=UpdateMode.MERGE, etag=state.etag, match_condition=MatchConditions.IfNotModified)
            except ResourceModifiedError:
                self._work_state.pop(item.id, None)
                continue
            except ResourceNotFoundError:
                self._work_state.pop(item.id, None)
                return False
            held = _WorkState(state.partition, meta["etag"], self.owner, until, count)
            self._held_work[item.id] = held
            self._work_state[item.id] = held
            self._attempts[item.id] = count
            item.dequeue_count = count
            return True
        return False

    async def record_work_attempt(self, item: WorkItem) -> int:
        if item.id in self._attempts:  # counted when the lease was taken
            item.dequeue_count = self._attempts.pop(item.id)
            return item.dequeue_count
        pk, rk = escape_key(item.instance_id), escape_key(item.id)
        for _ in range(5):
            try:
                row = await self._t["work"].get_entity(pk, rk)
            except ResourceNotFoundError:
                return item.dequeue_count
            count = int(row.get("DequeueCount") or 0) + 1
            try:
                await self._t["work"].update_entity(
                    {"PartitionKey": pk, "RowKey": rk, "DequeueCount": count}, mode=UpdateMode.MERGE,
                    etag=row.metadata["etag"], match_condition=MatchConditions.IfNotModified)
            except (ResourceModifiedError, ResourceNotFoundError):
                continue
            item.dequeue_count = count
            return count
        return item.dequeue_count

    async def complete_work(self, item: WorkItem, result: Message) -> None:
        # Result first, then the work row: a crash in between runs the activity again
        # (at-least-once) and its second result is dropped by messages_for.
        await self._put_message(result)
        await self._t["work"].delete_entity(escape_key(item.instance_id), escape_key(item.id))
        blob = self._work_blobs.pop(item.id, None)
        if blob:
            await self._delete_blobs([blob])
        self._held_work.pop(item.id, None)
        self._work_state.pop(item.id, None)
        self._attempts.pop(item.id, None)

    # ------------------------------------------------------------------ leases
    def lease(self, target: str) -> Any:
        return self._lease(target)

    @contextlib.asynccontextmanager
    async def _lease(self, target: str) -> AsyncIterator[bool]:
        if not await self._claim(target):
            yield False
            return
        try:
            yield True
        finally:
            await self._release(target)

    async def _claim(self, target: str) -> bool:
        pk = escape_key(target)
        table = self._t["leases"]
        for _ in range(2):
            now = time.time()
            entity = {"PartitionKey": pk, "RowKey": "", "Target": target, "Owner": self.owner,
                      "Until": now + self.lease_seconds}
            try:
                meta = await table.create_entity(entity)
                self._held_targets[target] = meta["etag"]
                self._target_until[target] = entity["Until"]
                return True
            except ResourceExistsError:
                pass
            try:
                row = await table.get_entity(pk, "")
            except ResourceNotFoundError:
                continue
            if row.get("Owner") != self.owner and float(row.get("Until") or 0) > now:
                return False
            try:
                meta = await table.update_entity(entity, mode=UpdateMode.REPLACE, etag=row.metadata["etag"],
                                                 match_condition=MatchConditions.IfNotModified)
            except (ResourceModifiedError, ResourceNotFoundError):
                return False
            self._held_targets[target] = meta["etag"]
            self._target_until[target] = entity["Until"]
            return True
        return False

    async def _release(self, target: str) -> None:
        etag = self._held_targets.pop(target, None)
        self._target_until.pop(target, None)
        if etag is None:
            return
        try:
            await self._t["leases"].delete_entity(escape_key(target), "", etag=etag,
                                                  match_condition=MatchConditions.IfNotModified)
        except (ResourceModifiedError, ResourceNotFoundError):
            pass
        except HttpResponseError as exc:
            log.warning("devhost: releasing the lease on %s failed: %s", target, exc)

    async def _renew_loop(self) -> None:
        # Each renewal is a task of its own and a tick never waits for them: renewed one after
        # the other (or a tick waiting for the slowest), a few hundred held leases would wait
        # behind each other, each queued behind a busy Azurite, and the last ones would expire.
        in_flight: dict[str, asyncio.Task[None]] = {}
        try:
            while True:
                await asyncio.sleep(self.lease_seconds / 6)
                for key, renew in self._due_renewals():
                    if key not in in_flight:
                        in_flight[key] = task = asyncio.create_task(self._renew_logged(renew))
                        task.add_done_callback(lambda _, key=key: in_flight.pop(key, None))
        finally:
            for task in list(in_flight.values()):
                task.cancel()

    def _due_renewals(self) -> list[tuple[str, Callable[[], Awaitable[None]]]]:
        """Leases (or renewals) older than a third of the lease time: most episodes and
        activities finish before they need one; each is renewed before half its time has passed."""
        due = time.time() + self.lease_seconds * 2 / 3
        renewals: list[tuple[str, Callable[[], Awaitable[None]]]] = [
            (f"target:{target}", functools.partial(self._renew_target, target, etag))
            for target, etag in self._held_targets.items() if self._target_until.get(target, 0.0) < due]
        renewals += [(f"work:{item_id}", functools.partial(self._renew_work, item_id, state))
                     for item_id, state in self._held_work.items() if state.until < due]
        return renewals

    @staticmethod
    async def _renew_logged(renew: Callable[[], Awaitable[None]]) -> None:
        try:
            await renew()
        except Exception:
            log.warning("devhost: lease renewal failed", exc_info=True)

    async def _renew_target(self, target: str, etag: str) -> None:
        until = time.time() + self.lease_seconds
        try:
            meta = await self._t["leases"].update_entity(
                {"PartitionKey": escape_key(target), "RowKey": "", "Target": target, "Owner": self.owner,
                 "Until": until}, mode=UpdateMode.REPLACE, etag=etag,
                match_condition=MatchConditions.IfNotModified)
        except (ResourceModifiedError, ResourceNotFoundError):
            if self._held_targets.get(target) == etag:  # (not released meanwhile)
                log.warning("devhost: lost the lease on %s", target)
                self._held_targets.pop(target, None)
                self._target_until.pop(target, None)
            return
        if target in self._held_targets:
            self._held_targets[target] = meta["etag"]
            self._target_until[target] = until

    async def _renew_work(self, item_id: str, state: _WorkState) -> None:
        until = time.time() + self.lease_seconds
        try:
            meta = await self._t["work"].update_entity(
                {"PartitionKey": state.partition, "RowKey": escape_key(item_id), "LeaseUntil": until},
                mode=UpdateMode.MERGE, etag=state.etag, match_condition=MatchConditions.IfNotModified)
        except (ResourceModifiedError, ResourceNotFoundError) as exc:
            if self._held_work.get(item_id) is state:  # (not completed by this process meanwhile)
                if isinstance(exc, ResourceModifiedError):  # (not found: its completion got there first)
                    log.warning("devhost: lost the lease on work item %s", item_id)
                self._held_work.pop(item_id, None)
            return
        if item_id in self._held_work:
            state.etag, state.until = meta["etag"], until

    # ------------------------------------------------------------------ entities
    async def _get_entity_row(self, entity_id: str) -> dict[str, Any] | None:
        try:
            return await self._t["entities"].get_entity(escape_key(entity_id), "")
        except ResourceNotFoundError:
            return None

    async def _entity_from(self, row: dict[str, Any]) -> EntityRecord:
        state = await self._read_text(row, "State")
        self._entity_blobs[row["EntityId"]] = self._blob_refs(row)
        return EntityRecord(entity_id=row["EntityId"], name=row["Name"], key=row["Key"], exists=bool(row["Exists"]),
                            state=state, last_modified=row["LastModified"], etag=row.metadata["etag"])

    async def get_entity(self, entity_id: str) -> EntityRecord | None:
        cached = self._entity_rows.pop(entity_id, None)  # read a moment ago by messages_for
        if cached is not None and time.monotonic() - cached[0] < 1.0:
            row = cached[1]
        else:
            row = await self._get_entity_row(entity_id)
        return await self._entity_from(row) if row else None

    async def list_entities(self, name: str | None = None) -> list[EntityRecord]:
        if name is None:
            rows = [row async for row in self._t["entities"].list_entities()]
        else:
            rows = [row async for row in self._t["entities"].query_entities(
                "Name eq @name", parameters={"name": name.lower()})]
        records = await asyncio.gather(*(self._entity_from(row) for row in rows))
        return sorted(records, key=lambda r: r.entity_id)

    async def commit_entity_batch(self, record: EntityRecord, consumed: list[str],
                                  messages: list[Message]) -> None:
        self._entity_rows.pop(record.entity_id, None)
        pk = escape_key(record.entity_id)
        uploads: list[tuple[str, str]] = []
        entity: dict[str, Any] = {
            "PartitionKey": pk, "RowKey": "", "EntityId": record.entity_id, "Name": record.name,
            "Key": record.key, "Exists": record.exists, "LastModified": record.last_modified,
        }
        self._text(entity, "State", record.state, record.entity_id, uploads)
        self._text(entity, "Consumed", json.dumps(consumed), record.entity_id, uploads)
        await self._upload(uploads)
        # 1. responses, 2. the new state + the ids it consumed (commit point), 3. clean-up.
        await asyncio.gather(*(self._put_message(m) for m in messages))
        try:
            if record.etag:
                meta = await self._t["entities"].update_entity(
                    entity, mode=UpdateMode.REPLACE, etag=record.etag, match_condition=MatchConditions.IfNotModified)
            else:
                meta = await self._t["entities"].create_entity(entity)
        except (ResourceModifiedError, ResourceExistsError, ResourceNotFoundError) as exc:
            raise ConflictError(f"entity {record.entity_id} changed since it was read") from exc
        record.etag = meta["etag"]
        await self._delete_message_rows([(mid, pk) for mid in consumed])
        old_blobs = self._entity_blobs.get(record.entity_id, set()) - self._blob_refs(entity)
        self._entity_blobs[record.entity_id] = self._blob_refs(entity)
        await self._delete_blobs(old_blobs)


# ---------------------------------------------------------------------------- helpers
def _completion_key(event: dict[str, Any]) -> Any:
    """What an incoming event resolves: ("task", id), ("timer", id), "start" or None."""
    kind = event.get("EventType")
    if kind in _TASK_RESULTS:
        return ("task", event.get("TaskScheduledId"))
    if kind == _TIMER_FIRED:
        return ("timer", event.get("TimerId"))
    if kind == _EXECUTION_STARTED:
        return "start"
    return None


def _resolved_keys(events: list[Event]) -> set[Any]:
    return {key for key in (_completion_key(e) for e in events) if key is not None}


