"""Entity rows: read, list, and commit a batch of operations."""
from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables import TableTransactionError, UpdateMode

from ..base import ConflictError, EntityRecord, Message
from .client import AzureBase
from .keys import _is_conflict, escape_key
from .outbox import encode

# How long an entity remembers a processed request id, to drop a re-dispatched copy: the
# extension's default EntityMessageReorderWindowInMinutes (30), within which it deduplicates.
DEDUP_WINDOW_SECONDS = 30 * 60


class EntitiesMixin(AzureBase):
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
        flt, params = "RowKey eq ''", {}  # (not the outbox rows)
        if name is not None:
            flt, params = "RowKey eq '' and Name eq @name", {"name": name.lower()}
        rows = [row async for row in self._t["entities"].query_entities(flt, parameters=params)]
        records = await asyncio.gather(*(self._entity_from(row) for row in rows))
        return sorted(records, key=lambda r: r.entity_id)

    async def _processed_ids(self, row: dict[str, Any]) -> dict[str, float]:
        """The entity's dedup window: ids of the requests it processed, with wall-clock times."""
        text = await self._read_text(row, "Processed")
        processed = json.loads(text) if text else {}
        self._processed[row["EntityId"]] = (row.metadata["etag"], processed)
        return processed

    async def commit_entity_batch(self, record: EntityRecord, consumed: list[str],
                                  messages: list[Message]) -> None:
        self._entity_rows.pop(record.entity_id, None)
        pk = escape_key(record.entity_id)
        now = time.time()
        known = self._processed.get(record.entity_id)
        if record.etag and (known is None or known[0] != record.etag):
            row = await self._get_entity_row(record.entity_id)
            known = (row.metadata["etag"], await self._processed_ids(row)) if row else None
        processed = {mid: at for mid, at in (known[1] if known else {}).items() if now - at < DEDUP_WINDOW_SECONDS}
        processed.update(dict.fromkeys(consumed, now))
        uploads: list[tuple[str, str]] = []
        entity: dict[str, Any] = {
            "PartitionKey": pk, "RowKey": "", "EntityId": record.entity_id, "Name": record.name,
            "Key": record.key, "Exists": record.exists, "LastModified": record.last_modified, "Outbox": "",
        }
        self._text(entity, "State", record.state, record.entity_id, uploads)
        self._text(entity, "Processed", json.dumps(processed, separators=(",", ":")), record.entity_id, uploads)
        outbox_text = encode(messages)
        operations: list[Any] = []
        if outbox_text is not None:
            outbox = self._outbox_row(pk, record.entity_id, outbox_text, uploads)
            entity["Outbox"] = outbox["RowKey"]
            operations.append(("upsert", outbox, {"mode": UpdateMode.REPLACE}))
        await self._upload(uploads)
        # 1. The commit point: new state + processed ids + the responses (outbox row), one transaction.
        if record.etag:
            operations.append(("update", entity, {"mode": UpdateMode.REPLACE, "etag": record.etag,
                                                  "match_condition": MatchConditions.IfNotModified}))
        else:
            operations.append(("create", entity))
        try:
            results = await self._t["entities"].submit_transaction(operations)
        except TableTransactionError as exc:
            if _is_conflict(exc):
                self._processed.pop(record.entity_id, None)
                raise ConflictError(f"entity {record.entity_id} changed since it was read") from exc
            raise
        record.etag = results[-1]["etag"]
        self._processed[record.entity_id] = (record.etag, processed)
        # 2. Dispatch the responses, then delete the outbox row. 3. Clean-up.
        if outbox_text is not None:
            await self._dispatch("entities", pk, outbox["RowKey"], outbox_text, self._blob_refs(outbox))
        await self._delete_message_rows([(mid, pk) for mid in consumed])
        old_blobs = self._entity_blobs.get(record.entity_id, set()) - self._blob_refs(entity)
        self._entity_blobs[record.entity_id] = self._blob_refs(entity)
        await self._delete_blobs(old_blobs)
