"""Target leases: one process runs a target's episode at a time; renewal of held leases."""
from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from typing import Any, AsyncIterator, Awaitable, Callable

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
        # A lease outlives its episode: it is kept while the target is busy (the next episode of
        # a chain usually follows within milliseconds) and released once it has been idle for a
        # renewal tick (_due_renewals), so a chain costs one claim and one release instead of one
        # pair per episode. Another process meanwhile skips the target and the holder's poller
        # routes what it wrote, as DTFx's partition owner handles all of a partition's instances.
        if not await self._claim(target):
            yield False
            return
        self._leases_in_use[target] = self._leases_in_use.get(target, 0) + 1
        try:
            yield True
        finally:
            left = self._leases_in_use.pop(target) - 1
            if left:
                self._leases_in_use[target] = left
            self._lease_idle_since[target] = time.monotonic()

    async def _claim(self, target: str) -> bool:
        if self._target_until.get(target, 0.0) - time.time() > self.lease_seconds / 3:
            return True  # still held (renewed in time), no request
        self._not_current(target)  # a new lease: another process may have moved the target on
        seed = self._inbox_seeds.pop(target, None)
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
                self._inbox_from_seed(target, seed)
                return True
            except ResourceExistsError:
                pass
            try:
                row = await table.get_entity(pk, "")
            except ResourceNotFoundError:
                continue
            expired = float(row.get("Until") or 0) <= now
            if row.get("Owner") != self.owner and not expired:
                return False
            try:
                meta = await table.update_entity(entity, mode=UpdateMode.REPLACE, etag=row.metadata["etag"],
                                                 match_condition=MatchConditions.IfNotModified)
            except ResourceNotFoundError:
                continue  # released meanwhile: create it
            except ResourceModifiedError:
                return False
            self._held_targets[target] = meta["etag"]
            self._target_until[target] = entity["Until"]
            if expired:  # its holder may have died between a commit and what follows it
                await self._repair_target(target)
            return True
        return False

    async def _release(self, target: str) -> None:
        await self._drop_kept_outbox(target)  # (while the lease is still ours)
        etag = self._held_targets.pop(target, None)
        self._target_until.pop(target, None)
        self._lease_idle_since.pop(target, None)
        self._not_current(target)
        if etag is None:
            return
        try:
            await self._t["leases"].delete_entity(escape_key(target), "", etag=etag,
                                                  match_condition=MatchConditions.IfNotModified)
        except (ResourceModifiedError, ResourceNotFoundError):
            pass
        except HttpResponseError as exc:
            log.warning("devhost: releasing the lease on %s failed: %s", target, exc)

    async def _release_idle(self, target: str) -> None:
        if target not in self._leases_in_use:  # (not taken up again since the tick looked)
            await self._release(target)

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
        idle_before = time.monotonic() - self.lease_seconds / 6
        idle = [t for t in self._held_targets if t not in self._leases_in_use
                and self._lease_idle_since.get(t, 0.0) <= idle_before]
        renewals: list[tuple[str, Callable[[], Awaitable[None]]]] = [
            (f"target:{target}", functools.partial(self._release_idle, target)) for target in idle]
        renewals += [(f"target:{target}", functools.partial(self._renew_target, target, etag))
                     for target, etag in self._held_targets.items()
                     if target not in idle and self._target_until.get(target, 0.0) < due]
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
                self._outbox_kept.pop(target, None)  # (its next holder sends it again, as after a crash)
                self._held_targets.pop(target, None)
                self._target_until.pop(target, None)
                self._not_current(target)
                await self._store_lazy_work(target)  # (what that row holds that still runs here)
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
