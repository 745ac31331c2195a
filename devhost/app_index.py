"""Load a v2-model function app from its directory and classify its functions.

Mirrors what the Python worker does at indexing time: the app directory goes on ``sys.path``,
``function_app`` is imported, the module-level ``FunctionApp``/``DFApp`` is found, its
``get_functions()`` are read and validated with the worker's own rules (``worker_index``).
Anything the worker refuses, or the local host cannot run, is refused here, loudly.
"""
from __future__ import annotations

import inspect
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .worker_index import Indexer, Refusal, WorkerIndexError, describe_refusals, index_app

SUPPORTED_TRIGGERS = {
    "httpTrigger": "http",
    "orchestrationTrigger": "orchestrator",
    "activityTrigger": "activity",
    "entityTrigger": "entity",
    "timerTrigger": "timer",
}


class AppLoadError(Exception):
    """The app cannot be run by the local host (import failure, refused by the worker, unsupported
    trigger, ...). ``refusals`` holds the worker's refusals, one per function, when that is why."""

    def __init__(self, message: str, refusals: list[Refusal] | None = None) -> None:
        super().__init__(message)
        self.refusals = refusals or []


@dataclass
class FunctionInfo:
    name: str  # the Functions function name
    kind: str  # http | orchestrator | activity | entity | timer
    durable_name: str  # name used by durable calls (orchestration/activity/entity name)
    fn: Callable[..., Any]
    is_async: bool
    trigger_param: str
    client_param: str | None = None
    client_binding: dict[str, Any] = field(default_factory=dict)
    wants_context: bool = False
    methods: list[str] | None = None  # None = every method
    auth_level: str = "function"
    route: str = ""
    schedule: str | None = None
    run_on_startup: bool = False
    use_monitor: bool = True  # the timerTrigger binding's useMonitor (CoreExtensionsScriptBindingProvider: default true)


@dataclass
class AppIndex:
    app_dir: Path
    functions: list[FunctionInfo]

    def __post_init__(self) -> None:
        self._durable: dict[tuple[str, str], FunctionInfo] = {}
        for info in self.functions:
            if info.kind in ("orchestrator", "activity", "entity"):
                self._durable[(info.kind, info.durable_name.lower())] = info

    def find(self, kind: str, name: str) -> FunctionInfo | None:
        """Durable names are case-insensitive, as in the extension (spec 10.1)."""
        return self._durable.get((kind, name.lower()))

    def is_known(self, kind: str, name: str) -> bool:
        return (kind, name.lower()) in self._durable

    def names(self, kind: str) -> list[str]:
        return sorted(info.durable_name for info in self.functions if info.kind == kind)

    def of_kind(self, kind: str) -> list[FunctionInfo]:
        return [info for info in self.functions if info.kind == kind]


def _value(raw: Any) -> Any:
    return getattr(raw, "value", raw)


_LOADED: dict[tuple[Path, str], AppIndex] = {}


def load_app(app_dir: str | Path = ".", module_name: str = "function_app", indexer: Indexer = "auto") -> AppIndex:
    """Import and index the app once per process (``get_functions()`` may only run once).

    The Python worker's verdict comes first (``worker_index``): an app Azure would not load is
    refused here, at host start, with the worker's message for each refused function.
    """
    app_path = Path(app_dir).resolve()
    cached = _LOADED.get((app_path, module_name))
    if cached is not None:
        return cached
    if not (app_path / f"{module_name}.py").is_file():
        raise AppLoadError(f"No {module_name}.py in {app_path}.")
    if str(app_path) not in sys.path:
        sys.path.insert(0, str(app_path))
    existing = sys.modules.get(module_name)
    if existing is not None and Path(getattr(existing, "__file__", "")).resolve().parent != app_path:
        del sys.modules[module_name]
    try:
        verdict = index_app(app_path, module_name, indexer)
    except WorkerIndexError as exc:
        raise AppLoadError(f"Indexing {app_path / module_name}.py failed as it would in the Python worker: {exc}") from exc
    if not verdict.loads:
        raise AppLoadError(describe_refusals(verdict), verdict.refusals)
    index = AppIndex(app_path, [_classify(f) for f in verdict.functions])
    _LOADED[(app_path, module_name)] = index
    return index


def _classify(function: Any) -> FunctionInfo:
    name = function.get_function_name()
    trigger = function.get_trigger()
    trigger_type = trigger.type if trigger else None
    if trigger_type not in SUPPORTED_TRIGGERS:
        raise AppLoadError(
            f"Function '{name}': unsupported trigger '{trigger_type}'. The local host supports "
            f"{', '.join(sorted(SUPPORTED_TRIGGERS))}."
        )
    kind = SUPPORTED_TRIGGERS[trigger_type]
    fn = function.get_user_function()
    bindings = [b.get_dict_repr() for b in function.get_bindings()]
    trigger_binding = next(b for b in bindings if b["type"] == trigger_type)
    info = FunctionInfo(
        name=name,
        kind=kind,
        durable_name=name,
        fn=fn,
        is_async=inspect.iscoroutinefunction(fn),
        trigger_param=trigger_binding["name"],
    )
    for binding in bindings:
        btype, direction = binding["type"], _value(binding.get("direction"))
        if btype == trigger_type:
            continue
        if btype == "durableClient":
            info.client_param = binding["name"]
            info.client_binding = {k: binding.get(k) for k in ("taskHub", "connectionName") if binding.get(k)}
        elif btype == "http" and binding.get("name") == "$return" and kind == "http":
            continue
        else:
            raise AppLoadError(
                f"Function '{name}': unsupported binding '{btype}' (direction {direction}). The local "
                "host supports trigger, durableClient and HTTP $return bindings; use the Azure SDKs "
                "(for example azure-storage-blob) inside the function instead."
            )
    params = inspect.signature(fn).parameters
    # The worker passes an azure.functions.Context only to a ``context`` parameter that no binding
    # claims (functions.py Registry.is_context_required).
    info.wants_context = "context" in params and all(b["name"] != "context" for b in bindings)
    if kind == "orchestrator":
        info.durable_name = trigger_binding.get("orchestration") or name
    elif kind == "activity":
        info.durable_name = trigger_binding.get("activity") or name
    elif kind == "entity":
        info.durable_name = trigger_binding.get("entityName") or name
    elif kind == "http":
        methods = trigger_binding.get("methods")
        info.methods = [str(_value(m)).upper() for m in methods] if methods else None
        info.auth_level = str(_value(trigger_binding.get("authLevel") or "function")).lower()
        info.route = trigger_binding.get("route") or name
        user_fn = getattr(fn, "client_function", fn)  # the SDK wraps client functions in async middleware
        if info.client_param and not inspect.iscoroutinefunction(user_fn):
            raise AppLoadError(f"Function '{name}': durable client functions must be 'async def' "
                               "(the SDK awaits them).")
    elif kind == "timer":
        from .cron import Schedule

        info.schedule = trigger_binding.get("schedule")
        info.run_on_startup = bool(trigger_binding.get("runOnStartup"))
        info.use_monitor = bool(trigger_binding.get("useMonitor", True))
        try:
            Schedule(info.schedule or "")
        except ValueError as exc:  # TimerSchedule.Create fails the function's indexing
            raise AppLoadError(f"Function '{name}': {exc}") from exc
    return info
