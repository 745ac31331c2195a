"""Index a function app as the Azure Functions Python worker does, and collect what it refuses.

Where the official worker library ``azure-functions-runtime`` is importable (Python 3.13+, the
library Azure loads for those versions) its own ``loader.index_function_app`` and
``Registry.add_indexed_function`` decide, so the verdicts are the platform's. Elsewhere (3.11,
3.12: Azure runs the 4.x worker, which is not on PyPI) ``devhost.worker_rules`` applies the same
rules. The worker stops at the first refused function and the whole app then fails to load;
every refused function is reported here so all can be fixed at once.
"""
from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable, Literal

from . import worker_rules

OFFICIAL_LIBRARY = "azure-functions-runtime"
Indexer = Literal["auto", "official", "rules"]


class WorkerIndexError(Exception):
    """The worker fails before it gets to the functions (import error, no or several apps, ...)."""


@dataclass(frozen=True)
class Refusal:
    function: str
    message: str  # the worker's own text: "cannot load the <function> function: <reason>"

    def __str__(self) -> str:
        return self.message


@dataclass
class WorkerVerdict:
    functions: list[Any]  # the SDK's indexed functions, as ``FunctionApp.get_functions()`` returns them
    refusals: list[Refusal]
    checked_by: str  # which implementation decided, for messages

    @property
    def loads(self) -> bool:
        return not self.refusals


def official_library_available() -> bool:
    return importlib.util.find_spec("azure_functions_runtime") is not None


def index_app(app_path: Path, module_name: str = "function_app", indexer: Indexer = "auto") -> WorkerVerdict:
    """Import ``module_name`` from ``app_path`` (already on ``sys.path``) and validate each function."""
    use_official = official_library_available() if indexer == "auto" else indexer == "official"
    if use_official:
        return _index_with_official_library(app_path / f"{module_name}.py")
    return _index_with_rules(module_name)


def _index_with_official_library(script: Path) -> WorkerVerdict:
    from azure_functions_runtime.bindings.meta import load_binding_registry
    from azure_functions_runtime.functions import FunctionLoadError, Registry
    from azure_functions_runtime.loader import index_function_app

    load_binding_registry()  # handle_event.worker_init_request does this before indexing
    try:
        functions = index_function_app(str(script))
    except Exception as exc:
        raise WorkerIndexError(f"{type(exc).__name__}: {exc}") from exc
    # The proxy worker passes its FunctionRpc protobuf module; indexing reads only these enums.
    protos = SimpleNamespace(BindingInfo=SimpleNamespace(
        out=worker_rules.DIRECTION_OUT, inout=worker_rules.DIRECTION_INOUT,
        undefined=worker_rules.DATA_TYPE_UNDEFINED))
    registry = Registry()
    version = importlib.metadata.version(OFFICIAL_LIBRARY)
    return _verdict(functions, f"{OFFICIAL_LIBRARY} {version}",
                    lambda function: registry.add_indexed_function(function, protos), FunctionLoadError)


def _index_with_rules(module_name: str) -> WorkerVerdict:
    try:
        functions = _find_app(importlib.import_module(module_name)).get_functions()
    except Exception as exc:  # the user's import error or the SDK's, reported with its cause
        raise WorkerIndexError(f"{type(exc).__name__}: {exc}") from exc
    return _verdict(functions, "devhost.worker_rules (the 4.x worker's rules)",
                    worker_rules.check_indexed_function, worker_rules.FunctionLoadError)


def _find_app(module: Any) -> Any:
    """``loader.index_function_app``: exactly one module-level ``FunctionRegister``."""
    from azure.functions import FunctionRegister

    apps = [value for value in vars(module).values() if isinstance(value, FunctionRegister)]
    if len(apps) > 1:
        raise ValueError(f"More than one {type(apps[0]).__name__} or other top level function app instances "
                         "are defined.")
    if not apps:
        raise ValueError(f"Could not find top level function app instances in {module.__name__}.py.")
    return apps[0]


def _verdict(functions: list[Any], checked_by: str, check: Callable[[Any], Any],
             load_error: type[Exception]) -> WorkerVerdict:
    refusals = []
    for function in functions:
        name = function.get_function_name()
        try:
            check(function)
        except load_error as exc:
            refusals.append(Refusal(name, str(exc)))
        except Exception as exc:  # e.g. NameError from typing.get_type_hints: the worker fails on it too
            refusals.append(Refusal(name, f"cannot load the {name} function: {type(exc).__name__}: {exc}"))
    return WorkerVerdict(list(functions), refusals, checked_by)


def describe_refusals(verdict: WorkerVerdict) -> str:
    lines = [(f"The Azure Functions Python worker refuses {len(verdict.refusals)} function(s) of this app, and one "
              f"refusal stops the whole app from loading on Azure (checked by {verdict.checked_by}):")]
    lines += [f"  {refusal.message}" for refusal in verdict.refusals]
    return "\n".join(lines)
