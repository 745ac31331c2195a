"""The activity runner: work items to completion messages, at most ``max_concurrent_activities``
at a time (sync functions in the invoker's thread pool, as the worker runs them).

A mixin of ``Runtime`` (``devhost/scheduler.py``): it uses the runtime's store, invoker, options,
faults and stats, and hands every result back through ``Runtime.route``.
"""
from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Awaitable, Callable

from . import payloads
from . import protocol as p
from .engine import message_id
from .faults import InjectedCrash
from .invoke import ActivityOutcome, activity_failure
from .store.base import Message, WorkItem

class ActivityRunner:
    """Uses the ``Runtime`` attributes it is mixed into: store, invoker, options, faults, stats."""

    _inflight: Counter[str]
    _work_queued: set[str]
    _activities_reserved: int
    _activity_slots: asyncio.Semaphore | None
    _continue_with: Callable[[str], Awaitable[None]]

    def start_activity(self, item: WorkItem, delay: float = 0.0) -> None:
        """Run ``item`` (after ``delay`` seconds) unless this process already has it queued or
        running. It counts as in flight from this moment, so the virtual clock cannot skip time
        between the episode that scheduled it and its start."""
        if self.options.disabled.holds(self.index, "activity", item.name):
            return  # the work item stays stored, unrun (devhost/disabled.py)
        if item.id in self._work_queued:  # the poller sees items this process is about to run
            return
        self._work_queued.add(item.id)
        self._inflight[item.instance_id] += 1
        if delay:
            asyncio.get_running_loop().call_later(delay, lambda: self._spawn(self._run_activity(item)))
        else:
            self._spawn(self._run_activity(item))

    def runnable_now(self, items: list[WorkItem]) -> frozenset[str]:
        """Ids of the ``items`` that ``start_activity`` would run at once, a free worker slot each
        (an episode's commit may store them leased by this process: ``EpisodeCommit.lease_work``).
        Only as many as there are free slots: an item leased here while it waits for one would
        be out of other processes' reach (its lease is renewed)."""
        if not self.store.shared:
            return frozenset()
        free = self.options.max_concurrent_activities - len(self._work_queued) - self._activities_reserved
        ids: list[str] = []
        for item in items:
            if len(ids) >= free:
                break
            if item.id not in self._work_queued and not self.options.disabled.holds(
                    self.index, "activity", item.name):
                ids.append(item.id)
        return frozenset(ids)

    def _done_in_flight(self, instance_id: str) -> None:
        self._inflight[instance_id] -= 1
        if not self._inflight[instance_id]:
            del self._inflight[instance_id]

    async def _run_activity(self, item: WorkItem) -> None:
        assert self._activity_slots is not None
        crashed = False
        try:
            # The lease is taken only once a worker slot is free, as DTFx dequeues a work-item
            # message only then: a lease taken earlier would expire while the item waits here,
            # and another process would run it too. A failed claim also covers an item that
            # was completed (row deleted) since it was queued.
            async with self._activity_slots:
                if not await self.store.claim_work(item):  # shared stores: leased by another runner
                    return
                try:
                    result = await self._execute_activity(item)
                except InjectedCrash:
                    crashed = True  # the worker died mid-activity: no result; the item runs again later
                    return
                await self.store.complete_work(item, result)
                self.stats.activities += 1
                if self.faults.duplicates():
                    duplicate = Message(id=message_id(result.id, "duplicate"), target=result.target, kind="event",
                                        body=dict(result.body), created=result.created,
                                        execution_id=result.execution_id)
                    await self.store.send_messages([duplicate])
                    self.route(duplicate)
        finally:
            self._work_queued.discard(item.id)
            if crashed:
                self.start_activity(item, self.options.crash_retry_delay)
            self._done_in_flight(item.instance_id)
        self.route(result)
        await self._continue_with(result.target)

    async def _execute_activity(self, item: WorkItem) -> Message:
        """Run one work item and build its TaskCompleted/TaskFailed message."""
        attempts = await self.store.record_work_attempt(item)
        t0 = time.perf_counter()
        if attempts > self.options.poison_attempts:
            outcome = ActivityOutcome(
                ok=False,
                reason=(f"Activity function '{item.name}' failed: the worker processing it "
                        f"crashed {attempts - 1} times; giving up (poison message)."),
                details=None)
        elif item.http_request is not None:
            outcome = await self._run_http_activity(item)
        else:
            info = self.index.find("activity", item.name)
            if info is None:
                outcome = activity_failure(item.name, LookupError(f"unknown activity '{item.name}'"))
            elif self.faults.activity_crashes(item.name):
                raise InjectedCrash(f"worker crashed while running '{item.name}'")
            elif self.faults.activity_fails(item.name):
                outcome = activity_failure(item.name, RuntimeError("injected fault"))
            else:
                if self.faults.runs_twice(item.name):
                    await self.invoker.activity(info, item.input)
                outcome = await self.invoker.activity(info, item.input)
        self._log_invocation("activity", item.name, item.instance_id, time.perf_counter() - t0)
        if outcome.ok:
            try:
                self.options.payloads.check("result", item.name, outcome.result)
            except payloads.PayloadTooLarge as exc:
                outcome = ActivityOutcome(ok=False, reason=f"Activity function '{item.name}' failed: {exc}")
        now = self.clock.now()
        if outcome.ok:
            body = p.task_completed(now, item.seq, outcome.result)
        else:
            body = p.task_failed(now, item.seq, outcome.reason or "", outcome.details)
        return Message(id=message_id(item.id, "result"), target=item.instance_id, kind="event",
                       body=body, created=now, execution_id=item.execution_id)

    async def _run_http_activity(self, item: WorkItem) -> ActivityOutcome:
        """``call_http``: one request as the extension's ``TaskHttpActivityShim`` sends it
        (``devhost/http_activity.py``); a 202 comes back as it is, as on Azure for SDK 1.x, which
        does not mark its requests for the extension's 202 polling (tests/host/test_call_http_and_cron.py)."""
        from .http_activity import run_http_activity

        return await run_http_activity(item.http_request or {})
