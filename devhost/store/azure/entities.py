"""Entity rows: read, list, and commit a batch of operations."""
from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import UpdateMode

from ..base import ConflictError, EntityRecord, Message
from .keys import escape_key
from .client import AzureBase


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


