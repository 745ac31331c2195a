"""Runs the app's timer-trigger functions on their schedules (served mode only).

One loop per function plays the Timers extension's ``TimerListener``: an optional start-up run
(``RunOnStartup``), then each occurrence in turn; an invocation is awaited before the next is
timed (the listener restarts its timer only after ``InvokeJobFunction``), so runs never
overlap, and the next occurrence is computed from the time the run began, so a run that
overran it is followed at once by one more (``GetNextTimerInterval``: one tick). A function
that raises is logged and the schedule goes on. The ``TimerRequest`` carries what the
extension's ``TimerInfo`` serializes to: ``IsPastDue``, ``Schedule`` (its one public property,
``AdjustForDST``) and, when the schedule monitor is on, ``ScheduleStatus`` (Last/Next/LastUpdated).
"""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone
from typing import Any

from . import protocol as p
from .app_index import FunctionInfo
from .clock import Clock
from .cron import Schedule
from .disabled import DisabledFunctions
from .invoke import Invoker

log = logging.getLogger("devhost")

# default(DateTime).ToLocalTime(): the Last/LastUpdated of a status nothing has updated yet
_NEVER = datetime(1, 1, 1, tzinfo=timezone.utc)


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
        now = self.clock.now()
        # TimerSchedule.Create: UseMonitor is turned off for schedules more frequent than a minute.
        monitor = info.use_monitor and schedule.monitor_allowed(now)
        # TimerListener.StartAsync: with no stored status (devhost keeps none across restarts, so
        # a start is never past due) the status is Last/LastUpdated = default(DateTime).
        status = {"Last": _NEVER, "Next": schedule.next_after(now), "LastUpdated": _NEVER}
        if info.run_on_startup:
            status = await self._invoke(info, schedule, status, monitor, self.clock.now(), run_on_startup=True)
        while True:
            due = status["Next"]
            if due is None:  # never fires again (NCrontab answers its end time)
                await asyncio.Event().wait()
            await asyncio.sleep(max(0.0, (due - self.clock.now()).total_seconds()))
            status = await self._invoke(info, schedule, status, monitor, self.clock.now())

    async def _invoke(self, info: FunctionInfo, schedule: Schedule, status: dict[str, Any], monitor: bool,
                      invoked_at: datetime, run_on_startup: bool = False) -> dict[str, Any]:
        """``TimerListener.InvokeJobFunction``: run the function, then the status moves on from
        the time the run began (or the occurrence it ran for, if the timer fired early)."""
        schedule_status = None
        if monitor:
            schedule_status = {key: p.format_newtonsoft_time(value, local=True) if value else None
                               for key, value in status.items()}
        try:
            await self.invoker.timer(info, {"Schedule": {"AdjustForDST": not schedule.is_constant},
                                            "ScheduleStatus": schedule_status, "IsPastDue": False})
            log.info("timer %s fired", info.name)
        except Exception:
            log.exception("timer function %s failed", info.name)
        adjusted = invoked_at
        if not run_on_startup and status["Next"] is not None and status["Next"] > invoked_at:
            adjusted = status["Next"]
        return {"Last": adjusted, "Next": schedule.next_after(adjusted), "LastUpdated": adjusted}
