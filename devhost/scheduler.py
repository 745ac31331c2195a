"""The runtime loop: moves work between the store, the engine and the function invoker.

One asyncio loop owns three kinds of work: orchestration episodes (one at a time per
instance, all due messages of the instance in one episode), entity batches, and activities
(concurrently; sync ones in the invoker's thread pool). Timers wait in a heap; with a
virtual clock that may skip, the loop jumps time to the next due timer whenever nothing
else can run.

By job: this module is the loop, routing and dispatch (which target runs when, in which
task); orchestration episodes run in ``episodes.py``, activities in ``activities.py``, entity
batches in ``entities.py`` and waits on instances in ``watchers.py`` (mixins of ``Runtime``);
when an episode may wait for more of a fan-in is ``batching.py``; options and counters are in
``runtime_options.py`` (re-exported here).
"""
from __future__ import annotations

import asyncio
import heapq
import logging
from collections import Counter
from datetime import datetime, timedelta
from typing import Any, Callable, Collection

from . import fast_timestamps, sdk_patches
from .activities import ActivityRunner
from .app_index import AppIndex
from .batching import FanIn
from .clock import Clock
from .engine import Engine
from .entities import EntityRunner
from .episodes import CachedInstance, EpisodeRunner
from .faults import FaultPlan, InjectedCrash
from .invoke import Invoker
from .runtime_options import RuntimeOptions, RuntimeStats
from .store.base import ConflictError, Message, Store, background_context
from .watchers import Watchers

__all__ = ["Runtime", "RuntimeOptions", "RuntimeStats"]

log = logging.getLogger("devhost")


class Runtime(EpisodeRunner, ActivityRunner, EntityRunner, Watchers):
    """The loop, routing and dispatch; episodes, activities and entity batches are run by the
    mixins (``episodes.py``, ``activities.py``, ``entities.py``), the fan-in policy is ``batching.py``."""

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
        self._activities_reserved = 0  # free worker slots promised to commits in progress
        # Ready targets whose every message since their last dispatch might be held (batching.py).
        self._fan_in: dict[str, FanIn] = {}
        self._history: dict[str, CachedInstance] = {}
        self._watchers: dict[str, dict[asyncio.Event, Collection[str] | None]] = {}  # (watchers.py)
        self._unchecked: set[asyncio.Event] = set()  # notified watchers that have not looked yet
        self._tasks: set[asyncio.Task[Any]] = set()
        self._steps: set[asyncio.Task[Any]] = set()  # episodes and entity batches in flight
        self._wakeup: asyncio.Event | None = None
        self._dispatch_pending = False
        self._loop_task: asyncio.Task[None] | None = None
        self._activity_slots: asyncio.Semaphore | None = None
        self._episode_slots: asyncio.Semaphore | None = None
        self._stopping = False
        self._crashes: Counter[str] = Counter()
        self._entity_failures: dict[str, int] = {}
        self._retries = 0
        self.faults = self.options.faults or FaultPlan()

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        fast_timestamps.configure(self.options.fast_timestamps)
        sdk_patches.configure(self.options.sdk_patches)
        self._wakeup = asyncio.Event()
        self._activity_slots = asyncio.Semaphore(self.options.max_concurrent_activities)
        self._episode_slots = asyncio.Semaphore(self.options.max_concurrent_orchestrations)
        for message in await self.store.pending_messages():
            self.route(message)
        for item in await self.store.pending_work():  # crash recovery: at-least-once
            self.start_activity(item)
        self._loop_task = asyncio.create_task(self._loop(), name="devhost-scheduler", context=background_context())
        if self.store.shared:  # other processes write to the same store: poll it (devhost/poller.py)
            from .poller import poll_store

            self._spawn(poll_store(self))

    async def stop(self, grace: float = 10.0) -> None:
        self._stopping = True
        if self._wakeup:
            self._wakeup.set()
        if self._loop_task:
            self._loop_task.cancel()
            try:
                await self._loop_task
            except (asyncio.CancelledError, Exception):
                pass
        # Episodes and entity batches in flight take milliseconds: let them end. One cut off between
        # its commit and what follows would leave its outbox and query view to whichever process
        # takes the target over next, and a clean stop releases its leases, so none would soon.
        if self._steps:
            await asyncio.wait(list(self._steps), timeout=grace)
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
            self._poke()  # the loop's next sleep ends at this timer
        else:
            self._mark_ready(message.target, message)
            self._dispatch_soon()

    def _mark_ready(self, target: str, message: Message | None = None) -> None:
        """``target`` has work; ``message`` (if any) is why. Without one it must run, unheld."""
        fan_in = self._fan_in.get(target)
        if target in self._ready and fan_in is None:
            return  # already due to run unheld
        if message is None or not self.options.fan_in_hold or not self._inflight[target]:
            self._fan_in.pop(target, None)  # nothing in flight (a chain's step): no hold to judge
        else:
            if fan_in is None:
                fan_in = self._fan_in[target] = FanIn()
            fan_in.add(message)
        self._ready[target] = None

    def knows(self, target: str) -> bool:
        """Whether this process is running ``target`` or will, with every message it has seen."""
        return target in self._running or (target in self._ready and target not in self._fan_in)

    def forget_timers(self, ids: list[str]) -> None:
        self._live_timers.difference_update(ids)

    def retry_later(self, target: str, seconds: float) -> None:
        """Make ``target`` ready again after ``seconds`` (a timer of the host's own)."""
        self._retries += 1
        retry_id = f"retry:{self._retries}"
        heapq.heappush(self._timers, (self.clock.now() + timedelta(seconds=seconds), retry_id, target))
        self._live_timers.add(retry_id)
        self._poke()

    def _dispatch_soon(self) -> None:
        """Dispatch the ready targets once everything routed in this pass of the event loop is
        known (so a target gets all of them in one episode), in a callback of the next pass:
        waking the scheduler's loop task for it would cost a task step and a look at the timers."""
        if self._loop_task is None:  # not started yet: the loop's first pass dispatches
            return
        if not self._dispatch_pending:
            self._dispatch_pending = True
            asyncio.get_running_loop().call_soon(self._dispatch_now)

    def _dispatch_now(self) -> None:
        self._dispatch_pending = False
        if not self._stopping:
            self._dispatch_ready()

    def _poke(self) -> None:
        if self._wakeup is not None:
            self._wakeup.set()

    def _poke_if_useful(self) -> None:
        """Poke the loop after a task ended, unless its next pass could do nothing: no target is
        ready (to dispatch, or to release from a hold) and there is no timer to skip time to.
        A message or a timer becomes known by ``route`` itself (a dispatch, or a poke)."""
        if self._ready or (self._timers and self.clock.may_skip):
            self._poke()

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro, context=background_context())
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("devhost task failed", exc_info=task.exception())
        self._poke_if_useful()

    # ------------------------------------------------------------------ main loop
    async def _loop(self) -> None:
        assert self._wakeup is not None
        while not self._stopping:
            self._wakeup.clear()
            now = self.clock.now()
            self._release_due_timers(now)
            self._dispatch_ready()
            due = self._next_timer()
            if self.idle and self.clock.may_skip and not self._unchecked and due is not None:
                self.clock.skip_to(due)
                continue
            timeout = None if due is None else max(0.0, (due - self.clock.now()).total_seconds())
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
                self._mark_ready(target)

    def _dispatch_ready(self) -> None:
        """Start an episode/batch for every ready target that is not held."""
        for target in list(self._ready):
            if target in self._running or self._held(target):
                continue
            self._claim(target)
            step = self._spawn(self._run_target(target))
            self._steps.add(step)
            step.add_done_callback(self._steps.discard)

    async def _continue_with(self, target: str) -> None:
        """Run ``target``'s episode in the calling activity task, which just routed its result,
        if nothing else of the target is in flight or dispatched (a chain's next step): no
        dispatch callback, no new task, two passes of the event loop fewer per step."""
        if (target not in self._ready or target in self._running or target in self._fan_in
                or self._inflight[target] or self._stopping):
            return
        self._claim(target)
        task = asyncio.current_task()
        assert task is not None
        self._steps.add(task)  # stop() lets it end, as it does a dispatched episode
        try:
            await self._run_target(target)
        finally:
            self._steps.discard(task)

    def _claim(self, target: str) -> None:
        """``target`` stops being ready: its episode or batch starts now."""
        self._fan_in.pop(target, None)
        del self._ready[target]
        self._running.add(target)

    def _held(self, target: str) -> bool:
        """Hold ``target``'s episode (devhost/batching.py) only while this host runs activities of
        it: each one ends by routing a message (or its task ending pokes the loop), so the hold is
        looked at again, and with none left in flight nothing is held."""
        fan_in = self._fan_in.get(target)
        if fan_in is None or not self._inflight[target]:
            return False
        cached = self._history.get(target)
        return not fan_in.could_progress(cached.replay if cached is not None else None)

    async def _run_target(self, target: str) -> None:
        assert self._episode_slots is not None
        try:
            # (as DTFx's dispatcher takes an orchestration work item only with a free slot)
            async with self._episode_slots, self.store.lease(target) as held:  # shared: one process per target
                if not held:
                    return
                if target.startswith("@"):
                    await self._run_entity(target)
                else:
                    await self._run_episode(target)
        except ConflictError:
            self._history.pop(target, None)
            self._mark_ready(target)
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
                self._mark_ready(target)  # redo the episode from the stored state
        else:
            self._crashes.pop(target, None)
        finally:
            self._running.discard(target)
            self._poke_if_useful()

    # ------------------------------------------------------------------ logging
    def _log_invocation(self, kind: str, name: str, instance_id: str, seconds: float) -> None:
        if self._on_invocation is not None:
            self._on_invocation(kind, name, instance_id, seconds)
