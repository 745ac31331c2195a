"""``context_cache``: each history event is parsed once per orchestration, not once per episode.

Every episode the SDK is handed the whole history again, as JSON text, and
``DurableOrchestrationContext.from_json`` parses all of it (``json.loads``) and builds a
``HistoryEvent`` per event (``HistoryEvent(**event)``, a ``dt_parse`` of its timestamp): ~5 us an
event, half the SDK's replay cost on a long history. The text of the events it saw last episode
comes back unchanged, so this keeps, per execution, the text it parsed and each event's
``HistoryEvent`` instance dict, and on the next call:

- finds the longest run of whole events that are the same text at the same offsets (one
  ``str.startswith`` of the kept text; when the last few events differ, as the previous
  episode's new events do when their ``IsPlayed`` turns true, it steps back over them);
- builds a fresh ``HistoryEvent`` for each of those from the kept dict (``dt_parse`` is still
  called on its timestamp text every time, so ``devhost/fast_timestamps.py`` and its switch apply
  as before), and one from the text for an event holding a JSON object or array (never shared);
- parses only the rest: each new event with the ``json`` scanner that ``json.loads`` uses and
  ``HistoryEvent(**event)``, and the fields after the history with ``json.loads``;
- runs the SDK's own ``__init__``, compiled again from its source with the history line taking
  the list from the cache (built at that point, so binding errors come first and ``dt_parse`` or
  ``HistoryEvent`` errors propagate from where they would), and the first ``OrchestratorStarted``
  found without a list of all of them.

Reading the text has no side effects, so whatever it does not expect (any exception) hands the
call to the SDK's own ``from_json``, which reads it again and raises what it raises.

Also handed to the SDK: text not starting ``{"history": [`` (what the host writes), a text under
``MIN_TEXT`` characters (about 30 events: little to save, and walking it costs more than one
``json.loads``), a ``history`` key after the array, a subclass, or a ``HistoryEvent.__init__``
that is neither the checked one nor the ``history_event_init`` patch.
Kept: at most ``MAX_ENTRIES`` executions and ``MAX_EVENTS`` events (about 0.8 KB each), least
recently used dropped first.
"""
from __future__ import annotations

import importlib
import json
import re
import threading
from collections import OrderedDict
from typing import Any, Callable

from ..switches import source_hash
from .rewrite import rewrite

HEAD = '{"history": ['
MIN_TEXT = 4096
MAX_ENTRIES = 256
MAX_EVENTS = 100_000
BACK_OFF = 8  # events from the end of a kept history compared when the new text differs before its end

EVENT_MODULE = "azure.durable_functions.models.history.HistoryEvent"
HISTORY_EVENT_INIT_SHA256 = "f564e865e1fc1f20"  # the SDK's HistoryEvent.__init__, as history_event_init
_HISTORY_LINE = "self._histories: List[HistoryEvent] = [HistoryEvent(**he) for he in history]"
_STARTED_EXPRESSION = """[e_ for e_ in self.histories
             if e_.event_type == HistoryEventType.ORCHESTRATOR_STARTED][0]"""

_WS = re.compile(r"[ \t\n\r]*").match


class Prebuilt:
    """Handed to the rewritten ``__init__`` in place of the JSON list; ``build()`` makes the
    ``HistoryEvent`` list at the point where the SDK's line builds its own."""

    __slots__ = ("build",)

    def __init__(self, build: Callable[[], list[Any]]) -> None:
        self.build = build


class _Unusual(Exception):
    pass


class _Entry:
    """One execution's kept history: ``prefix`` is the text up to the end of its last event;
    ``templates[i]`` is (instance dict, ``Timestamp`` value) or None (rebuilt from the text)."""

    __slots__ = ("prefix", "starts", "ends", "templates")

    def __init__(self, prefix: str, starts: list[int], ends: list[int], templates: list[Any]) -> None:
        self.prefix, self.starts, self.ends, self.templates = prefix, starts, ends, templates

    def shared(self, text: str) -> int:
        """How many of the kept events ``text`` starts with, as the same text at the same offsets."""
        prefix, starts, ends = self.prefix, self.starts, self.ends
        if text.startswith(prefix):
            return len(ends)
        for i in range(len(ends) - 1, max(1, len(ends) - 1 - BACK_OFF), -1):
            if text.startswith(prefix[starts[i]:ends[i]], starts[i]):
                return i + 1 if text.startswith(prefix[:ends[i]]) else 2
        return 2  # the first two events are the key


def first_started(events: list[Any], started: Any) -> Any:
    """The first of ``[e for e in events if e.event_type == started]``, found without the list;
    None if there is none (the rewritten line then raises the SDK's IndexError itself)."""
    for event in events:
        if event.event_type == started:
            return event
    return None


def _next(text: str, end: int) -> int:
    """After an array element ending at ``end``: where the next starts, or ``~index`` of ``]``."""
    pos = _WS(text, end).end()
    char = text[pos:pos + 1]
    if char == ",":
        return _WS(text, pos + 1).end()
    if char == "]":
        return ~pos
    raise _Unusual


class HistoryCache:
    def __init__(self, event_module: Any) -> None:
        self._module = event_module
        self._scan = json.decoder.JSONDecoder().scan_once  # json.loads's own scanner and settings
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._kept = 0
        self._lock = threading.Lock()
        self._checked_init: tuple[Any, bool] = (None, False)
        self.reused = 0  # events built from kept dicts, over all calls (tests look at it)

    def _init_ok(self, event_cls: Any) -> bool:
        """Whether ``HistoryEvent.__init__`` is one whose instance dicts the kept ones stand for."""
        init = vars(event_cls).get("__init__")
        checked, ok = self._checked_init
        if init is not checked:
            ok = getattr(init, "__devhost_patch__", None) == "history_event_init" or (
                source_hash(init) == HISTORY_EVENT_INIT_SHA256)
            self._checked_init = (init, ok)
        return ok

    def parse(self, text: str) -> tuple[Prebuilt, dict[str, Any]] | None:
        """(the history to build, the other fields) exactly as the SDK would have them, or None.

        Reading the text has no side effects; anything unusual there gives None. Building the
        events (``dt_parse``, ``HistoryEvent.__init__``) happens when the rewritten ``__init__``
        asks, after its arguments are bound, where the SDK builds them; it raises what they raise.
        """
        event_cls = self._module.HistoryEvent
        if not self._init_ok(event_cls):
            return None
        try:
            return self._read(text, event_cls)
        except Exception:  # anything unusual: the SDK's own path reads it again, and raises if it raises
            return None

    def _read(self, text: str, event_cls: Any) -> tuple[Prebuilt, dict[str, Any]] | None:
        if len(text) < MIN_TEXT:  # histories only grow: nothing is kept for a text this short
            return None
        scan = self._scan
        first = _WS(text, len(HEAD)).end()
        end = scan(text, first)[1]
        second = _next(text, end)
        if second < 0:
            return None
        key = text[:scan(text, second)[1]]
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
        shared = entry.shared(text) if entry is not None else 0
        pos = _next(text, entry.ends[shared - 1]) if entry is not None else first
        starts, ends, values = [], [], []
        while pos >= 0:
            value, end = scan(text, pos)
            if type(value) is not dict:
                raise _Unusual
            starts.append(pos)
            ends.append(end)
            values.append(value)
            pos = _next(text, end)
        others = _others(text[~pos + 1:])
        if others is None:
            return None

        def build() -> list[Any]:
            return self._build(key, text, entry, shared, (starts, ends, values), event_cls)

        return Prebuilt(build), others

    def _build(self, key: str, text: str, entry: _Entry | None, shared: int,
               new: tuple[list[int], list[int], list[dict[str, Any]]], event_cls: Any) -> list[Any]:
        """The kept events ``entry`` shares with ``text`` from their dicts, then the new ones;
        keeps the whole history for the next call."""
        events: list[Any] = []
        append = events.append
        starts, ends, templates = [], [], []
        if entry is not None:
            self._instantiate(entry, shared, append, event_cls)
            self.reused += shared
            starts, ends, templates = entry.starts[:shared], entry.ends[:shared], entry.templates[:shared]
        for value in new[2]:
            event = event_cls(**value)
            append(event)
            deep = any(type(field) is dict or type(field) is list for field in value.values())
            templates.append(None if deep else (dict(event.__dict__), value["Timestamp"]))
        starts.extend(new[0])
        ends.extend(new[1])
        self._keep(key, _Entry(text[:ends[-1]], starts, ends, templates))
        return events

    def _instantiate(self, entry: _Entry, count: int, append: Callable[[Any], None], event_cls: Any) -> None:
        new = object.__new__
        dt_parse = self._module.dt_parse
        scan, prefix, starts = self._scan, entry.prefix, entry.starts
        templates = entry.templates
        for i in range(count):
            template = templates[i]
            if template is None:
                append(event_cls(**scan(prefix, starts[i])[0]))
            else:
                event = new(event_cls)
                fields = event.__dict__
                fields.update(template[0])
                fields["_timestamp"] = dt_parse(template[1])
                append(event)

    def _keep(self, key: str, entry: _Entry) -> None:
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._kept -= len(old.ends)
            self._entries[key] = entry
            self._kept += len(entry.ends)
            while self._kept > MAX_EVENTS or len(self._entries) > MAX_ENTRIES:
                self._kept -= len(self._entries.popitem(last=False)[1].ends)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._kept = 0


def _others(rest: str) -> dict[str, Any] | None:
    """The fields after the history array (``rest`` follows its ``]``), as ``json.loads`` gives them."""
    pos = _WS(rest).end()
    if rest.startswith(",", pos):
        after = rest[pos + 1:]
        if not after.startswith('"', _WS(after).end()):
            return None  # json.loads raises here; the original path says why
        others = json.loads("{" + after)
    else:
        others = json.loads("{" + rest[pos:])
    if type(others) is not dict or "history" in others:
        return None
    return others


def build(module: Any, original: Any) -> Any:
    """The replacement ``DurableOrchestrationContext.from_json`` (a classmethod)."""
    context_cls = module.DurableOrchestrationContext
    plain_from_json: Callable[..., Any] = original.__func__
    init = vars(context_cls)["__init__"]
    fast_init = rewrite(init, [(_HISTORY_LINE, _HISTORY_LINE.replace(
        "[HistoryEvent(**he) for he in history]",
        "history.build() if type(history) is _devhost_prebuilt else [HistoryEvent(**he) for he in history]")),
        (_STARTED_EXPRESSION,
         "(_devhost_first_started(self.histories, HistoryEventType.ORCHESTRATOR_STARTED) or [][0])")],
        {"_devhost_prebuilt": Prebuilt, "_devhost_first_started": first_started})
    if type(context_cls) is not type or context_cls.__new__ is not object.__new__:
        raise ValueError("DurableOrchestrationContext is not built by type.__call__")
    cache = HistoryCache(importlib.import_module(EVENT_MODULE))
    new = object.__new__

    def from_json(cls: Any, json_string: str) -> Any:
        if (cls is context_cls and type(json_string) is str and json_string.startswith(HEAD)
                and vars(cls)["__init__"] is init):
            parsed = cache.parse(json_string)
            if parsed is not None:
                history, others = parsed
                context = new(cls)
                fast_init(context, history=history, **others)
                return context
        return plain_from_json(cls, json_string)

    from_json.__devhost_patch__ = "context_cache"  # type: ignore[attr-defined]
    from_json.__qualname__ = plain_from_json.__qualname__
    from_json.__doc__ = plain_from_json.__doc__
    from_json.cache = cache  # type: ignore[attr-defined]
    return classmethod(from_json)


def sources(cls: Any) -> tuple[Any, ...]:
    """What the recorded hash is of: ``from_json`` and ``__init__`` (``HistoryEvent.__init__``,
    whose results the kept dicts stand for, is checked per call: ``HistoryCache._init_ok``)."""
    return vars(cls)["from_json"].__func__, vars(cls)["__init__"]
