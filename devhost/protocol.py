"""Pure data of the extension's out-of-process (OrchestratorShim) protocol.

History event builders in the exact JSON shape DTFx serializes (PascalCase, integer
``EventType``), the orchestrator context JSON, and the timestamp format the host writes.
Nothing here does I/O or reads a clock.  Spec: ``durable-protocol.md`` sections 2 and 3.
"""
from __future__ import annotations

import json
from json.encoder import encode_basestring_ascii
from datetime import datetime, timezone
from enum import IntEnum
from typing import Any


class EventType(IntEnum):
    """DTFx ``EventType`` (append-only enum, spec 2.2)."""

    ExecutionStarted = 0
    ExecutionCompleted = 1
    ExecutionFailed = 2
    ExecutionTerminated = 3
    TaskScheduled = 4
    TaskCompleted = 5
    TaskFailed = 6
    SubOrchestrationInstanceCreated = 7
    SubOrchestrationInstanceCompleted = 8
    SubOrchestrationInstanceFailed = 9
    TimerCreated = 10
    TimerFired = 11
    OrchestratorStarted = 12
    OrchestratorCompleted = 13
    EventSent = 14
    EventRaised = 15
    ContinueAsNew = 16
    GenericEvent = 17
    HistoryState = 18
    ExecutionSuspended = 19
    ExecutionResumed = 20


class ActionType(IntEnum):
    """Action types the SDK emits (spec 3.2)."""

    CallActivity = 0
    CallActivityWithRetry = 1
    CallSubOrchestrator = 2
    CallSubOrchestratorWithRetry = 3
    ContinueAsNew = 4
    CreateTimer = 5
    WaitForExternalEvent = 6
    CallEntity = 7
    CallHttp = 8
    SignalEntity = 9
    ScheduledSignalEntity = 10
    WhenAny = 11
    WhenAll = 12


# Schema versions the extension advertises (spec 2.1): V2 and V3.
UPPER_SCHEMA_VERSION = 1
UPPER_SCHEMA_VERSION_NEW = 2
# Azure Storage provider timer limits (spec 5), as .NET TimeSpan text.
MAXIMUM_SHORT_TIMER = "6.00:00:00"
LONG_TIMER_INTERVAL = "3.00:00:00"
HTTP_ACTIVITY_NAME = "BuiltIn::HttpActivity"

# ---------------------------------------------------------------------------
# Timestamps
# ---------------------------------------------------------------------------


def format_timestamp(value: datetime) -> str:
    """Format a UTC datetime the way DTFx/Newtonsoft does: 7 fractional digits and ``Z``,
    the year always four digits (``strftime("%Y")`` leaves years below 1000 unpadded)."""
    global _last_formatted
    last = _last_formatted  # an episode stamps all its events with one ``now``: format it once
    if last[0] is value:
        return last[1]
    utc = value
    if utc.tzinfo is not None and utc.tzinfo is not timezone.utc:
        utc = utc.astimezone(timezone.utc)
    text = (f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:"
            f"{utc.minute:02d}:{utc.second:02d}.{utc.microsecond:06d}0Z")
    _last_formatted = (value, text)  # one tuple, swapped whole: safe to read from any thread
    return text


_last_formatted: tuple[datetime | None, str] = (None, "")


def format_newtonsoft_time(value: datetime, *, local: bool = False) -> str:
    """A ``DateTime`` as ``JsonConvert.SerializeObject`` writes it: up to 7 fractional digits,
    trailing zeros (and a bare dot) dropped, then ``Z`` for a UTC one, or ``+00:00`` for a local
    one (``local``: the host's local zone is UTC)."""
    text = format_timestamp(value)[:-1].rstrip("0").rstrip(".")
    return text + ("+00:00" if local else "Z")


def format_status_time(value: datetime) -> str:
    """Status API times: ``ToString("s") + "Z"`` (no fractional seconds, spec 9)."""
    return format_timestamp(value)[:19] + "Z"


def parse_timestamp(text: str) -> datetime:
    """Parse any ISO-8601 timestamp the SDK or a client may send; returns an aware UTC datetime."""
    from .fast_timestamps import parse_utc

    fast = parse_utc(text)  # the host's own format, when the fast path is on; else None
    if fast is not None:
        return fast
    from dateutil.parser import isoparse

    value = isoparse(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


# ---------------------------------------------------------------------------
# History events
# ---------------------------------------------------------------------------

Event = dict[str, Any]


def _event(event_type: EventType, timestamp: datetime, event_id: int = -1, **fields: Any) -> Event:
    event: Event = {
        "EventType": int(event_type),
        "EventId": event_id,
        "IsPlayed": False,
        "Timestamp": format_timestamp(timestamp),
    }
    event.update(fields)
    return event


def orchestrator_started(ts: datetime) -> Event:
    return _event(EventType.OrchestratorStarted, ts)


def orchestrator_completed(ts: datetime) -> Event:
    return _event(EventType.OrchestratorCompleted, ts)


def execution_started(
    ts: datetime,
    *,
    name: str,
    instance_id: str,
    execution_id: str,
    input_text: str | None,
    parent: dict[str, Any] | None = None,
    scheduled_start: datetime | None = None,
    generation: int = 0,
) -> Event:
    return _event(
        EventType.ExecutionStarted,
        ts,
        OrchestrationInstance={"InstanceId": instance_id, "ExecutionId": execution_id},
        ParentInstance=parent,
        Name=name,
        Version="",
        Input=input_text,
        Tags=None,
        ScheduledStartTime=format_timestamp(scheduled_start) if scheduled_start else None,
        Generation=generation,
    )


# DTFx ``OrchestrationStatus`` integers, as Newtonsoft writes them into ExecutionCompleted.
ORCHESTRATION_STATUS = {
    "Running": 0, "Completed": 1, "ContinuedAsNew": 2, "Failed": 3, "Canceled": 4,
    "Terminated": 5, "Pending": 6, "Suspended": 7,
}
ORCHESTRATION_STATUS_NAMES = {value: name for name, value in ORCHESTRATION_STATUS.items()}


def execution_completed(ts: datetime, event_id: int, status: str, result: str | None) -> Event:
    return _event(
        EventType.ExecutionCompleted, ts, event_id,
        OrchestrationStatus=ORCHESTRATION_STATUS[status], Result=result, FailureDetails=None,
    )


def execution_terminated(ts: datetime, reason: str | None) -> Event:
    return _event(EventType.ExecutionTerminated, ts, Input=reason)


def execution_suspended(ts: datetime, reason: str | None) -> Event:
    return _event(EventType.ExecutionSuspended, ts, Reason=reason)


def execution_resumed(ts: datetime, reason: str | None) -> Event:
    return _event(EventType.ExecutionResumed, ts, Reason=reason)


def task_scheduled(ts: datetime, seq: int, name: str, input_text: str | None) -> Event:
    return _event(EventType.TaskScheduled, ts, seq, Name=name, Version="", Input=input_text)


def task_completed(ts: datetime, seq: int, result: str | None) -> Event:
    return _event(EventType.TaskCompleted, ts, TaskScheduledId=seq, Result=result)


def task_failed(ts: datetime, seq: int, reason: str, details: str | None) -> Event:
    return _event(
        EventType.TaskFailed, ts, TaskScheduledId=seq, Reason=reason, Details=details,
        FailureDetails=None,
    )


def sub_orchestration_created(
    ts: datetime, seq: int, name: str, instance_id: str, input_text: str | None
) -> Event:
    return _event(
        EventType.SubOrchestrationInstanceCreated, ts, seq,
        Name=name, Version="", InstanceId=instance_id, Input=input_text,
    )


def sub_orchestration_completed(ts: datetime, seq: int, result: str | None) -> Event:
    return _event(EventType.SubOrchestrationInstanceCompleted, ts, TaskScheduledId=seq, Result=result)


def sub_orchestration_failed(ts: datetime, seq: int, reason: str | None, details: str | None) -> Event:
    return _event(
        EventType.SubOrchestrationInstanceFailed, ts,
        TaskScheduledId=seq, Reason=reason, Details=details, FailureDetails=None,
    )


def timer_created(ts: datetime, seq: int, fire_at: str) -> Event:
    return _event(EventType.TimerCreated, ts, seq, FireAt=fire_at)


def timer_fired(ts: datetime, seq: int, fire_at: str) -> Event:
    return _event(EventType.TimerFired, ts, TimerId=seq, FireAt=fire_at)


def event_sent(ts: datetime, seq: int, instance_id: str, name: str, input_text: str) -> Event:
    return _event(EventType.EventSent, ts, seq, InstanceId=instance_id, Name=name, Input=input_text)


def event_raised(ts: datetime, name: str, input_text: str | None) -> Event:
    return _event(EventType.EventRaised, ts, Name=name, Input=input_text)


# ---------------------------------------------------------------------------
# Orchestrator trigger input
# ---------------------------------------------------------------------------


def context_json(
    history_json: str, *, input_text: str | None, instance_id: str, parent_instance_id: str | None
) -> str:
    """The JSON the extension hands the orchestrator trigger (spec 2.1).

    ``history_json`` is the already-serialized history array (hosts cache the serialization
    of earlier episodes). ``input_text`` is ``ExecutionStarted.Input``: the JSON text of the
    input token, embedded as is (for Python-started instances a JSON string holding JSON text).
    """
    head, tail = context_json_around(input_text=input_text, instance_id=instance_id,
                                     parent_instance_id=parent_instance_id)
    return head + history_json + tail


def context_json_around(*, input_text: str | None, instance_id: str, parent_instance_id: str | None
                        ) -> tuple[str, str]:
    """What ``context_json`` puts before and after the history array: the text of
    ``json.dumps`` of the context object, its constant members serialized once."""
    parent = "null" if parent_instance_id is None else encode_basestring_ascii(parent_instance_id)
    raw_input = input_text if input_text is not None else "null"
    return '{"history": ', (', "input": ' + raw_input + ', "instanceId": ' + encode_basestring_ascii(instance_id)
                            + ', "isReplaying": false, "parentInstanceId": ' + parent + _CONTEXT_TAIL)


# The members after parentInstanceId, in json.dumps's text (default separators).
_CONTEXT_TAIL = ", " + json.dumps({
    "upperSchemaVersion": UPPER_SCHEMA_VERSION,
    "upperSchemaVersionNew": UPPER_SCHEMA_VERSION_NEW,
    "longRunningTimerIntervalDuration": LONG_TIMER_INTERVAL,
    "maximumShortTimerDuration": MAXIMUM_SHORT_TIMER,
    "defaultHttpAsyncRequestSleepTimeMillseconds": 30000,
})[1:]


OUT_OF_PROC_MARKER = "\n\n$OutOfProcData$:"


def split_out_of_proc_error(message: str) -> str | None:
    """Extract the orchestrator state JSON the SDK embeds in a raised exception (spec 4.3)."""
    index = message.find(OUT_OF_PROC_MARKER)
    if index < 0:
        return None
    return message[index + len(OUT_OF_PROC_MARKER):]


def entity_scheduler_id(name: str, key: str) -> str:
    """``@<lower-cased name>@<key>`` (spec 7.3)."""
    return f"@{name.lower()}@{key}"


def parse_entity_scheduler_id(instance_id: str) -> tuple[str, str]:
    if not instance_id.startswith("@"):
        raise ValueError(f"Not an entity instance id: {instance_id!r}")
    name, sep, key = instance_id[1:].partition("@")
    if not sep:
        raise ValueError(f"Not an entity instance id: {instance_id!r}")
    return name, key
