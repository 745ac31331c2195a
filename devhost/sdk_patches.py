"""Exact, switchable patches for per-call waste inside the Durable Functions SDK's replay.

The Python SDK has no extended sessions: every episode it parses the whole history again and
replays the generator from the start, so whatever it spends per event or per call is paid over
and over. Four costs there are pure waste (same results, more work); each patch below removes
one and changes nothing the SDK computes:

- ``executor_init``: ``TaskOrchestrationExecutor.__init__`` builds a ``namedtuple`` class
  (``eval`` of generated source) on every orchestrator call. The patch builds the class and its
  six instances once; every executor still gets its own dict and set of them.
- ``history_event_init``: ``HistoryEvent.__init__`` sets each extra JSON field through a bound
  ``self.__setattr__`` call in a Python loop. The patch stores the same attributes, in the same
  order, straight into the instance dict (no field of the history JSON names a class attribute;
  if one ever does, it takes the original loop). ``dt_parse`` is still looked up in the SDK
  module on every call, so ``devhost/fast_timestamps.py`` and its switch apply as before.
- ``strict_mode``: ``azure.functions._durable_functions._is_strict_mode`` reads
  ``AZURE_FUNCTIONS_DURABLE_STRICT_TYPING`` through ``os.environ``'s mapping machinery on every
  ``df_dumps``/``df_loads``, about two per replayed activity. The patch reads the same live
  environment dict (``os.environ._data``, which every ``os.environ`` write updates) without the
  Python-level encode/decode layers; the variable is still read on every call, so changing it at
  run time still takes effect. If ``os.environ`` has been replaced by another object, it calls
  the original.
- ``codecs``: ``df_dumps``/``df_loads`` call ``json.dumps(value, default=hook)`` and
  ``json.loads(s, object_hook=hook)``, and ``json`` builds a new encoder/decoder for each such call.
  The patch gives that module a stand-in for ``json`` (``_Codecs``) that keeps one encoder and one
  decoder per hook and thread for exactly those two call shapes and hands everything else to
  ``json``.

Each patch is installed only when the installed distribution's version is one it was checked
against (``CHECKED``) and the source text of the function it replaces hashes to the value
recorded here; otherwise it stays off and says why (``status()``). ``tests/host/test_sdk_patches.py``
replays the recorded histories and the test apps' orchestrations with the patches on and off and
requires the SDK's output JSON to be identical byte for byte.

Switch: ``DEVHOST_SDK_PATCHES=0`` in the environment, or ``RuntimeOptions(sdk_patches=False)``.
``configure(enabled)`` (called by the runtime at start) installs or removes them; process-wide,
so the host started last decides.
"""
from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import inspect
import json
import logging
import os
import threading
from collections import namedtuple
from dataclasses import dataclass
from typing import Any, Callable

from . import switches

log = logging.getLogger("devhost")

ENV_VAR = "DEVHOST_SDK_PATCHES"

# Distribution versions every patch was checked against (output-identical tests, source read).
CHECKED = {"azure-functions-durable": ("1.7.0",), "azure-functions": ("1.26.0",)}


@dataclass
class _Patch:
    name: str
    distribution: str
    module: str
    owner: str | None  # class name inside the module, or None for a module-level function
    attribute: str
    source_sha256: str  # first 16 hex digits of sha256(inspect.getsource(original))
    build: Callable[[Any, Any], Any]  # (module, original) -> replacement
    hashed: Callable[[Any], Any] | None = None  # what source_sha256 is of (default: the attribute)
    original: Any = None
    reason: str | None = None  # why it is off, when it is

    def target(self) -> Any:
        module = importlib.import_module(self.module)
        return getattr(module, self.owner) if self.owner else module


# ---------------------------------------------------------------------------
# the replacements
# ---------------------------------------------------------------------------


def _build_executor_init(module: Any, original: Any) -> Any:
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


def _build_history_event_init(module: Any, original: Any) -> Any:
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


def _build_strict_mode(module: Any, original: Any) -> Any:
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


class _Codecs:
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


def _build_codecs(module: Any, original: Any) -> Any:
    return _Codecs(original)


PATCHES = [
    _Patch("executor_init", "azure-functions-durable", "azure.durable_functions.models.TaskOrchestrationExecutor",
           "TaskOrchestrationExecutor", "__init__", "e1ababc6db32ff25", _build_executor_init),
    _Patch("history_event_init", "azure-functions-durable", "azure.durable_functions.models.history.HistoryEvent",
           "HistoryEvent", "__init__", "f564e865e1fc1f20", _build_history_event_init),
    _Patch("strict_mode", "azure-functions", "azure.functions._durable_functions", None, "_is_strict_mode",
           "43e282351259b7e2", _build_strict_mode),
    _Patch("codecs", "azure-functions", "azure.functions._durable_functions", None, "json",
           "f76ab8f635572019", _build_codecs, hashed=lambda module: module),
]

_enabled = False


def env_default() -> bool:
    """``DEVHOST_SDK_PATCHES``: on unless set to 0/false/no/off."""
    return switches.env_on(ENV_VAR)


def _source_hash(function: Any) -> str | None:
    try:
        return hashlib.sha256(inspect.getsource(function).encode()).hexdigest()[:16]
    except (OSError, TypeError):
        return None


def _check(patch: _Patch) -> str | None:
    """Why ``patch`` must stay off here, or None."""
    try:
        version = importlib.metadata.version(patch.distribution)
    except importlib.metadata.PackageNotFoundError:
        return f"{patch.distribution} is not installed"
    if version not in CHECKED[patch.distribution]:
        return f"{patch.distribution} {version} is not a checked version {CHECKED[patch.distribution]}"
    target = patch.target()
    current = patch.hashed(target) if patch.hashed else getattr(target, patch.attribute)
    if _source_hash(current) != patch.source_sha256:
        return f"{patch.module}.{patch.owner or ''}.{patch.attribute} is not the source it was checked against"
    return None


def install() -> bool:
    """Install every patch whose checks pass; returns whether all of them are on."""
    global _enabled
    for patch in PATCHES:
        target = patch.target()
        if patch.original is not None and getattr(target, patch.attribute) is not patch.original:
            continue  # already installed
        patch.reason = _check(patch)
        if patch.reason is not None:
            log.warning("devhost: SDK patch %s off: %s", patch.name, patch.reason)
            continue
        original = getattr(target, patch.attribute)
        replacement = patch.build(importlib.import_module(patch.module), original)
        if not isinstance(replacement, _Codecs):
            replacement.__devhost_patch__ = patch.name
        setattr(target, patch.attribute, replacement)
        patch.original = original
    _enabled = any(patch.original is not None for patch in PATCHES)
    return all(patch.original is not None for patch in PATCHES)


def uninstall() -> None:
    global _enabled
    for patch in PATCHES:
        if patch.original is not None:
            setattr(patch.target(), patch.attribute, patch.original)
            patch.original = None
    _enabled = False


def configure(enabled: bool | None = None) -> bool:
    """On (``True``), off (``False``) or per ``DEVHOST_SDK_PATCHES`` (``None``)."""
    return switches.configure(enabled, ENV_VAR, install, uninstall)


def enabled() -> bool:
    return _enabled


def status() -> dict[str, str]:
    """Each patch: "on", "off", or why it cannot be on."""
    return {patch.name: "on" if patch.original is not None else (patch.reason or "off") for patch in PATCHES}
