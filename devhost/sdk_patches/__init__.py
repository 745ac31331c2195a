"""Exact, switchable patches for per-call waste inside the Durable Functions SDK's replay.

The Python SDK has no extended sessions: every episode it parses the whole history again and
replays the generator from the start, so whatever it spends per event or per call is paid over
and over. The costs below are pure waste (same results, more work); each patch removes one and
changes nothing the SDK computes. ``basic.py`` has the first four and ``context_cache.py`` the
fifth; ``replay.py`` (the replay loop: ``process_event``, ``execute_loop``, ``new_events_start``)
and ``calls.py`` (per yielded task: ``callable_check:*``, ``add_to_actions``, ``activity_to_json``)
describe theirs. A patch that keeps most of a long SDK function is that function compiled again
from its installed source with exact text substitutions (``rewrite.py``).

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
  ``json.loads(s, object_hook=hook)``, and ``json`` builds a new encoder/decoder for each such call
  (and ``JSONEncoder.encode`` a new C encoder). The patch gives that module a stand-in for ``json``
  (``Codecs``) that keeps one encoder (with its C encoder) and one decoder per hook and thread for
  exactly those two call shapes and hands everything else to ``json``.
- ``context_cache``: ``DurableOrchestrationContext.from_json`` parses the whole history text and
  builds a ``HistoryEvent`` per event every episode, though all but the last episode's events are
  the same text as the time before. The patch keeps each execution's parsed events (instance
  dicts, by the text) and parses only what is new; see ``context_cache.py``.

Each patch is installed only when the installed distribution's version is one it was checked
against (``CHECKED``) and the source text of the function(s) it replaces or relies on hashes to
the value recorded here; otherwise it stays off and says why (``status()``). A replacement
function carries the original's name and qualified name (the SDK's own messages use them).
``tests/host/test_sdk_patches.py`` replays the recorded histories and the test apps'
orchestrations with the patches off and on and requires the SDK's output JSON to be identical byte
for byte; ``test_sdk_context_cache.py`` and ``test_sdk_call_patches.py`` cover the edge cases.

Switch: ``DEVHOST_SDK_PATCHES=0`` in the environment, or ``RuntimeOptions(sdk_patches=False)``.
``configure(enabled)`` (called by the runtime at start) installs or removes them; process-wide,
so the host started last decides.
"""
from __future__ import annotations

import importlib
import importlib.metadata
import logging
from dataclasses import dataclass
from types import FunctionType
from typing import Any, Callable

from .. import switches
from . import basic, calls, context_cache, replay
from .basic import Codecs
from ..switches import source_hash

log = logging.getLogger("devhost")

ENV_VAR = "DEVHOST_SDK_PATCHES"

# Distribution versions every patch was checked against (output-identical tests, source read).
CHECKED = {"azure-functions-durable": ("1.7.0",), "azure-functions": ("1.26.0",)}

_DURABLE = "azure-functions-durable"
_MODELS = "azure.durable_functions.models"


@dataclass
class _Patch:
    name: str
    distribution: str
    module: str
    owner: str | None  # class name inside the module, or None for a module-level name
    attribute: str
    source_sha256: str  # first 16 hex digits of sha256 over the source of what ``sources`` returns
    build: Callable[[Any, Any], Any]  # (module, original) -> replacement
    sources: Callable[[Any], tuple[Any, ...]] | None = None  # what is hashed (default: the attribute)
    original: Any = None
    reason: str | None = None  # why it is off, when it is

    def target(self) -> Any:
        module = importlib.import_module(self.module)
        return getattr(module, self.owner) if self.owner else module

    def current(self) -> Any:
        """The attribute as stored on its owner (a classmethod object, not a bound method)."""
        return vars(self.target()).get(self.attribute)


PATCHES = [
    _Patch("executor_init", _DURABLE, f"{_MODELS}.TaskOrchestrationExecutor",
           "TaskOrchestrationExecutor", "__init__", "e1ababc6db32ff25", basic.build_executor_init),
    _Patch("history_event_init", _DURABLE, f"{_MODELS}.history.HistoryEvent",
           "HistoryEvent", "__init__", context_cache.HISTORY_EVENT_INIT_SHA256, basic.build_history_event_init),
    _Patch("strict_mode", "azure-functions", "azure.functions._durable_functions", None, "_is_strict_mode",
           "43e282351259b7e2", basic.build_strict_mode),
    _Patch("codecs", "azure-functions", "azure.functions._durable_functions", None, "json",
           "f76ab8f635572019", basic.build_codecs, sources=lambda module: (module,)),
    _Patch("context_cache", _DURABLE, f"{_MODELS}.DurableOrchestrationContext", "DurableOrchestrationContext",
           "from_json", "46de2ed879079d66", context_cache.build, sources=context_cache.sources),
    *(_Patch(name, _DURABLE, f"{_MODELS}.TaskOrchestrationExecutor", "TaskOrchestrationExecutor", attribute,
             "7ffe4ab010cc8113", build, sources=replay.executor_sources)
      for name, attribute, build in (("process_event", "process_event", replay.build_process_event),
                                     ("execute_loop", "execute", replay.build_execute_loop),
                                     ("new_events_start", "_find_new_events_start_index",
                                      replay.build_new_events_start))),
    *(_Patch(f"callable_check:{name}", _DURABLE, f"{_MODELS}.DurableOrchestrationContext",
             "DurableOrchestrationContext", name, "c302a79adb767ce5", calls.build_callable_check,
             sources=calls.class_source) for name in calls.CALLS),
    _Patch("add_to_actions", _DURABLE, f"{_MODELS}.DurableOrchestrationContext", "DurableOrchestrationContext",
           "_add_to_actions", "c302a79adb767ce5", calls.build_add_to_actions, sources=calls.class_source),
    _Patch("activity_to_json", _DURABLE, f"{_MODELS}.actions.CallActivityAction", "CallActivityAction", "to_json",
           "5383e647fb900379", calls.build_activity_to_json, sources=calls.activity_sources),
]

_enabled = False


def env_default() -> bool:
    """``DEVHOST_SDK_PATCHES``: on unless set to 0/false/no/off."""
    return switches.env_on(ENV_VAR)


def _check(patch: _Patch) -> str | None:
    """Why ``patch`` must stay off here, or None."""
    try:
        version = importlib.metadata.version(patch.distribution)
    except importlib.metadata.PackageNotFoundError:
        return f"{patch.distribution} is not installed"
    if version not in CHECKED[patch.distribution]:
        return f"{patch.distribution} {version} is not a checked version {CHECKED[patch.distribution]}"
    target = patch.target()
    sources = patch.sources(target) if patch.sources else (getattr(target, patch.attribute),)
    if source_hash(*sources) != patch.source_sha256:
        return f"{patch.module}.{patch.owner or ''}.{patch.attribute} is not the source it was checked against"
    return None


def install() -> bool:
    """Install every patch whose checks pass; returns whether all of them are on."""
    global _enabled
    for patch in PATCHES:
        if patch.original is not None and patch.current() is not patch.original:
            continue  # already installed
        patch.reason = _check(patch)
        if patch.reason is not None:
            log.warning("devhost: SDK patch %s off: %s", patch.name, patch.reason)
            continue
        original = patch.current()
        try:
            replacement = patch.build(importlib.import_module(patch.module), original)
        except ValueError as exc:  # the source is not shaped as the patch expects
            patch.reason = f"cannot be built: {exc}"
            log.warning("devhost: SDK patch %s off: %s", patch.name, patch.reason)
            continue
        if isinstance(replacement, FunctionType) and isinstance(original, FunctionType):
            # the names the SDK's own messages use ("HistoryEvent.__init__() missing 1 required ...")
            replacement.__name__, replacement.__qualname__ = original.__name__, original.__qualname__
            replacement.__module__, replacement.__doc__ = original.__module__, original.__doc__
        if callable(replacement) and not isinstance(replacement, Codecs):
            replacement.__devhost_patch__ = patch.name
        setattr(patch.target(), patch.attribute, replacement)
        patch.original = original
    _enabled = any(patch.original is not None for patch in PATCHES)
    return all(patch.original is not None for patch in PATCHES)


def uninstall() -> None:
    global _enabled
    for patch in reversed(PATCHES):
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
