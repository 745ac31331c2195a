"""An instance's history as JSON text that grows by appending, never by copying.

The SDK must be handed the whole history every episode (the Python SDK has no extended
sessions), so building that one context JSON string is the O(history) step the protocol needs.
Nothing else should be: this keeps the serialized history as one fragment per episode
(``json.dumps`` of that episode's events, brackets stripped), and the context JSON is made by a
single ``str.join`` over the fragments. Appending an episode shares the fragment list with the
previous version (the slice-append trick): a version sees only its first ``count`` fragments, and
a version extended a second time (an episode run again after a crash before its commit) copies
the list first, so every version keeps meaning what it meant.

The text is byte for byte what ``json.dumps(history)`` gives: fragments joined by ``", "``.
"""
from __future__ import annotations

import json
from typing import Any, Sequence

from . import protocol as p


class HistoryText:
    __slots__ = ("_parts", "_count")

    def __init__(self, parts: list[str] | None = None, count: int = 0) -> None:
        self._parts = parts if parts is not None else []
        self._count = count

    @classmethod
    def of(cls, events: Sequence[dict[str, Any]]) -> HistoryText:
        return cls().extend(events)

    def extend(self, events: Sequence[dict[str, Any]]) -> HistoryText:
        """This history plus ``events``, serialized now (O(events))."""
        if not events:
            return self
        parts = self._parts
        if len(parts) != self._count:  # this version was extended before: do not disturb that one
            parts = parts[:self._count]
        parts.append(json.dumps(events)[1:-1])
        return HistoryText(parts, self._count + 1)

    def pieces(self) -> list[str]:
        """The JSON array as pieces to join: ``["[", f1, ", ", f2, ..., "]"]``."""
        out = ["["]
        parts = self._parts
        for index in range(self._count):
            if index:
                out.append(", ")
            out.append(parts[index])
        out.append("]")
        return out

    def text(self) -> str:
        return "".join(self.pieces())

    def __len__(self) -> int:  # fragments, not events
        return self._count


def context_json(history: HistoryText, new_events: Sequence[dict[str, Any]], *, input_text: str | None,
                 instance_id: str, parent_instance_id: str | None) -> str:
    """``protocol.context_json`` of the history plus ``new_events``, made with one join."""
    head, tail = p.context_json_around(input_text=input_text, instance_id=instance_id,
                                       parent_instance_id=parent_instance_id)
    pieces = history.pieces()
    pieces[0] = head + "["
    pieces.pop()  # "]"
    if new_events:
        if len(history):
            pieces.append(", ")
        pieces.append(json.dumps(new_events)[1:-1])
    pieces.append("]" + tail)
    return "".join(pieces)
