"""The transactional outbox: what an episode or entity batch sends is stored with its commit.

An episode's messages, activity work items, sub-orchestration creations and timer deletions
(an entity batch's responses) are written as one ``outbox-<uuid>`` row in the same table
transaction as the commit itself, and the committed row (sentinel / entity row) names it in
``Outbox``. Only after the commit are they dispatched (idempotent upserts under deterministic
ids) and the outbox row deleted. An outbox left behind by a crash is dispatched again before
the target's next step (``messages_for``, ``commit_*``), by the process that takes over the
dead one's lease, and by every process at ``open()`` (``recovery.py``).
So nothing a lost attempt sent is ever visible; a re-dispatch can only repeat what a
committed step sent, and receivers drop such repeats (docs/storage.md).
"""
from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import asdict
from datetime import datetime
from typing import Any, Collection, Iterable, Sequence

from azure.core.exceptions import ResourceNotFoundError

from ..base import SUB_ORCHESTRATION_OVERWRITE, InstanceRecord, Message, ParentRef, WorkItem
from .client import AzureBase, _LazyWork
from .keys import escape_key

OUTBOX_PREFIX = "outbox-"
OUTBOX_FILTER = "RowKey ge 'outbox-' and RowKey lt 'outbox.'"


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    raise TypeError(f"cannot store {type(value).__name__} in an outbox")


def _hook(value: dict[str, Any]) -> Any:
    if len(value) == 1 and "$dt" in value:
        return datetime.fromisoformat(value["$dt"])
    return value


def encode(messages: Sequence[Message], work: Sequence[WorkItem] = (),
           children: Sequence[tuple[InstanceRecord, Message]] = (), deleted: Sequence[str] = ()) -> str | None:
    """The outbox text, or None when there is nothing to send."""
    if not (messages or work or children or deleted):
        return None
    payload = {"messages": [asdict(m) for m in messages], "work": [asdict(w) for w in work],
               "children": [[asdict(r), asdict(s)] for r, s in children], "deleted": list(deleted)}
    return json.dumps(payload, default=_default, separators=(",", ":"))


def _record(data: dict[str, Any]) -> InstanceRecord:
    parent = data.pop("parent", None)
    return InstanceRecord(**data, parent=ParentRef(**parent) if parent else None)


class OutboxMixin(AzureBase):
    def _outbox_row(self, pk: str, owner: str, text: str, uploads: list[tuple[str, str]],
                    budget: list[int] | None = None) -> dict[str, Any]:
        row: dict[str, Any] = {"PartitionKey": pk, "RowKey": OUTBOX_PREFIX + uuid.uuid4().hex}
        self._text(row, "Data", text, owner, uploads, budget)
        return row

    async def _dispatch(self, table: str, pk: str, key: str, text: str | None = None,
                        blobs: Iterable[str] = (), keep_for: str | None = None,
                        lease_work: Collection[str] = ()) -> None:
        """Send what outbox row ``key`` holds, then delete the row (and its blob). ``keep_for``
        (an instance this process holds the lease of): keep the row; the instance's next commit
        deletes it in its own transaction, or the lease release does (``_drop_kept_outbox``).
        ``lease_work``: work items to store leased by this process (the commit's own dispatch)."""
        if text is None:
            try:
                row = await self._t[table].get_entity(pk, key)
            except ResourceNotFoundError:
                self._outbox_sent.add(key)  # dispatched and deleted already
                return
            text = await self._read_text(row, "Data")
            blobs = self._blob_refs(row)
        payload = json.loads(text or "{}", object_hook=_hook)
        for record, start in payload.get("children", ()):
            await self._create_child(_record(record), Message(**start))
        work = [WorkItem(**w) for w in payload.get("work", ())]
        kept = keep_for is not None and not blobs
        lazy = {item.id for item in work if kept and item.id in lease_work}  # (work.py: the kept row holds them)
        for item in work:
            if item.id in lazy:
                self._add_lazy_work(_LazyWork(item))
        await asyncio.gather(*(self._put_message(Message(**m)) for m in payload.get("messages", ())),
                             *(self._put_work(item, item.id in lease_work) for item in work if item.id not in lazy))
        deleted = payload.get("deleted") or []
        if deleted:
            await self._delete_message_rows([(mid, pk) for mid in deleted])
        if kept:
            assert keep_for is not None
            self._outbox_kept[keep_for] = key
            return
        await self._t[table].delete_entity(pk, key)  # (the SDK answers a 404 with nothing)
        await self._delete_blobs(blobs)
        self._mark_sent(key)

    def _mark_sent(self, key: str) -> None:
        """Outbox row ``key`` was dispatched and deleted (or goes with a commit): never again."""
        if len(self._outbox_sent) >= 100_000:  # (bounded: forgetting only costs a read that finds nothing)
            self._outbox_sent.clear()
        self._outbox_sent.add(key)

    async def _flush_outbox(self, table: str, target: str, key: str) -> None:
        """Dispatch a committed outbox that may still be pending (a crash came before its end)."""
        if key and key not in self._outbox_sent and self._outbox_kept.get(target) != key:
            await self._dispatch(table, escape_key(target), key)

    async def _drop_kept_outbox(self, instance_id: str) -> None:
        """Delete the dispatched outbox row this process kept for the instance's next commit (the
        lease goes: another process would take the row for one never dispatched and send it again)."""
        key = self._outbox_kept.pop(instance_id, None)
        await self._store_lazy_work(instance_id)  # (what it holds that still runs here)
        if key:
            await self._t["history"].delete_entity(escape_key(instance_id), key)
            self._mark_sent(key)

    async def _create_child(self, child: InstanceRecord, start: Message) -> None:
        """Create a sub-orchestration once: a re-dispatch finds it under the same execution id."""
        existing = await self._read_sentinel(child.instance_id)
        if existing is not None and existing.execution_id == child.execution_id:
            return
        await self.create_instance(child, start, overwrite_statuses=SUB_ORCHESTRATION_OVERWRITE)
