"""Instance rows: the sentinel (authoritative state), the query view, create/read/query/purge."""
from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import asdict
from typing import Any, Iterable

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import UpdateMode

from ..base import ACTIVE_STATUSES, PENDING, TERMINAL_STATUSES, InstanceQuery, InstanceRecord, Message, ParentRef
from .keys import SENTINEL, _decode_token, _encode_token, escape_key
from .client import AzureBase, _Sentinel


# Columns of the view that a commit may leave stale, and the statuses whose rows may have them.
VOLATILE_VIEW_COLUMNS = ("LastUpdatedTime", "HistoryEnd")
_MAY_LAG = ACTIVE_STATUSES - {PENDING}
# What a query answers or filters on, besides those (the blob names too: a rewritten large value
# gets a new blob and the old one is deleted).
_VIEW_KEY_COLUMNS = ("Name", "ExecutionId", "RuntimeStatus", "CreatedTime", "Generation", "Parent", "Input",
                     "InputBlob", "Output", "OutputBlob", "CustomStatus", "CustomStatusBlob")


def view_key(row: dict[str, Any]) -> tuple[str, ...]:
    return tuple("\0" if row.get(name) is None else str(row[name]) for name in _VIEW_KEY_COLUMNS)


class InstancesMixin(AzureBase):
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


    def _projection(self, sentinel: dict[str, Any]) -> dict[str, Any]:
        skip = {"RowKey", "HistoryStart", "Consumed", "ConsumedBlob", "Outbox"}
        row = {k: v for k, v in sentinel.items() if k not in skip}
        row["RowKey"] = ""
        return row

    # ------------------------------------------------------------------ the query view
    # The view row of an instance is rewritten by a commit only when something a query filters on
    # or answers other than lastUpdatedTime changed (``view_key``): a chain's middle episodes
    # leave it alone. Queries take lastUpdatedTime of the active rows that may lag from the
    # sentinel (``_freshen``), so they answer what the extension's Instances table says
    # (DTFx rewrites that row every episode). The holder of the lease remembers the key it wrote
    # last (``_view_written``) only while its lease is unbroken.
    async def _write_view(self, instance_id: str, projection: dict[str, Any]) -> None:
        await self._t["instances"].upsert_entity(projection, mode=UpdateMode.REPLACE)
        if instance_id in self._held_targets:
            self._view_written[instance_id] = view_key(projection)

    def _view_current(self, instance_id: str, projection: dict[str, Any]) -> bool:
        return self._view_written.get(instance_id) == view_key(projection)

    async def _freshen(self, row: Any) -> Any:
        """``row`` with the volatile columns of its sentinel when only those differ."""
        if row.get("RuntimeStatus") not in _MAY_LAG or not row.get("InstanceId"):
            return row
        instance_id = row["InstanceId"]
        sentinel = await self._stored_sentinel(instance_id)
        if sentinel is None or view_key(sentinel.entity) != view_key(row):
            return row  # (gone, or moved on: its holder rewrites the row right after its commit)
        return {**row, **{name: sentinel.entity[name] for name in VOLATILE_VIEW_COLUMNS if name in sentinel.entity}}

    async def _read_sentinel(self, instance_id: str) -> _Sentinel | None:
        try:
            entity = await self._t["history"].get_entity(escape_key(instance_id), SENTINEL)
        except ResourceNotFoundError:
            self._sentinels.pop(instance_id, None)
            self._not_current(instance_id)
            return None
        consumed_text = await self._read_text(entity, "Consumed")
        info = _Sentinel(
            etag=entity.metadata["etag"], execution_id=entity["ExecutionId"], status=entity["RuntimeStatus"],
            history_start=int(entity.get("HistoryStart") or 0), history_end=int(entity.get("HistoryEnd") or 0),
            consumed=frozenset(json.loads(consumed_text) if consumed_text else ()), read_at=time.monotonic(),
            outbox=entity.get("Outbox") or "", entity=dict(entity))
        self._sentinels[instance_id] = info
        if instance_id in self._held_targets:  # read under our lease: nobody else commits meanwhile
            self._current.add(instance_id)
        return info

    # ------------------------------------------------------------------ instances
    async def create_instance(self, record: InstanceRecord, start: Message,
                              overwrite_statuses: Iterable[str], *, new_id: bool = False) -> bool:
        existing = None if new_id else await self._read_sentinel(record.instance_id)
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
        view = await self._t["instances"].upsert_entity(self._projection(entity), mode=UpdateMode.REPLACE)
        try:
            if existing is None:
                meta = await self._t["history"].create_entity(entity)
            else:
                meta = await self._t["history"].update_entity(
                    entity, mode=UpdateMode.REPLACE, etag=existing.etag,
                    match_condition=MatchConditions.IfNotModified)
        except (ResourceExistsError, ResourceModifiedError, ResourceNotFoundError):
            current = await self._read_sentinel(record.instance_id)
            if current is not None:  # undo the view write, unless a newer one came meanwhile
                with contextlib.suppress(ResourceModifiedError, ResourceNotFoundError):
                    await self._t["instances"].update_entity(
                        self._projection(current.entity), mode=UpdateMode.REPLACE, etag=view["etag"],
                        match_condition=MatchConditions.IfNotModified)
            return False
        record.etag = meta["etag"]
        await self._put_message(start)
        self._seed_inbox(record.instance_id, record.etag, start)
        self._sentinels[record.instance_id] = _Sentinel(
            etag=record.etag, execution_id=record.execution_id, status=record.status, history_start=start_at,
            history_end=start_at, consumed=frozenset(), read_at=time.monotonic(), outbox="", entity=entity,
            written_here=True)
        self._resolved[record.instance_id] = (record.etag, set())
        if existing is not None:
            await self._delete_history_rows(record.instance_id, below=start_at)
            await self._delete_blobs(self._blob_refs(existing.entity) - self._blob_refs(entity))
        return True

    async def instance_for_episode(self, instance_id: str) -> InstanceRecord | None:
        """As ``get_instance``, and under a lease just taken, the active state this process wrote
        last (its start or its last commit) or read in the last second, without a read: should
        another process have moved the instance on meanwhile, the episode's ETag-checked commit
        fails and the scheduler runs it again from a fresh read (status reads still wait for a
        read under the lease)."""
        known = self._sentinels.get(instance_id)
        if (known is not None and instance_id in self._held_targets and known.status not in TERMINAL_STATUSES
                and (known.written_here or time.monotonic() - known.read_at <= 1.0)):
            return await self._record_from(known.entity, known.etag)
        return await self.get_instance(instance_id)

    async def get_instance(self, instance_id: str) -> InstanceRecord | None:
        """The stored state: from memory while this process holds the instance's lease without a
        break (only its own commits move an active instance on then: ``_current_sentinel``), which
        answers the episode's read and the status reads of waiters and clients alike."""
        sentinel = await self._stored_sentinel(instance_id)
        if sentinel is None:
            return None
        return await self._record_from(sentinel.entity, sentinel.etag)

    async def _stored_sentinel(self, instance_id: str) -> _Sentinel | None:
        """The stored sentinel: from memory when ``_current_sentinel`` may answer, else read."""
        return self._current_sentinel(instance_id) or await self._read_sentinel(instance_id)

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
        rows = await asyncio.gather(*(self._freshen(row) for row in rows))
        records = await asyncio.gather(*(self._record_from(row, None) for row in rows))
        return list(records), _encode_token(token)

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
        self._not_current(instance_id)
        self._inbox_seeds.pop(instance_id, None)
        self._resolved.pop(instance_id, None)
        self._outbox_kept.pop(instance_id, None)
        return True

