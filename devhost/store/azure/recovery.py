"""Finishing what a dead process left half done after a commit.

A step (an episode's or an entity batch's commit) is durable once its transaction is in; what
follows it (sending the outbox, writing the query view, deleting consumed messages) may be cut
off by a crash. Each of those is repeatable, and three things repeat them:

* ``open()``: a starting process repairs every active view row and sends every outbox left in
  the task hub (``_repair_projections``, ``_recover_outboxes``);
* a lease takeover: whoever takes over a target whose lease expired repairs that target first
  (``_repair_target``, from ``LeasesMixin._claim``). The target's next step would send its
  outbox anyway, but a target whose last step left nothing pending (e.g. its final commit) has no
  next step, and its view would stay Running;
* the poller of every live process (``recover_abandoned``): a process that dies holding leases
  leaves their rows behind, expired; the poll takes each one over, which repairs it, so a
  surviving process finishes the dead one's work without a restart (DTFx: a dead worker's
  partition leases expire and another worker takes the partitions over, with their messages).
"""
from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import UpdateMode

from ..base import ACTIVE_STATUSES, PENDING
from .client import AzureBase, _Sentinel
from .keys import escape_key, log
from .instances import view_key
from .outbox import OUTBOX_FILTER


class RecoveryMixin(AzureBase):
    async def _repair_projections(self) -> None:
        """At start-up: rewrite every active view row that its sentinel contradicts."""
        statuses = sorted(ACTIVE_STATUSES)
        flt = " or ".join(f"RuntimeStatus eq @s{i}" for i in range(len(statuses)))
        params = {f"s{i}": s for i, s in enumerate(statuses)}
        async for row in self._t["instances"].query_entities(flt, parameters=params):
            instance_id = row.get("InstanceId")
            if instance_id:
                await self._repair_instance(instance_id, row, await self._read_sentinel(instance_id))

    async def _recover_outboxes(self) -> None:
        """At start-up: dispatch every outbox a crashed process left behind. Not those of targets
        another process holds a live lease on: that process keeps its last outbox row while it
        runs what it holds (work.py, lazy work items; sent again here, they would run twice);
        should it be dead, the poll takes its lease over once expired and sends them then."""
        now = time.time()
        live = {row["PartitionKey"] async for row in self._t["leases"].list_entities()
                if row.get("Owner") != self.owner and float(row.get("Until") or 0) > now}
        for table in ("history", "entities"):
            rows = [row async for row in self._t[table].query_entities(OUTBOX_FILTER)
                    if row["PartitionKey"] not in live]
            for row in rows:
                text = await self._read_text(row, "Data")
                await self._dispatch(table, row["PartitionKey"], row["RowKey"], text, self._blob_refs(row))

    async def _repair_target(self, target: str) -> None:
        """After taking over ``target``'s expired lease: finish its last step."""
        if target.startswith("@"):
            row = await self._get_entity_row(target)
            if row:
                await self._flush_outbox("entities", target, row.get("Outbox") or "")
            return
        try:  # the view before the sentinel: see _repair_instance
            view = await self._t["instances"].get_entity(escape_key(target), "")
        except ResourceNotFoundError:
            view = None
        sentinel = await self._read_sentinel(target)
        if sentinel is None:
            return  # (purged; or being created, which writes its view first: not a view to drop)
        await self._flush_outbox("history", target, sentinel.outbox)
        await self._repair_instance(target, view, sentinel)

    async def _repair_instance(self, instance_id: str, view: dict[str, Any] | None,
                               sentinel: _Sentinel | None) -> None:
        """Make the view row agree with the sentinel (a crash came between them), and send the
        start message of an instance that no episode has run yet (a crash may have come before it).

        ``view`` must have been read before ``sentinel``, and the rewrite is ETag-checked against
        it: a process whose commit lands after the sentinel read writes the view after its commit,
        so the check fails and the older sentinel is not written over the newer view."""
        if sentinel is None:
            if view is not None:
                with contextlib.suppress(ResourceNotFoundError, ResourceModifiedError):
                    await self._t["instances"].delete_entity(escape_key(instance_id), "", etag=view.metadata["etag"],
                                                             match_condition=MatchConditions.IfNotModified)
            return
        if view is None or view_key(view) != view_key(sentinel.entity):  # (not merely lagging: instances.py)
            projection = self._projection(sentinel.entity)
            with contextlib.suppress(ResourceExistsError, ResourceModifiedError, ResourceNotFoundError):
                if view is None:
                    await self._t["instances"].create_entity(projection)
                else:
                    await self._t["instances"].update_entity(projection, mode=UpdateMode.REPLACE,
                                                             etag=view.metadata["etag"],
                                                             match_condition=MatchConditions.IfNotModified)
        if sentinel.status == PENDING and sentinel.history_end == sentinel.history_start:
            from ...engine import start_message  # (the engine imports the store's records)

            record = await self._record_from(sentinel.entity, sentinel.etag)
            await self._put_message(start_message(record, record.created_time, record.parent))

    async def recover_abandoned(self) -> None:
        """Take over every expired lease of another process (the takeover repairs the target)."""
        now = time.time()
        targets = [row["Target"] async for row in self._t["leases"].list_entities()
                   if row.get("Target") and row.get("Owner") != self.owner and float(row.get("Until") or 0) <= now]
        results = await asyncio.gather(*(self._take_over(target) for target in targets), return_exceptions=True)
        for target, result in zip(targets, results):
            if isinstance(result, Exception):
                log.warning("devhost: recovering %s after its owner's lease expired failed: %s", target, result)

    async def _take_over(self, target: str) -> None:
        async with self._lease(target):
            pass  # (released once idle, as after an episode)
