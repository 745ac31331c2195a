"""The orchestration episode runner: an instance's due messages through the engine to one
commit, and what follows the commit (activities to start, messages to route, waiters to wake).

A mixin of ``Runtime`` (``devhost/scheduler.py``), which decides when an instance's episode
runs; this module runs it. Between episodes it keeps each instance's history, its serialized
text and the shim's walk of it (``CachedInstance``), all derivable from the store, so that an
episode's own work is O(new events).
"""
from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from .engine import Engine, EpisodeResult
from .faults import InjectedCrash
from .history_text import HistoryText
from .shim import ReplayState
from .store.base import TERMINAL_STATUSES, Event, InstanceRecord


@dataclass
class CachedInstance:
    """What the runtime remembers of an instance between episodes (all derivable from the store)."""

    history: list[Event]
    history_json: HistoryText | None
    etag: str | None
    replay: ReplayState | None


class EpisodeRunner:
    """Uses the ``Runtime`` attributes it is mixed into: store, clock, engine, invoker, faults,
    stats, and routes what a commit sends through ``Runtime.route``."""

    engine: Engine
    _history: dict[str, CachedInstance]
    _crashes: Counter[str]
    _activities_reserved: int

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
            cached = CachedInstance(history, None, None, None)
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
        commit.lease_work = self.runnable_now(commit.work)
        self._activities_reserved += len(commit.lease_work)  # (slots another commit must not count)
        try:
            await self.store.commit_episode(commit)
        finally:
            self._activities_reserved -= len(commit.lease_work)
        elapsed = time.perf_counter() - t0 + result.engine_seconds
        instance = commit.instance
        if commit.new_execution:
            self.created(instance)
        else:
            history.extend(commit.new_events)  # in place: only this cache holds the list (O(new events))
            self._history[instance_id] = CachedInstance(history, result.history_json,
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
        self._notify(instance_id, commit.instance.status)

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
        """``instance`` (or its new execution) was just stored here: its history is empty at its
        ETag (no read needed)."""
        self._history[instance.instance_id] = CachedInstance([], HistoryText(), instance.etag, None)
