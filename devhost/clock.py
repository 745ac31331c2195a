"""Clocks: the only place the host reads the time.

``RealClock`` is wall time. ``VirtualClock`` runs at wall speed plus an offset that grows when
time is skipped: while a test waits for an instance (``skipping()``) and nothing is runnable,
the scheduler jumps it straight to the next due timer; ``advance()`` moves it explicitly.
"""
from __future__ import annotations

import contextlib
from datetime import datetime, timedelta, timezone
from typing import Iterator


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class RealClock:
    virtual = False

    def now(self) -> datetime:
        return utc_now()

    @property
    def may_skip(self) -> bool:
        return False

    def skip_to(self, when: datetime) -> None:  # pragma: no cover - never skips
        raise RuntimeError("the real clock cannot skip time")


class VirtualClock:
    virtual = True

    def __init__(self, start: datetime | None = None, auto_skip: bool = False) -> None:
        self._offset = (start - utc_now()) if start is not None else timedelta(0)
        self._last = utc_now() + self._offset
        self._skippers = 1 if auto_skip else 0
        self.skipped = timedelta(0)  # total jumped by ``skip_to`` (not by ``advance``)

    def now(self) -> datetime:
        # Monotonic even if the wall clock steps back: orchestration time must never decrease.
        current = utc_now() + self._offset
        if current < self._last:
            current = self._last
        self._last = current
        return current

    def advance(self, delta: timedelta) -> None:
        if delta < timedelta(0):
            raise ValueError("time only moves forward")
        self._offset += delta
        self._last += delta

    def skip_to(self, when: datetime) -> None:
        gap = when - self.now()
        if gap > timedelta(0):
            self.advance(gap)
            self.skipped += gap

    @property
    def may_skip(self) -> bool:
        return self._skippers > 0

    @contextlib.contextmanager
    def skipping(self) -> Iterator[None]:
        """Allow time skipping for the duration of the block (nests)."""
        self._skippers += 1
        try:
            yield
        finally:
            self._skippers -= 1


Clock = RealClock | VirtualClock
