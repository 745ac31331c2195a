"""Watchers: the facade's waits for an instance to change (``DurableHost.wait_until``).

A watcher is an ``asyncio.Event`` set whenever the instance may have changed. A wait for a
set of runtime statuses (``DurableHost.wait``) says so when it registers: a commit that leaves
the instance in another status is not one it can return on, so it is not woken for it (a chain
of episodes wakes it once, at the end, instead of once per episode). A notification without a
status (another process changed the instance: ``poller.py``) wakes every watcher.
"""
from __future__ import annotations

import asyncio
from typing import Callable, Collection


class Watchers:
    """Mixed into ``Runtime``."""

    _watchers: dict[str, dict[asyncio.Event, Collection[str] | None]]
    _unchecked: set[asyncio.Event]  # notified watchers that have not looked yet

    _poke_if_useful: Callable[[], None]

    def watch(self, instance_id: str, statuses: Collection[str] | None = None) -> asyncio.Event:
        """``statuses``: wake only for a change to one of them (None: any change)."""
        event = asyncio.Event()
        self._watchers.setdefault(instance_id, {})[event] = statuses
        return event

    def unwatch(self, instance_id: str, event: asyncio.Event) -> None:
        self._unchecked.discard(event)
        watchers = self._watchers.get(instance_id)
        if watchers:
            watchers.pop(event, None)
            if not watchers:
                del self._watchers[instance_id]

    def checked(self, event: asyncio.Event) -> None:
        """A watcher has looked at the state its last notification was about (the loop may skip
        time again once no watcher is left to look)."""
        if event in self._unchecked:
            self._unchecked.discard(event)
            if not self._unchecked:
                self._poke_if_useful()

    def _notify(self, instance_id: str, status: str | None = None) -> None:
        """``status``: the instance's runtime status after the change, if known."""
        for event, statuses in self._watchers.get(instance_id, {}).items():
            if status is not None and statuses is not None and status not in statuses:
                continue
            event.set()
            # Until the watcher has looked, time must not skip: the wait it serves may be over.
            self._unchecked.add(event)
