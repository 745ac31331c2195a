"""Admission of the store's storage requests: client requests before background work."""
from __future__ import annotations

import asyncio
import contextlib
from typing import AsyncIterator

from ..base import background_work


class RequestGate:
    """Admission of storage requests. Client requests (starts, status reads, events) and lease
    renewals pass at once; requests of background work (``background_work``: the scheduler's
    episodes, activities, polling) take one of ``limit`` slots, and only ``busy_limit`` of them
    while a client request is in flight. Azurite is one process that serves a few hundred
    requests/s in arrival order: a backlog of hundreds of episodes' requests would queue every
    client request behind it (a served start took seconds, issue 13). Azure Storage serves a
    client request in milliseconds whatever the task hub's backlog; the gate keeps Azurite's
    queue short so that it does too, and still lets background work move on during a burst."""

    def __init__(self, limit: int, busy_limit: int = 2) -> None:
        self.limit, self.busy_limit = limit, min(busy_limit, limit)
        self._background = 0
        self._clients = 0
        self._changed = asyncio.Condition()

    @contextlib.asynccontextmanager
    async def admit(self) -> AsyncIterator[None]:
        if not background_work.get():
            self._clients += 1
            try:
                yield
            finally:
                self._clients -= 1
                if not self._clients:
                    async with self._changed:
                        self._changed.notify_all()
            return
        async with self._changed:
            await self._changed.wait_for(
                lambda: self._background < (self.busy_limit if self._clients else self.limit))
            self._background += 1
        try:
            yield
        finally:
            async with self._changed:
                self._background -= 1
                self._changed.notify()
