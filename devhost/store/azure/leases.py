"""Target leases: one process runs a target's episode at a time; renewal of held leases."""
from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any, AsyncIterator

from azure.core import MatchConditions
from azure.core.exceptions import (
    HttpResponseError, ResourceExistsError, ResourceModifiedError, ResourceNotFoundError,
)
from azure.data.tables import UpdateMode

from .keys import escape_key, log
from .client import AzureBase


class LeasesMixin(AzureBase):
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
            return True
        return False

    async def _release(self, target: str) -> None:
        etag = self._held_targets.pop(target, None)
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
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            try:
                await self._renew()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("devhost: lease renewal failed", exc_info=True)

    async def _renew(self) -> None:
        until = time.time() + self.lease_seconds
        for target, etag in list(self._held_targets.items()):
            try:
                meta = await self._t["leases"].update_entity(
                    {"PartitionKey": escape_key(target), "RowKey": "", "Target": target, "Owner": self.owner,
                     "Until": until}, mode=UpdateMode.REPLACE, etag=etag,
                    match_condition=MatchConditions.IfNotModified)
            except (ResourceModifiedError, ResourceNotFoundError):
                if self._held_targets.get(target) == etag:  # (not released meanwhile)
                    log.warning("devhost: lost the lease on %s", target)
                    self._held_targets.pop(target, None)
                continue
            if target in self._held_targets:
                self._held_targets[target] = meta["etag"]
        for item_id, state in list(self._held_work.items()):
            try:
                meta = await self._t["work"].update_entity(
                    {"PartitionKey": state.partition, "RowKey": escape_key(item_id), "LeaseUntil": until},
                    mode=UpdateMode.MERGE, etag=state.etag, match_condition=MatchConditions.IfNotModified)
            except (ResourceModifiedError, ResourceNotFoundError):
                if self._held_work.get(item_id) is state:  # (not completed meanwhile)
                    log.warning("devhost: lost the lease on work item %s", item_id)
                    self._held_work.pop(item_id, None)
                continue
            if item_id in self._held_work:
                state.etag, state.until = meta["etag"], until

