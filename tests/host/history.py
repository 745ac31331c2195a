"""Small readers for stored histories, shared by the host tests."""
from __future__ import annotations


def event_types(history: list[dict]) -> list[str]:
    from devhost.protocol import EventType

    return [EventType(e["EventType"]).name for e in history]


def scheduled_ids(history: list[dict], event_type: str) -> list[int]:
    from devhost.protocol import EventType

    wanted = EventType[event_type]
    return [e["EventId"] for e in history if e["EventType"] == wanted]
