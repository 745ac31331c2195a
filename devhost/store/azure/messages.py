"""Messages to instances and entities, and dropping the ones a committed step consumed already."""
from __future__ import annotations

import asyncio
import json
import time
from typing import Any, Iterable

from azure.data.tables import TableTransactionError, UpdateMode

from ..base import Message
from .keys import MESSAGE_ROWS, escape_key
from .client import AzureBase
from .history import _message_key


class MessagesMixin(AzureBase):
    def _message_entity(self, message: Message, uploads: list[tuple[str, str]]) -> dict[str, Any]:
        pk = escape_key(message.target)
        entity: dict[str, Any] = {
            "PartitionKey": pk, "RowKey": escape_key(message.id), "MessageId": message.id,
            "Target": message.target, "Kind": message.kind, "Created": message.created,
            "ExecutionId": message.execution_id or "", "DequeueCount": message.dequeue_count,
        }
        if message.due is not None:
            entity["Due"] = message.due
        self._text(entity, "Body", json.dumps(message.body, separators=(",", ":")), message.target, uploads)
        return entity

    async def _put_message(self, message: Message) -> None:
        uploads: list[tuple[str, str]] = []
        entity = self._message_entity(message, uploads)
        await self._upload(uploads)
        await self._t["messages"].upsert_entity(entity, mode=UpdateMode.REPLACE)
        self._msg_index[message.id] = (entity["PartitionKey"], entity.get("BodyBlob", ""))
        self._inbox_add(message)

    def _defer_deletes(self, target: str, ids: list[str]) -> None:
        if len(self._deferred_deletes) >= 100_000:  # (bounded: a forgotten id is dropped by messages_for)
            self._deferred_deletes.clear()
        self._deferred_deletes.setdefault(target, set()).update(ids)

    async def _put_result(self, message: Message, work_row: tuple[str, str] | None) -> None:
        """An activity result, in one transaction with the deletion of its work item
        (``work_row``: its keys, in the same partition, work.py) and of the messages that the
        instance's last episode consumed. Until then the sentinel's ``Consumed`` list hides
        those: messages_for drops them, and the next episode's commit replaces that list only
        after its messages_for ran (docs/storage.md). If a row is gone already (the item ran
        again elsewhere after this lease ran out, and finished first), the result is stored
        alone: a repeat, which messages_for drops."""
        pending = sorted(self._deferred_deletes.pop(message.target, ()))
        if work_row is None and not pending:
            return await self._put_message(message)
        uploads: list[tuple[str, str]] = []
        entity = self._message_entity(message, uploads)
        await self._upload(uploads)
        pk = entity["PartitionKey"]
        operations: list[Any] = [("upsert", entity, {"mode": UpdateMode.REPLACE})]
        if work_row is not None:  # (None: a lazy work item, work.py)
            operations.append(("delete", {"PartitionKey": work_row[0], "RowKey": work_row[1]}))
        operations += [("delete", {"PartitionKey": pk, "RowKey": escape_key(mid)}) for mid in pending]
        blobs = [entry[1] for entry in (self._msg_index.pop(mid, None) for mid in pending) if entry and entry[1]]
        try:
            await self._t["messages"].submit_transaction(operations)
        except TableTransactionError:
            await self._t["messages"].upsert_entity(entity, mode=UpdateMode.REPLACE)
            if work_row is not None:
                await self._t["messages"].delete_entity(*work_row)  # (the SDK answers a 404 with nothing)
            await self._delete_message_rows([(mid, pk) for mid in pending])  # (index entries popped above)
        self._msg_index[message.id] = (pk, entity.get("BodyBlob", ""))
        self._inbox_add(message)
        await self._delete_blobs(blobs)

    async def _message_from(self, row: dict[str, Any]) -> Message:
        body = await self._read_text(row, "Body")
        self._msg_index[row["MessageId"]] = (row["PartitionKey"], row.get("BodyBlob", ""))
        return Message(id=row["MessageId"], target=row["Target"], kind=row["Kind"],
                       body=json.loads(body) if body else {}, created=row["Created"], due=row.get("Due"),
                       execution_id=row.get("ExecutionId") or None,
                       dequeue_count=int(row.get("DequeueCount") or 0))

    async def _query_messages(self, target: str) -> list[Message]:
        rows = [row async for row in self._t["messages"].query_entities(
            f"PartitionKey eq @pk and {MESSAGE_ROWS}", parameters={"pk": escape_key(target)})]
        return list(await asyncio.gather(*(self._message_from(row) for row in rows)))

    # ------------------------------------------------------------------ the inbox
    # While this process holds an instance's lease without a break, nobody else consumes the
    # instance's messages; others can only add some. So after one query under the lease, the
    # messages this process writes to the instance, minus those its episodes consume, are all
    # the stored ones it can know of without asking: an episode reads them from memory. A
    # message another process writes shows up in the poll's listing (``pending_messages``),
    # which then sends the next episode back to the table. That is the DTFx control-queue
    # model: a partition's owner dequeues messages in batches, and what arrives after a batch
    # goes to a later episode. Entities still query every batch.
    async def _known_messages(self, target: str) -> list[Message]:
        box = self._inbox.get(target)
        if box is not None and target in self._held_targets:
            return sorted(box.values(), key=lambda m: escape_key(m.id))  # (the table's order)
        if target.startswith("@") or target not in self._held_targets:
            return await self._query_messages(target)
        self._inbox_building[target] = building = {}
        try:
            box = {m.id: m for m in await self._query_messages(target)} | building
        finally:
            self._inbox_building.pop(target, None)
        if target in self._held_targets:
            self._inbox[target] = box
        return sorted(box.values(), key=lambda m: escape_key(m.id))

    def _inbox_add(self, message: Message) -> None:
        seed = self._inbox_seeds.get(message.target)
        for box in (self._inbox.get(message.target), self._inbox_building.get(message.target),
                    seed[1] if seed else None):
            if box is not None:
                box[message.id] = message

    # An instance this process creates starts with an inbox seed: the messages stored for it are
    # the start message (create_instance deletes an earlier execution's first) and what this
    # process sends it later. Its first lease here takes the seed as its inbox, without a query,
    # if the sentinel this process knows (written by the start, or read since) is still the one
    # the start wrote. Should another process have run an episode meanwhile (consuming the start
    # message), this process's first episode fails its ETag-checked commit, which forgets the
    # inbox, as when an inbox outlives a lease that ran out unnoticed. A message another process
    # stored meanwhile shows up in the next poll listing, which forgets the seed or the inbox.
    _MAX_SEEDS = 10_000

    def _seed_inbox(self, instance_id: str, etag: str, start: Message) -> None:
        if len(self._inbox_seeds) >= self._MAX_SEEDS:  # (instances another process ran)
            del self._inbox_seeds[next(iter(self._inbox_seeds))]
        self._inbox_seeds[instance_id] = (etag, {start.id: start})

    def _inbox_from_seed(self, target: str, seed: tuple[str, dict[str, Message]] | None) -> None:
        """Under a lease just taken: the seed as the inbox, if the start's sentinel is current."""
        sentinel = self._sentinels.get(target)
        if seed is not None and sentinel is not None and sentinel.etag == seed[0]:
            self._inbox[target] = seed[1]

    def _inbox_drop(self, target: str, ids: Iterable[str]) -> None:
        box = self._inbox.get(target)
        if box:
            for message_id in ids:
                box.pop(message_id, None)

    async def send_messages(self, messages: list[Message]) -> None:
        await asyncio.gather(*(self._put_message(m) for m in messages))

    async def pending_messages(self) -> list[Message]:
        rows = [row async for row in self._t["messages"].query_entities(MESSAGE_ROWS)]
        messages = await asyncio.gather(*(self._message_from(row) for row in rows))
        # Not pending: what an episode of this process committed as consumed, also while the
        # listing was under way (its clean-up deletes them later; routed, they would only cost an
        # episode that finds nothing to do, which messages_for would drop them in).
        pending = [m for m in messages if not self._consumed_here(m)]
        for message in pending:  # one this process does not know of: its next episode must query
            box = self._inbox.get(message.target)
            if box is not None and message.id not in box:
                del self._inbox[message.target]
            seed = self._inbox_seeds.get(message.target)
            if seed is not None and message.id not in seed[1]:
                del self._inbox_seeds[message.target]
        return pending

    def _consumed_here(self, message: Message) -> bool:
        if message.id in self._deferred_deletes.get(message.target, ()):
            return True
        sentinel = self._sentinels.get(message.target)
        return sentinel is not None and message.id in sentinel.consumed

    async def messages_for(self, target: str) -> list[Message]:
        """Undelivered messages of ``target``. Messages that a committed episode/batch already
        consumed (a crash came between its commit and the clean-up, or an activity ran again
        after a crash) are dropped here, so the scheduler sees every message once."""
        messages = await self._known_messages(target)
        if not messages:
            return messages
        if target.startswith("@"):
            stale = await self._stale_entity_requests(target, messages)
        else:
            stale = await self._stale_instance_messages(target, messages)
        if stale:
            deferred = self._deferred_deletes.get(target, set())  # (deleted with the next result)
            await self._delete_message_rows([(m.id, escape_key(target)) for m in stale if m.id not in deferred])
            gone = {m.id for m in stale}
            self._inbox_drop(target, gone)
            messages = [m for m in messages if m.id not in gone]
        return messages

    async def _stale_instance_messages(self, target: str, messages: list[Message]) -> list[Message]:
        sentinel = self._current_sentinel(target)
        if sentinel is None:
            sentinel = self._sentinels.get(target)
            if sentinel is None or time.monotonic() - sentinel.read_at > 1.0:
                sentinel = await self._read_sentinel(target)
        if sentinel is None:
            return []
        await self._flush_outbox("history", target, sentinel.outbox)
        stale = [m for m in messages if m.id in sentinel.consumed]
        candidates = [m for m in messages if m.id not in sentinel.consumed and m.kind == "event"
                      and (m.execution_id in (None, sentinel.execution_id)) and _message_key(m) is not None]
        if candidates:
            resolved = self._resolved.get(target)
            if resolved is None or resolved[0] != sentinel.etag:
                await self._read_history(target, sentinel)
                resolved = self._resolved[target]
            stale += [m for m in candidates if _message_key(m) in resolved[1]]
        return stale

    async def _stale_entity_requests(self, target: str, messages: list[Message]) -> list[Message]:
        """Requests the entity processed already (its dedup window), e.g. re-dispatched ones."""
        row = await self._get_entity_row(target)
        self._entity_rows[target] = (time.monotonic(), row)
        if not row:
            return []
        await self._flush_outbox("entities", target, row.get("Outbox") or "")
        processed = await self._processed_ids(row)
        return [m for m in messages if m.id in processed]

    async def delete_messages(self, ids: list[str]) -> None:
        for target in self._inbox:  # (the ids' targets are not known here)
            self._inbox_drop(target, ids)
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

