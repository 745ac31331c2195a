"""Activity work items: write, list, lease (claim), count attempts, complete.

A work item is a row of the Messages table in its instance's partition (``Kind`` = ``work``),
so that an activity's result and the deletion of its work item are one table transaction: the
result is stored exactly when the item is gone. (DTFx's Azure Storage provider sends the result
and then deletes the work-item queue message; a crash between the two runs the activity again.
Here that window does not exist; the at-least-once guarantee is unchanged.)
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import UpdateMode

from ..base import Message, WorkItem
from .keys import WORK_KIND, WORK_ROWS, escape_key
from .client import AzureBase, _LazyWork, _WorkState


class WorkMixin(AzureBase):
    async def _put_work(self, item: WorkItem, lease: bool = False, attempts: int = 0) -> None:
        """Store ``item``. ``lease``: stored already leased by this process (the scheduler runs it
        at once, so a claim request would only repeat this one); only for a first write, so an
        item that exists already (a re-dispatch) is merged without a lease, as before.
        ``attempts``: of a lazy item that is running here already (claimed)."""
        uploads: list[tuple[str, str]] = []
        pk = escape_key(item.instance_id)
        entity: dict[str, Any] = {
            "PartitionKey": pk, "RowKey": escape_key(item.id), "Kind": WORK_KIND, "WorkId": item.id,
            "InstanceId": item.instance_id, "ExecutionId": item.execution_id, "Seq": item.seq,
            "Name": item.name, "Created": item.created,
            "HttpRequest": json.dumps(item.http_request) if item.http_request is not None else "",
        }
        self._text(entity, "Input", item.input, item.instance_id, uploads)
        await self._upload(uploads)
        if entity.get("InputBlob"):
            self._work_blobs[item.id] = entity["InputBlob"]
        if lease:
            until = time.time() + self.lease_seconds
            try:
                meta = await self._t["work"].create_entity(
                    {**entity, "LeaseOwner": self.owner, "LeaseUntil": until, "DequeueCount": attempts or 1})
            except ResourceExistsError:
                pass
            else:
                held = _WorkState(pk, meta["etag"], self.owner, until, attempts or 1)
                self._held_work[item.id] = self._work_state[item.id] = held
                if not attempts:
                    self._attempts[item.id] = 1
                    self._preleased.add(item.id)
                return
        # MERGE: a redo of the episode must not reset the lease/attempts of a running item.
        meta = await self._t["work"].upsert_entity(entity, mode=UpdateMode.MERGE)
        self._work_state[item.id] = _WorkState(pk, meta["etag"], "", 0.0, item.dequeue_count)

    async def _move_legacy_work(self) -> None:
        """Move what an older version of this store left in ``<hub>WorkItems`` into the Messages
        table (leases and attempt counts kept), then drop that table."""
        assert self._service is not None
        legacy = self._service.get_table_client(self.legacy_work_table)
        try:
            rows = [row async for row in legacy.list_entities()]
        except ResourceNotFoundError:
            return
        for row in rows:
            await self._t["work"].upsert_entity({**row, "Kind": WORK_KIND}, mode=UpdateMode.MERGE)
        with contextlib.suppress(ResourceNotFoundError):  # (another process dropped it first)
            await self._service.delete_table(self.legacy_work_table)

    # ------------------------------------------------------------------ lazy work items
    # A work item the scheduler runs at once in this process, scheduled by an episode whose
    # outbox row this process keeps under the instance's lease (outbox.py), needs no row of its
    # own while it runs: the committed outbox row holds it, and a process that takes the
    # instance over after a crash dispatches that row again (at-least-once, as after any crash).
    # Its result then goes without a deletion. The row is written (leased by this process)
    # only if the outbox row is about to go while the item still runs: at the instance's next
    # commit, the lease's release or loss (``_store_lazy_work``). A chain's step completes
    # before the commit it causes, so none of its work items is ever written.
    def _add_lazy_work(self, lazy: _LazyWork) -> None:
        self._lazy_work.setdefault(lazy.item.instance_id, {})[lazy.item.id] = lazy

    def _take_lazy_work(self, item: WorkItem) -> _LazyWork | None:
        items = self._lazy_work.get(item.instance_id)
        lazy = items.pop(item.id, None) if items else None
        if items is not None and not items:
            del self._lazy_work[item.instance_id]
        return lazy

    async def _store_lazy_work(self, instance_id: str) -> None:
        """Write the instance's lazy work items that still run (its outbox row is about to go)."""
        items = list(self._lazy_work.pop(instance_id, {}).values())
        if not items:
            return
        loop = asyncio.get_running_loop()
        for lazy in items:
            self._storing_work[lazy.item.id] = loop.create_future()
        try:
            # (one not claimed yet, still waiting for a worker slot here, is stored as one leased
            # at dispatch: its claim then takes it without a request)
            await asyncio.gather(*(self._put_work(lazy.item, lease=True, attempts=lazy.count) for lazy in items))
        finally:
            for lazy in items:
                self._storing_work.pop(lazy.item.id).set_result(None)

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
        rows = [row async for row in self._t["work"].query_entities(WORK_ROWS)]
        return list(await asyncio.gather(*(self._work_from(row) for row in rows)))

    def work_claimable(self, item: WorkItem) -> bool:
        if item.id in self._preleased:  # stored leased for the scheduler, which has not run it
            return True  # (its commit failed after the dispatch): the poller hands it over
        if item.id in self._held_work:
            return False
        state = self._work_state.get(item.id)
        return state is None or not state.owner or state.owner == self.owner or state.until <= time.time()

    async def claim_work(self, item: WorkItem) -> bool:
        """Take the item's lease (ETag-checked update of LeaseOwner/LeaseUntil/DequeueCount); an
        item this process stored leased (``_put_work``), or holds as a lazy item, is taken
        without a request."""
        lazy = self._lazy_work.get(item.instance_id, {}).get(item.id)
        if lazy is not None:  # (again after a crash of the activity's worker in this process)
            lazy.count += 1
            self._attempts[item.id] = item.dequeue_count = lazy.count
            return True
        if item.id in self._preleased:
            self._preleased.discard(item.id)
            if item.id in self._held_work:  # (not lost to a failed renewal meanwhile)
                item.dequeue_count = self._held_work[item.id].count
                return True
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
        storing = self._storing_work.get(item.id)
        if storing is not None:  # (its row is being written: the result's transaction deletes it)
            await storing
        lazy = self._take_lazy_work(item)
        try:
            await self._put_result(result, None if lazy else (escape_key(item.instance_id), escape_key(item.id)))
        except BaseException:
            if lazy is not None:  # still to be done: the outbox row's end stores it
                self._add_lazy_work(lazy)
            raise
        blob = self._work_blobs.pop(item.id, None)
        if blob:
            await self._delete_blobs([blob])
        self._held_work.pop(item.id, None)
        self._work_state.pop(item.id, None)
        self._attempts.pop(item.id, None)
