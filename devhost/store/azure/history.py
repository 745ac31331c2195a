"""History rows and the episode commit (one ETag-checked transaction per episode)."""
from __future__ import annotations

import asyncio
import json
import math
import time
from typing import Any

from azure.core import MatchConditions
from azure.data.tables import TableTransactionError, UpdateMode

from ..base import TERMINAL_STATUSES, ConflictError, EpisodeCommit, Event, Message
from .keys import (
    MAX_BATCH_ROWS, SENTINEL, _EVENT_RAISED, _EXECUTION_STARTED, _TASK_RESULTS, _TIMER_FIRED, _is_conflict, _row_key, escape_key,
)

RESPONSE_SUFFIX = "|response"  # the scheduler's id of an entity's response: message_id(request id, "response")
from .client import AzureBase, _Sentinel
from .outbox import encode


class HistoryMixin(AzureBase):
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
                      uploads: list[tuple[str, str]], budget: list[int]) -> list[dict[str, Any]]:
        """One row per event; an episode with more events than a batch allows packs several
        events (a JSON array) per row so that the whole episode is one transaction."""
        pk = escape_key(instance_id)
        # (MAX_BATCH_ROWS - 1: one operation is the outbox row)
        per_row = max(1, math.ceil(len(events) / (MAX_BATCH_ROWS - 1)))
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
        # What the previous episode sent goes out before this one commits (ordering, e.g. a timer
        # this episode cancels); a no-op unless a crash interrupted that dispatch.
        await self._flush_outbox("history", iid, sentinel.outbox)
        start = sentinel.history_end if commit.new_execution else sentinel.history_start
        uploads: list[tuple[str, str]] = []
        budget = [0]
        rows = self._history_rows(iid, record.execution_id, commit.new_events, sentinel.history_end, uploads, budget)
        new_end = sentinel.history_end + len(commit.new_events)
        entity = self._instance_entity(record, uploads)
        entity.update(RowKey=SENTINEL, HistoryStart=start, HistoryEnd=new_end, Outbox="")
        consumed = list(dict.fromkeys([*commit.consumed, *commit.deleted_messages]))
        self._text(entity, "Consumed", json.dumps(consumed), iid, uploads)
        outbox_text = encode(commit.messages, commit.work, commit.child_instances, commit.deleted_messages)
        outbox = None
        if outbox_text is not None:
            outbox = self._outbox_row(escape_key(iid), iid, outbox_text, uploads, budget)
            entity["Outbox"] = outbox["RowKey"]
            rows.append(outbox)

        # 1. Blobs only (random names: invisible until a committed row refers to them).
        await self._upload(uploads)
        # 2. The commit point: history rows + outbox + sentinel in one transaction, ETag-checked;
        # with it goes the previous commit's outbox row if this process dispatched it and kept it.
        operations: list[Any] = [("upsert", row, {"mode": UpdateMode.REPLACE}) for row in rows]
        kept = self._outbox_kept.get(iid)
        if kept is not None and kept == sentinel.outbox and len(operations) < MAX_BATCH_ROWS - 1:
            await self._store_lazy_work(iid)  # (the row goes: what it holds that still runs needs one)
            operations.append(("delete", {"PartitionKey": escape_key(iid), "RowKey": kept}))
        elif kept is not None:  # (no room left in the transaction)
            await self._drop_kept_outbox(iid)
            kept = None
        operations.append(("update", entity, {"mode": UpdateMode.REPLACE, "etag": record.etag,
                                              "match_condition": MatchConditions.IfNotModified}))
        try:
            results = await self._t["history"].submit_transaction(operations)
        except TableTransactionError as exc:
            if kept is not None:  # (e.g. the row is gone: the next attempt must not count on it)
                await self._drop_kept_outbox(iid)
            if _is_conflict(exc):
                self._sentinels.pop(iid, None)
                self._not_current(iid)
                raise ConflictError(f"instance {iid} changed since it was read ({exc.error_code})") from exc
            raise
        record.etag = results[-1]["etag"]
        if kept is not None:
            self._outbox_kept.pop(iid, None)
            self._mark_sent(kept)
        old_blobs = self._blob_refs(sentinel.entity) - self._blob_refs(entity)
        self._sentinels[iid] = _Sentinel(
            etag=record.etag, execution_id=record.execution_id, status=record.status, history_start=start,
            history_end=new_end, consumed=frozenset(consumed), read_at=time.monotonic(),
            outbox=entity["Outbox"], entity=entity, written_here=True)
        if iid in self._held_targets:
            self._current.add(iid)
        self._inbox_drop(iid, consumed)
        previous = self._resolved.get(iid)
        if commit.new_execution:
            self._resolved[iid] = (record.etag, _resolved_keys(commit.new_events))
        elif previous is not None and previous[0] == sentinel.etag:
            self._resolved[iid] = (record.etag, previous[1] | _resolved_keys(commit.new_events))
        else:
            self._resolved.pop(iid, None)
        # 3. Dispatch the outbox (children, messages, work, cancelled timers), then delete it.
        if outbox is not None:
            keep = iid in self._held_targets and record.status not in TERMINAL_STATUSES
            await self._dispatch("history", outbox["PartitionKey"], outbox["RowKey"], outbox_text,
                                 self._blob_refs(outbox), keep_for=iid if keep else None,
                                 lease_work=commit.lease_work)
        # 4. Clean-up; the sentinel's Consumed list hides these messages should we crash first.
        # With activities to wait for, they go with the first result (_put_result): one request less
        # (that transaction also holds the result and its work item's deletion).
        consumed_now = [*self._deferred_deletes.pop(iid, ()), *commit.consumed]
        if commit.work and record.status not in TERMINAL_STATUSES and len(consumed_now) < MAX_BATCH_ROWS - 1:
            self._defer_deletes(iid, consumed_now)
            consumed_now = []
        projection = self._projection(entity)
        await asyncio.gather(
            self._delete_message_rows([(mid, escape_key(iid)) for mid in consumed_now]),
            *(() if self._view_current(iid, projection) else (self._write_view(iid, projection),)),
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


def _message_key(message: Message) -> Any:
    """What a message would resolve. An entity's response (``<request message id>|response``,
    an EventRaised named after the request id) is resolved once its request id is in history."""
    if message.id.endswith(RESPONSE_SUFFIX) and message.body.get("EventType") == _EVENT_RAISED:
        return ("raised", message.body.get("Name"))
    return _completion_key(message.body)


def _resolved_keys(events: list[Event]) -> set[Any]:
    keys = {key for key in (_completion_key(e) for e in events) if key is not None}
    keys.update(("raised", e.get("Name")) for e in events if e.get("EventType") == _EVENT_RAISED)
    return keys


