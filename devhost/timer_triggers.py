"""Runs the app's timer-trigger functions on their schedules (served mode only)."""
from __future__ import annotations

import asyncio
import logging

from .app_index import FunctionInfo
from .clock import Clock
from .cron import Schedule
from .disabled import DisabledFunctions
from .invoke import Invoker

log = logging.getLogger("devhost")


class TimerTriggers:
    def __init__(self, functions: list[FunctionInfo], clock: Clock, invoker: Invoker,
                 disabled: DisabledFunctions = DisabledFunctions()) -> None:
        self.clock = clock
        self.invoker = invoker
        # A disabled timer gets no listener, so it never fires (devhost/disabled.py).
        self.schedules = [(info, Schedule(info.schedule or "")) for info in functions if info not in disabled]
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        for info, schedule in self.schedules:
            self._tasks.append(asyncio.create_task(self._run(info, schedule), name=f"timer-{info.name}"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _run(self, info: FunctionInfo, schedule: Schedule) -> None:
        if info.run_on_startup:
            await self._fire(info, past_due=False)
        while True:
            due = schedule.next_after(self.clock.now())
            await asyncio.sleep(max(0.0, (due - self.clock.now()).total_seconds()))
            await self._fire(info, past_due=False)

    async def _fire(self, info: FunctionInfo, past_due: bool) -> None:
        try:
            await self.invoker.timer(info, past_due)
            log.info("timer %s fired", info.name)
        except Exception:
            log.exception("timer function %s failed", info.name)
