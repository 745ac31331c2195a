"""The runtime loop: moves work between the store, the engine and the function invoker.

One asyncio loop owns three kinds of work: orchestration episodes (one at a time per
instance, all due messages of the instance in one episode), entity batches, and activities
(concurrently; sync ones in the invoker's thread pool). Timers wait in a heap; with a
virtual clock that may skip, the loop jumps time to the next due timer whenever nothing
else can run.
"""
from __future__ import annotations

import asyncio
import heapq
import json
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from . import payloads
from . import fast_timestamps
from . import protocol as p
from .app_index import AppIndex
from .clock import Clock
from .engine import Engine, EpisodeResult, compact, message_id
from .shim import ReplayState
from .faults import FaultPlan, InjectedCrash
from .invoke import ActivityOutcome, Invoker, activity_failure
from .payloads import PayloadPolicy
from .disabled import DisabledFunctions
from .store.base import (
    TERMINAL_STATUSES, ConflictError, EntityRecord, Event, Message, Store, WorkItem, background_context,
)

log = logging.getLogger("devhost")


@dataclass
class RuntimeOptions:
    # How long an episode waits for more completions while the instance still has
    # activities in flight, so that a fan-out's results arrive in few episodes.
    # (5 ms: with 2 ms, about one fan-out of 1000 in 20 ran in 4-5 episodes on a loaded 2-core VM.)
    batch_window: float = 0.005
    max_concurrent_activities: int = 256
    # An activity or orchestration whose worker keeps dying is failed after this many attempts.
    poison_attempts: int = 5
    # Delay before a crashed activity's work item is picked up again (a lease expiring).
    crash_retry_delay: float = 0.001
    faults: FaultPlan | None = None
    # Parse the host's own timestamp format fast in the SDK's replay (devhost/fast_timestamps.py);
    # None follows DEVHOST_FAST_TIMESTAMPS (default on). Same results as dateutil either way.
    fast_timestamps: bool | None = None
    # Payload caps of the emulated backend (host.json storageProvider.type; devhost/payloads.py).
    payloads: PayloadPolicy = field(default_factory=PayloadPolicy)
    # Functions disabled with AzureWebJobs.<name>.Disabled (devhost/disabled.py).
    disabled: DisabledFunctions = field(default_factory=DisabledFunctions)


@dataclass
class RuntimeStats:
    episodes: int = 0
    sdk_seconds: float = 0.0
    episode_seconds: float = 0.0
    events_replayed: int = 0
    activities: int = 0
    entity_batches: int = 0
    episodes_by_instance: Counter = field(default_factory=Counter)


@dataclass
class _Cached:
    """What the runtime remembers of an instance between episodes (all derivable from the store)."""

    history: list[Event]
    history_json: str | None
    etag: str | None
    replay: ReplayState | None


class Runtime:
    def __init__(self, index: AppIndex, store: Store, clock: Clock, invoker: Invoker,
                 options: RuntimeOptions | None = None,
                 on_invocation: Callable[[str, str, str, float], None] | None = None) -> None:
        self.index = index
        self.store = store
        self.clock = clock
        self.invoker = invoker
        self.options = options or RuntimeOptions()
        self.engine = Engine(index, self._call_orchestrator, self.options.payloads, self.options.disabled)
        self.stats = RuntimeStats()
        self._on_invocation = on_invocation
        self._ready: dict[str, None] = {}
        self._running: set[str] = set()
        self._timers: list[tuple[datetime, str, str]] = []
        self._live_timers: set[str] = set()
        self._inflight: Counter[str] = Counter()
        self._work_queued: set[str] = set()  # ids of work items with a task in this process
        self._last_completion: dict[str, float] = {}
        # Per target: (last completion, deadline) when the batch window first looked expired.
        self._quiet_seen: dict[str, tuple[float, float]] = {}
        self._history: dict[str, _Cached] = {}
        self._watchers: dict[str, set[asyncio.Event]] = {}
        self._unchecked: set[asyncio.Event] = set()  # notified watchers that have not looked yet
        self._tasks: set[asyncio.Task[Any]] = set()
        self._wakeup: asyncio.Event | None = None
        self._loop_task: asyncio.Task[None] | None = None
        self._activity_slots: asyncio.Semaphore | None = None
        self._stopping = False
        self._crashes: Counter[str] = Counter()
        self.faults = self.options.faults or FaultPlan()

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        fast_timestamps.configure(self.options.fast_timestamps)
        self._wakeup = asyncio.Event()
        self._activity_slots = asyncio.Semaphore(self.options.max_concurrent_activities)
        for message in await self.store.pending_messages():
            self.route(message)
        for item in await self.store.pending_work():  # crash recovery: at-least-once
            self.start_activity(item)
        self._loop_task = asyncio.create_task(self._loop(), name="devhost-scheduler", context=background_context())
        if self.store.shared:  # other processes write to the same store: poll it (devhost/poller.py)
            from .poller import poll_store

            self._spawn(poll_store(self))

    async def stop(self) -> None:
        self._stopping = True
        if self._wakeup:
            self._wakeup.set()
        if self._loop_task:
            self._loop_task.cancel()
            try:
                await self._loop_task
            except (asyncio.CancelledError, Exception):
                pass
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    @property
    def idle(self) -> bool:
        return not self._ready and not self._running and not any(self._inflight.values())

    # ------------------------------------------------------------------ routing
    def route(self, message: Message) -> None:
        """Make the scheduler aware of a message that is already in the store."""
        if message.due is not None and message.due > self.clock.now():
            heapq.heappush(self._timers, (message.due, message.id, message.target))
            self._live_timers.add(message.id)
        else:
            self._ready[message.target] = None
        self._poke()

    def forget_timers(self, ids: list[str]) -> None:
        self._live_timers.difference_update(ids)

    def _poke(self) -> None:
        if self._wakeup is not None:
            self._wakeup.set()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro, context=background_context())
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("devhost task failed", exc_info=task.exception())
        self._poke()

    # ------------------------------------------------------------------ watchers
    def watch(self, instance_id: str) -> asyncio.Event:
        event = asyncio.Event()
        self._watchers.setdefault(instance_id, set()).add(event)
        return event

    def unwatch(self, instance_id: str, event: asyncio.Event) -> None:
        self._unchecked.discard(event)
        watchers = self._watchers.get(instance_id)
        if watchers:
            watchers.discard(event)
            if not watchers:
                del self._watchers[instance_id]

    def checked(self, event: asyncio.Event) -> None:
        """A watcher has looked at the state its last notification was about."""
        self._unchecked.discard(event)

    def _notify(self, instance_id: str) -> None:
        for event in self._watchers.get(instance_id, ()):
            event.set()
            # Until the watcher has looked, time must not skip: the wait it serves may be over.
            self._unchecked.add(event)

    # ------------------------------------------------------------------ main loop
    async def _loop(self) -> None:
        assert self._wakeup is not None
        while not self._stopping:
            self._wakeup.clear()
            now = self.clock.now()
            self._release_due_timers(now)
            recheck = self._dispatch_ready()
            if self.idle and self.clock.may_skip and not recheck and not self._unchecked:
                due = self._next_timer()
                if due is not None:
                    self.clock.skip_to(due)
                    continue
            timeout = recheck
            due = self._next_timer()
            if due is not None:
                wait = max(0.0, (due - self.clock.now()).total_seconds())
                timeout = wait if timeout is None else min(timeout, wait)
            await self._sleep(timeout)

    async def _sleep(self, timeout: float | None) -> None:
        """Wait for a poke or ``timeout``; a timer handle, not ``wait_for`` (which makes a task)."""
        assert self._wakeup is not None
        if timeout is None:
            await self._wakeup.wait()
            return
        handle = asyncio.get_running_loop().call_later(timeout, self._wakeup.set)
        try:
            await self._wakeup.wait()
        finally:
            handle.cancel()

    def _next_timer(self) -> datetime | None:
        while self._timers and self._timers[0][1] not in self._live_timers:
            heapq.heappop(self._timers)
        return self._timers[0][0] if self._timers else None

    def _release_due_timers(self, now: datetime) -> None:
        while self._timers and self._timers[0][0] <= now:
            _, mid, target = heapq.heappop(self._timers)
            if mid in self._live_timers:
                self._live_timers.discard(mid)
                self._ready[target] = None

    def _dispatch_ready(self) -> float | None:
        """Start an episode/batch for every ready target; returns seconds until a deferred one."""
        recheck: float | None = None
        for target in list(self._ready):
            if target in self._running:
                continue
            wait = self._batch_wait(target)
            if wait is not None:
                recheck = wait if recheck is None else min(recheck, wait)
                continue
            self._quiet_seen.pop(target, None)
            del self._ready[target]
            self._running.add(target)
            self._spawn(self._run_target(target))
        return recheck

    def _batch_wait(self, target: str) -> float | None:
        """Seconds to hold ``target``'s episode so more completions join it, or None to run now.

        Only while the instance still has activities in flight: it runs once no completion has
        arrived for a whole ``batch_window``. A window that looks expired may only mean this loop
        was busy (an episode, submitting a fan-out) while workers kept finishing, so it is
        confirmed with one more window of loop time before a partial batch runs."""
        window = self.options.batch_window
        if not self._inflight[target] or window <= 0:
            return None
        last = self._last_completion.get(target, 0.0)
        current = time.monotonic()
        age = current - last
        if age < window:
            return window - age
        seen = self._quiet_seen.get(target)
        if seen is None or seen[0] != last:
            self._quiet_seen[target] = (last, current + window)
            return window
        if current < seen[1]:
            return seen[1] - current
        return None

    async def _run_target(self, target: str) -> None:
        try:
            async with self.store.lease(target) as held:  # shared stores: one process per target
                if not held:
                    return
                if target.startswith("@"):
                    await self._run_entity(target)
                else:
                    await self._run_episode(target)
        except ConflictError:
            self._history.pop(target, None)
            self._ready[target] = None
        except Exception as exc:
            self._history.pop(target, None)
            self._crashes[target] += 1
            if isinstance(exc, InjectedCrash):
                log.info("devhost: injected crash while processing %s", target)
            else:
                log.exception("devhost: processing %s failed", target)
            if self._crashes[target] >= self.options.poison_attempts and not target.startswith("@"):
                await self._poison(target, exc)
            else:
                self._ready[target] = None  # redo the episode from the stored state
        else:
            self._crashes.pop(target, None)
        finally:
            self._running.discard(target)
            self._poke()

    # ------------------------------------------------------------------ orchestrations
    def _call_orchestrator(self, info: Any, context_json: str) -> str:
        return self.invoker.orchestrator(info, context_json)

    async def _run_episode(self, instance_id: str) -> None:
        instance = await self.store.instance_for_episode(instance_id)
        messages = await self.store.messages_for(instance_id)
        if instance is None or instance.status in TERMINAL_STATUSES:
            # Late timers, events or completions for an instance that is gone or finished.
            if messages:
                await self.store.delete_messages([m.id for m in messages])
            return
        now = self.clock.now()
        deliverable = [m for m in messages if m.kind == "event" and (m.due is None or m.due <= now)]
        if not deliverable:
            return
        cached = self._history.get(instance_id)
        if cached is not None and cached.etag != instance.etag:  # another process moved it on
            cached = None
        if cached is None:
            history = await self.store.get_history(instance_id)
            cached = _Cached(history, None, None, None)
        history = cached.history
        t0 = time.perf_counter()
        result = self.engine.run(instance, history, deliverable, now, cached.history_json, cached.replay)
        if result is None:
            return
        result.engine_seconds = time.perf_counter() - t0
        if self.faults.episode_crashes():
            raise InjectedCrash("crash between the episode's execution and its commit")
        await self._commit(instance_id, history, result)

    async def _poison(self, instance_id: str, exc: BaseException) -> None:
        instance = await self.store.get_instance(instance_id)
        if instance is None or instance.status in TERMINAL_STATUSES:
            return
        messages = await self.store.messages_for(instance_id)
        reason = (f"Orchestrator function '{instance.name}' failed: processing this instance crashed the "
                  f"worker {self._crashes[instance_id]} times in a row; giving up (poison message). "
                  f"Last error: {type(exc).__name__}: {exc}")
        result = self.engine.fail(instance, await self.store.get_history(instance_id), messages,
                                  self.clock.now(), reason)
        self._crashes.pop(instance_id, None)
        await self._commit(instance_id, [], result)

    async def _commit(self, instance_id: str, history: list[Event], result: EpisodeResult) -> None:
        commit = result.commit
        t0 = time.perf_counter()
        await self.store.commit_episode(commit)
        elapsed = time.perf_counter() - t0 + result.engine_seconds
        instance = commit.instance
        if commit.new_execution:
            self._history[instance_id] = _Cached([], "[]", commit.instance.etag, None)
        else:
            self._history[instance_id] = _Cached(history + commit.new_events, result.history_json,
                                                 commit.instance.etag, result.replay_state)
        stats = self.stats
        if result.called_sdk:
            stats.episodes += 1
            stats.episodes_by_instance[instance_id] += 1
            stats.sdk_seconds += result.sdk_seconds
            stats.episode_seconds += elapsed
            stats.events_replayed += result.events_replayed
            self._log_invocation("orchestrator", instance.name, instance_id, result.sdk_seconds)
        self.forget_timers(commit.deleted_messages)
        for item in commit.work:
            self.start_activity(item)
        for message in commit.messages:
            self.route(message)
        for _, start in commit.child_instances:
            self.route(start)
        if commit.instance.status in TERMINAL_STATUSES:
            self._history.pop(instance_id, None)
            await self._drop_leftovers(instance_id)
        self._notify(instance_id)

    async def _drop_leftovers(self, instance_id: str) -> None:
        leftovers = await self.store.messages_for(instance_id)
        if leftovers:
            ids = [m.id for m in leftovers]
            await self.store.delete_messages(ids)
            self.forget_timers(ids)

    def evict(self, instance_id: str) -> None:
        """Forget cached history (after a purge or an external rewrite)."""
        self._history.pop(instance_id, None)

    def created(self, instance: InstanceRecord) -> None:
        """``instance`` was just created here: its history is empty at its ETag (no read needed)."""
        self._history[instance.instance_id] = _Cached([], "[]", instance.etag, None)

    # ------------------------------------------------------------------ activities
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
        self._last_completion[item.instance_id] = time.monotonic()
        self.route(result)

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
        """``call_http``: one request, no 202 polling (documented limitation)."""
        import aiohttp

        request = item.http_request or {}
        try:
            async with aiohttp.ClientSession() as session:
                async with session.request(
                    request.get("method", "GET"), request["uri"],
                    data=request.get("content"), headers=request.get("headers") or None,
                ) as response:
                    content = await response.text()
                    headers = {k: v for k, v in response.headers.items()}
                    payload = {"statusCode": response.status, "headers": headers, "content": content}
            return ActivityOutcome(ok=True, result=json.dumps(payload))
        except Exception as exc:
            return activity_failure(p.HTTP_ACTIVITY_NAME, exc)

    # ------------------------------------------------------------------ entities
    async def _run_entity(self, entity_id: str) -> None:
        name, key = p.parse_entity_scheduler_id(entity_id)
        if self.options.disabled.holds(self.index, "entity", name):
            return  # its messages stay stored, unprocessed (devhost/disabled.py)
        messages = [m for m in await self.store.messages_for(entity_id) if m.kind == "entity"]
        if not messages:
            return
        messages.sort(key=lambda m: m.created)
        now = self.clock.now()
        record = await self.store.get_entity(entity_id) or EntityRecord(
            entity_id=entity_id, name=name, key=key, exists=False, state=None, last_modified=now)
        info = self.index.find("entity", name)
        batch = [{"name": m.body.get("op"), "input": m.body.get("input"), "isSignal": bool(m.body.get("signal"))}
                 for m in messages]
        results: list[dict[str, Any]]
        if info is None:
            results = [{"isError": True, "result": json.dumps(f"The entity '{name}' does not exist.")}
                       for _ in messages]
        else:
            context = json.dumps({"self": {"name": name, "key": key}, "exists": record.exists,
                                  "state": record.state, "batch": batch})
            t0 = time.perf_counter()
            try:
                output = json.loads(self.invoker.entity(info, context))
                results = output.get("results") or []
                if len(results) != len(messages):  # the extension requires one result per operation
                    raise ValueError(f"the entity returned {len(results)} results for {len(messages)} operations")
                record.exists = bool(output.get("entityExists"))
                record.state = output.get("entityState") if record.exists else None
            except Exception as exc:  # the whole batch failed; state unchanged
                results = [{"isError": True, "result": json.dumps(str(exc))} for _ in messages]
            self._log_invocation("entity", info.durable_name, entity_id, time.perf_counter() - t0)
        record.last_modified = now
        responses: list[Message] = []
        for message, outcome in zip(messages, results, strict=True):
            body = message.body
            if body.get("signal") or not body.get("parent"):
                continue
            response: dict[str, Any] = {"result": outcome.get("result")}
            if outcome.get("isError"):
                response["exceptionType"] = "Error"
            responses.append(Message(
                id=message_id(message.id, "response"), target=body["parent"], kind="event",
                body=p.event_raised(now, body["id"], compact(response)), created=now,
                execution_id=body.get("parentExecution")))
        await self.store.commit_entity_batch(record, [m.id for m in messages], responses)
        self.stats.entity_batches += 1
        for sent in responses:
            self.route(sent)
        self._notify(entity_id)

    # ------------------------------------------------------------------ logging
    def _log_invocation(self, kind: str, name: str, instance_id: str, seconds: float) -> None:
        if self._on_invocation is not None:
            self._on_invocation(kind, name, instance_id, seconds)
