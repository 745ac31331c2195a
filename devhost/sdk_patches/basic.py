"""The first four patches: a namedtuple class, a setattr loop, an environment read and json codecs.

See the package docstring for what each one removes and why the result is the same.
"""
from __future__ import annotations

import json
import os
import threading
from collections import namedtuple
from json.decoder import WHITESPACE, JSONDecodeError
from json.encoder import c_make_encoder, encode_basestring_ascii
from typing import Any

_whitespace = WHITESPACE.match


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
    activity. Here exactly those two call shapes reuse one encoder/decoder per hook and thread
    (``_Encoder``, ``_Decoder``), doing what ``json.dumps``/``json.loads`` do after building theirs;
    any other call, any other argument, a non-``str`` or BOM-prefixed document, and every other
    attribute go to ``json``.
    """

    def __init__(self, real: Any) -> None:
        self._real = real
        self._local = threading.local()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def _codec(self, kind: str, hook: Any, make: Any) -> Any:
        """This thread's ``make(hook)``, kept in its dict ``kind`` by hook."""
        try:
            cache = getattr(self._local, kind)
        except AttributeError:
            cache = {}
            setattr(self._local, kind, cache)
        codec = cache.get(hook)
        if codec is None:
            codec = cache[hook] = make(hook)
        return codec

    def dumps(self, obj: Any, **kw: Any) -> str:
        if len(kw) == 1:
            hook = kw.get("default")
            if hook is not None:
                return self._codec("encoders", hook, _Encoder).encode(obj)
        return self._real.dumps(obj, **kw)

    def loads(self, s: Any, **kw: Any) -> Any:
        if len(kw) == 1 and type(s) is str and not s.startswith("\ufeff"):
            hook = kw.get("object_hook")
            if hook is not None:
                return self._codec("decoders", hook, _Decoder).decode(s)
        return self._real.loads(s, **kw)


class _Encoder:
    """``JSONEncoder(default=hook).encode``, with the C encoder made once instead of per call.

    ``encode`` makes a C encoder with a new empty ``markers`` dict (its circular-reference check)
    on every call. Here one is made with one dict, which a finished encode leaves empty; after an
    encode that raised, what it left is cleared. A call made while one is running on this thread
    (a ``to_json`` that serializes through ``df_dumps``) takes ``JSONEncoder.encode`` itself, as
    does a ``str`` (its own short path there) and a Python without the C encoder.
    """

    __slots__ = ("plain", "markers", "run", "busy")

    def __init__(self, hook: Any) -> None:
        self.plain = plain = json.JSONEncoder(default=hook)
        self.markers: dict[int, Any] = {}
        self.run = None if c_make_encoder is None else c_make_encoder(
            self.markers, plain.default, encode_basestring_ascii, plain.indent, plain.key_separator,
            plain.item_separator, plain.sort_keys, plain.skipkeys, plain.allow_nan)
        self.busy = False

    def encode(self, obj: Any) -> str:
        run = self.run
        if run is None or self.busy or isinstance(obj, str):
            return self.plain.encode(obj)
        self.busy = True
        try:
            chunks = run(obj, 0)
        except BaseException:
            self.markers.clear()
            raise
        finally:
            self.busy = False
        if not isinstance(chunks, (list, tuple)):
            chunks = list(chunks)
        return "".join(chunks)


class _Decoder:
    """``JSONDecoder(object_hook=hook).decode`` for a ``str``, with ``raw_decode`` written in."""

    __slots__ = ("scan",)

    def __init__(self, hook: Any) -> None:
        self.scan = json.JSONDecoder(object_hook=hook).scan_once

    def decode(self, s: str) -> Any:
        try:
            obj, end = self.scan(s, _whitespace(s, 0).end())
        except StopIteration as err:
            raise JSONDecodeError("Expecting value", s, err.value) from None
        end = _whitespace(s, end).end()
        if end != len(s):
            raise JSONDecodeError("Extra data", s, end)
        return obj


def build_codecs(module: Any, original: Any) -> Any:
    return Codecs(original)
