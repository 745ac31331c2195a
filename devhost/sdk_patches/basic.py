"""The first four patches: a namedtuple class, a setattr loop, an environment read and json codecs.

See the package docstring for what each one removes and why the result is the same.
"""
from __future__ import annotations

import json
import os
import threading
from collections import namedtuple
from typing import Any


def build_executor_init(module: Any, original: Any) -> Any:
    event_type = module.HistoryEventType
    payload = namedtuple("SetTaskValuePayload", ("is_success", "task_id_key"))
    mapping = dict([
        (event_type.TASK_COMPLETED, payload(True, "TaskScheduledId")),
        (event_type.TIMER_FIRED, payload(True, "TimerId")),
        (event_type.SUB_ORCHESTRATION_INSTANCE_COMPLETED, payload(True, "TaskScheduledId")),
        (event_type.EVENT_RAISED, payload(True, "Name")),
        (event_type.TASK_FAILED, payload(False, "TaskScheduledId")),
        (event_type.SUB_ORCHESTRATION_INSTANCE_FAILED, payload(False, "TaskScheduledId")),
    ])

    def __init__(self: Any) -> None:
        self.event_to_SetTaskValuePayload = dict(mapping)
        self.task_completion_events = set(mapping.keys())
        self.initialize()

    return __init__


def build_history_event_init(module: Any, original: Any) -> Any:
    cls = module.HistoryEvent
    reserved = frozenset(name for klass in cls.__mro__ for name in vars(klass))

    def __init__(self: Any, EventType: Any, EventId: int, IsPlayed: bool, Timestamp: str,  # noqa: N803
                 **kwargs: Any) -> None:
        d = self.__dict__
        d["_event_type"] = EventType
        d["_event_id"] = EventId
        d["_is_played"] = IsPlayed
        d["_timestamp"] = module.dt_parse(Timestamp)
        d["_is_processed"] = False
        d["Name"] = None
        d["InstanceId"] = None
        d["TaskScheduledId"] = None
        d["Reason"] = None
        d["Details"] = None
        d["Input"] = None
        if kwargs:
            if reserved.isdisjoint(kwargs):
                d.update(kwargs)
            else:  # a field named like a property or method: the original's setattr loop
                for key, value in kwargs.items():
                    self.__setattr__(key, value)

    return __init__


def build_strict_mode(module: Any, original: Any) -> Any:
    environ = os.environ
    data = environ._data  # type: ignore[attr-defined]
    name = module._STRICT_ENV_VAR
    key = environ.encodekey(name)  # type: ignore[attr-defined]
    decode = environ.decodevalue  # type: ignore[attr-defined]

    def _is_strict_mode() -> bool:
        if os.environ is not environ or module._STRICT_ENV_VAR is not name:
            return original()
        raw = data.get(key)
        if raw is None:
            return False
        return decode(raw).strip().lower() in module._TRUTHY

    return _is_strict_mode


class Codecs:
    """Stands for the ``json`` module inside ``azure.functions._durable_functions``.

    ``df_dumps`` calls ``json.dumps(value, default=hook)`` and ``df_loads`` calls
    ``json.loads(s, object_hook=hook)``; with an argument like that, ``json`` builds a new
    ``JSONEncoder``/``JSONDecoder`` (and its C scanner) on every call, about two per replayed
    activity. Here exactly those two call shapes reuse one encoder/decoder per hook and thread,
    doing what ``json.dumps``/``json.loads`` do after building theirs; any other call, any other
    argument, a non-``str`` or BOM-prefixed document, and every other attribute go to ``json``.
    """

    def __init__(self, real: Any) -> None:
        self._real = real
        self._local = threading.local()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def _codec(self, make: Any, hook: Any) -> Any:
        """This thread's ``make(hook)`` (``JSONEncoder(default=hook)`` or ``JSONDecoder(object_hook=hook)``)."""
        local = self._local
        try:
            cache = local.codecs
        except AttributeError:
            cache = local.codecs = {}
        codec = cache.get((make, hook))
        if codec is None:
            codec = cache[(make, hook)] = make(hook)
        return codec

    def dumps(self, obj: Any, **kw: Any) -> str:
        if len(kw) == 1 and kw.get("default") is not None:
            return self._codec(_encoder, kw["default"]).encode(obj)
        return self._real.dumps(obj, **kw)

    def loads(self, s: Any, **kw: Any) -> Any:
        if len(kw) == 1 and kw.get("object_hook") is not None and type(s) is str and not s.startswith("\ufeff"):
            return self._codec(_decoder, kw["object_hook"]).decode(s)
        return self._real.loads(s, **kw)


def _encoder(hook: Any) -> json.JSONEncoder:
    return json.JSONEncoder(default=hook)


def _decoder(hook: Any) -> json.JSONDecoder:
    return json.JSONDecoder(object_hook=hook)


def build_codecs(module: Any, original: Any) -> Any:
    return Codecs(original)
