"""Timer triggers as the Timers extension runs them (Azure/azure-webjobs-sdk-extensions
2e7550f, src/WebJobs.Extensions/Extensions/Timers/) with NCrontab's field syntax
(atifaziz/NCrontab, NCrontab/CrontabFieldImpl.cs, CrontabField.cs, CrontabSchedule.cs)."""
from __future__ import annotations

import asyncio
import time
from datetime import datetime, timezone

import pytest

from devhost.app_index import FunctionInfo
from devhost.clock import RealClock
from devhost.cron import Schedule
from devhost.timer_triggers import TimerTriggers


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


@pytest.mark.parametrize("expression, after, expected", [
    # CrontabSchedule.TryGetNextOccurrence: the day is found from the day field, then
    # "if (this.daysOfWeek.Contains((int)nextTime.DayOfWeek)) return nextTime;" - both must match
    # (no Vixie-cron OR): Friday the 13th, not every 13th and every Friday.
    ("0 0 0 13 * FRI", "2026-01-01T00:00:00", "2026-02-13T00:00:00"),
    # CrontabFieldImpl.ParseValue: "Comparer.IsPrefix(this.names[i], str, CompareOptions.IgnoreCase)"
    # over "Sunday".."Saturday" / "January".."December": full names and any prefix.
    ("0 0 9 * * Monday", "2026-01-01T00:00:00", "2026-01-05T09:00:00"),
    ("0 0 9 1 february *", "2026-01-01T00:00:00", "2026-02-01T09:00:00"),
    # CrontabField.Accumulate: "if (start > end) { ... swap ... }"
    ("0 0 9 * * 5-1", "2026-01-01T00:00:00", "2026-01-01T09:00:00"),
    # InternalParse splits on ',' first, so a step applies to its own item only
    ("0 5,10/20 * * * *", "2026-01-01T00:06:00", "2026-01-01T00:10:00"),
    # Accumulate: "if (interval < 1) interval = 1"
    ("*/0 * * * * *", "2026-01-01T00:00:00", "2026-01-01T00:00:01"),
    # TimerSchedule.Create falls back to TimeSpan.TryParse: "hh:mm" and a bare day count
    ("00:05", "2026-01-01T00:00:00", "2026-01-01T00:05:00"),
    ("1", "2026-01-01T00:00:00", "2026-01-02T00:00:00"),
])
def test_ncrontab_and_timespan_schedules(expression, after, expected):
    assert Schedule(expression).next_after(_at(after)) == _at(expected)


def test_schedule_resolves_app_settings_and_refuses_with_the_extension_message(monkeypatch):
    # TimerSchedule.Create: "string resolvedExpression = nameResolver.ResolveWholeString(
    # attribute.ScheduleExpression);" then, if neither cron nor TimeSpan, "The schedule expression
    # '{0}' was not recognized as a valid cron expression or timespan string."
    monkeypatch.setenv("MY_SCHEDULE", "0 */5 * * * *")
    assert Schedule("%MY_SCHEDULE%").next_after(_at("2026-01-01T00:01:00")) == _at("2026-01-01T00:05:00")
    monkeypatch.delenv("MY_SCHEDULE")
    with pytest.raises(ValueError, match="'%MY_SCHEDULE%' does not resolve to a value."):
        Schedule("%MY_SCHEDULE%")
    with pytest.raises(ValueError, match="The schedule expression 'every hour' was not recognized as a valid "
                                         "cron expression or timespan string."):
        Schedule("every hour")


class _Recorder:
    def __init__(self, first_run_seconds: float = 0.0) -> None:
        self.calls: list[tuple[float, float, dict]] = []
        self.first_run_seconds = first_run_seconds

    async def timer(self, info, timer_info):
        started = time.monotonic()
        if not self.calls and self.first_run_seconds:
            await asyncio.sleep(self.first_run_seconds)
        self.calls.append((started, time.monotonic(), timer_info))


def _timer(schedule: str, run_on_startup: bool = False, use_monitor: bool = True) -> FunctionInfo:
    return FunctionInfo(name="tick", kind="timer", durable_name="tick", fn=lambda timer: None, is_async=False,
                        trigger_param="timer", schedule=schedule, run_on_startup=run_on_startup,
                        use_monitor=use_monitor)


async def _run(info: FunctionInfo, recorder: _Recorder, seconds: float) -> None:
    triggers = TimerTriggers([info], RealClock(), recorder)
    triggers.start()
    try:
        await asyncio.sleep(seconds)
    finally:
        await triggers.stop()


async def test_the_function_gets_the_schedule_status_and_schedule_of_timer_info():
    # TimerListener.StartAsync (no stored status): "Last = default(DateTime).ToLocalTime(),
    # Next = _schedule.GetNextOccurrence(now.LocalDateTime), LastUpdated = default(DateTime)...";
    # InvokeJobFunction: "new TimerInfo(_schedule, timerInfoStatus, isPastDue)" with the status
    # only "if (ScheduleMonitor != null)" (TimerTriggerAttribute: "UseMonitor = true").
    # The host sends it as JSON (GrpcMessageConversionExtensions.ToRpcDefault:
    # JsonConvert.SerializeObject); CronSchedule's one public property is AdjustForDST => true.
    recorder = _Recorder()
    await _run(_timer("0 0 0 * * *", run_on_startup=True), recorder, 0.1)
    (_, _, timer_info), = recorder.calls
    assert timer_info["IsPastDue"] is False
    assert timer_info["Schedule"] == {"AdjustForDST": True}
    status = timer_info["ScheduleStatus"]
    assert status["Last"] == status["LastUpdated"] == "0001-01-01T00:00:00+00:00"
    assert status["Next"].endswith("T00:00:00+00:00")

    recorder = _Recorder()  # useMonitor: false -> no ScheduleStatus (the worker's TimerRequest: {})
    await _run(_timer("0 0 0 * * *", run_on_startup=True, use_monitor=False), recorder, 0.1)
    assert recorder.calls[0][2]["ScheduleStatus"] is None

    # TimerSchedule.Create: "if (attribute.UseMonitor && periodTimespan.TotalMinutes < 1) ...
    # attribute.UseMonitor = false"; ConstantSchedule.AdjustForDST => false.
    recorder = _Recorder()
    await _run(_timer("00:00:30", run_on_startup=True), recorder, 0.1)
    assert recorder.calls[0][2]["ScheduleStatus"] is None
    assert recorder.calls[0][2]["Schedule"] == {"AdjustForDST": False}


async def test_a_run_that_overruns_the_next_occurrence_is_followed_at_once_by_one_more():
    # TimerListener.InvokeJobFunction computes "Next = _schedule.GetNextOccurrence(
    # adjustedInvocationTime...)" from the time the run began; HandleTimerEvent then restarts the
    # timer and GetNextTimerInterval answers one tick for a Next already past. The runs never
    # overlap (_invocationLock; the timer restarts only after the invocation).
    recorder = _Recorder(first_run_seconds=0.35)
    await _run(_timer("00:00:00.2", run_on_startup=True), recorder, 0.5)
    (_, first_end, _), (second_start, second_end, _), *_ = recorder.calls
    assert second_start >= first_end
    assert second_start - first_end < 0.05  # not a wait for the next 200 ms occurrence
