"""Status payloads as the extension's HTTP API returns them (spec 9)."""
from __future__ import annotations

import json
from typing import Any

from . import protocol as p
from .store.base import Event, InstanceRecord

_SCHEDULING = {p.EventType.TaskScheduled, p.EventType.SubOrchestrationInstanceCreated}
_COMPLETIONS = {
    p.EventType.TaskCompleted, p.EventType.TaskFailed,
    p.EventType.SubOrchestrationInstanceCompleted, p.EventType.SubOrchestrationInstanceFailed,
}
_HIDDEN = {p.EventType.OrchestratorStarted, p.EventType.OrchestratorCompleted}


def parse_token(text: str | None) -> Any:
    """Stored JSON text -> JSON value; text that is not JSON is returned raw (failure reasons)."""
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def status_payload(record: InstanceRecord, *, show_input: bool = True,
                   history: list[Event] | None = None, show_history_output: bool = False) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "name": record.name,
        "instanceId": record.instance_id,
        "runtimeStatus": record.status,
        "input": parse_token(record.input) if show_input else None,
        "customStatus": parse_token(record.custom_status),
        "output": parse_token(record.output),
        "createdTime": p.format_status_time(record.created_time),
        "lastUpdatedTime": p.format_status_time(record.last_updated_time),
    }
    if history is not None:
        payload["historyEvents"] = history_rows(history, show_input=show_input,
                                                show_output=show_history_output)
    return payload


def history_rows(history: list[Event], *, show_input: bool, show_output: bool) -> list[dict[str, Any]]:
    scheduled = {e["EventId"]: e for e in history if e["EventType"] in _SCHEDULING}
    completed_ids = {e["TaskScheduledId"] for e in history if e["EventType"] in _COMPLETIONS}
    rows: list[dict[str, Any]] = []
    for event in history:
        etype = p.EventType(event["EventType"]) if event["EventType"] in p.EventType._value2member_map_ else None
        if etype in _HIDDEN:
            continue
        if etype in _SCHEDULING and event["EventId"] in completed_ids:
            continue  # merged into its completion row
        row = {k: v for k, v in event.items() if k not in ("EventId", "IsPlayed")}
        row["EventType"] = etype.name if etype is not None else event["EventType"]
        if etype in _COMPLETIONS:
            source = scheduled.get(row.pop("TaskScheduledId"))
            if source is not None:
                row["FunctionName"] = source.get("Name")
                row["ScheduledTime"] = source.get("Timestamp")
                if show_input:
                    row["Input"] = parse_token(source.get("Input"))
            if "Result" in row:
                if show_output:
                    row["Result"] = parse_token(row["Result"])
                else:
                    del row["Result"]
        elif etype == p.EventType.ExecutionStarted:
            row["FunctionName"] = row.pop("Name", None)
            for key in ("OrchestrationInstance", "ParentInstance", "Version", "Tags"):
                row.pop(key, None)
        elif etype == p.EventType.ExecutionCompleted:
            row["OrchestrationStatus"] = p.ORCHESTRATION_STATUS_NAMES.get(row.get("OrchestrationStatus"),
                                                                          row.get("OrchestrationStatus"))
            if "Result" in row:
                row["Result"] = parse_token(row["Result"])
        elif etype == p.EventType.TimerFired:
            row.pop("TimerId", None)
        if not show_input:
            row.pop("Input", None)
        elif "Input" in row and etype not in _COMPLETIONS:
            row["Input"] = parse_token(row["Input"])
        rows.append(row)
    return rows
