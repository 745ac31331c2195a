"""Polling for stores that several host processes share (``Store.shared``).

The scheduler is push-driven: whatever this process writes, it routes itself. Work that
*another* process wrote (a raised event, an activity result, an orphaned work item whose
lease expired after a crash) only shows up in the store, so every ``poll_interval`` this
loop reads the pending messages and work items and hands them to the runtime:

* due messages are routed (the target's episode then takes the target's lease, or skips
  when another process holds it; that process's own scheduler handles it);
* timers not seen before go into the timer heap;
* work items that no live process leases are queued (``claim_work`` takes the lease once a
  worker slot is free);
* waiters on an instance are woken so that they re-read its status.

Before all that, the store takes over the expired leases of processes that died
(``Store.recover_abandoned``) and finishes the step each one left half done, so a process that
keeps running beside a dead one needs no restart to carry on its work.

Single-process stores (``MemoryStore``) never start it.
"""
from __future__ import annotations

import asyncio
import logging
import random
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from .scheduler import Runtime

log = logging.getLogger("devhost")


async def poll_store(runtime: "Runtime", interval: float | None = None) -> None:
    store = runtime.store
    interval = interval or float(getattr(store, "poll_interval", 1.0))
    timers_seen: set[str] = set()
    while True:
        await asyncio.sleep(interval)
        try:
            timers_seen = await poll_once(runtime, timers_seen)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.warning("devhost: polling the store failed", exc_info=True)


async def poll_once(runtime: "Runtime", timers_seen: set[str] | frozenset[str] = frozenset()) -> set[str]:
    """One pass; returns the ids of future timers now known to the runtime."""
    store = runtime.store
    await store.recover_abandoned()  # a dead process's expired leases: take them over first
    now = runtime.clock.now()
    future: set[str] = set()
    for message in await store.pending_messages():
        if message.due is not None and message.due > now:
            future.add(message.id)
            if message.id in timers_seen:
                continue
        elif runtime.knows(message.target):
            continue  # this process is on it already (or will be)
        runtime.route(message)
    work = await store.pending_work()
    # In random order: the process that scheduled a fan-out starts it in order, so taking the
    # items in the same order would mostly race it for the same leases.
    random.shuffle(work)
    for item in work:
        if store.work_claimable(item):
            runtime.start_activity(item)
    for instance_id in list(runtime._watchers):
        runtime._notify(instance_id)
    return future
