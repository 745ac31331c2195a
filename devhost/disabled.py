"""Functions disabled with the ``AzureWebJobs.<FunctionName>.Disabled`` app setting.

The WebJobs host reads ``AzureWebJobs.<name>.Disabled`` (or ``AzureWebJobs_<name>_Disabled``, for
Linux environment variables) once at start; "1" or "true" (any case) disables the function
(Azure/azure-webjobs-sdk ``HostListenerFactory.IsDisabled``, ``ConfigurationExtensions.IsSettingEnabled``).
A disabled function is still indexed, but no listener is created for it. What that means per
trigger, as on Azure:

* HTTP: 404, unless the request carries admin (master key) credentials
  (Azure/azure-functions-host ``Middleware/FunctionInvocationMiddleware.cs``).
* timer: never fires.
* orchestrator: still known to the extension (its binding registered it with no executor), so
  a client's start is accepted; the instance then fails with the extension's message
  (Azure/azure-functions-durable-extension ``DurableTaskExtension.cs`` ``OrchestrationMiddleware``:
  ``info == null`` -> ``GetInvalidOrchestratorFunctionMessage``).
* activity and entity: still known, so calls and signals are accepted, but the work never runs:
  DTFx cannot create the activity (``TaskActivityShim`` refuses a null executor) and the entity
  middleware has no executor, so the message is retried until the function is enabled again.
  The host leaves that work stored and untouched; the caller keeps waiting.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Iterable, Mapping

from .app_index import AppIndex, FunctionInfo

log = logging.getLogger("devhost")
_TRUTHY = {"1", "true"}


@dataclass(frozen=True)
class DisabledFunctions:
    names: frozenset[str] = frozenset()  # Functions function names, lower-case
    _reported: set[str] = field(default_factory=set, compare=False, repr=False)

    @classmethod
    def from_settings(cls, functions: Iterable[FunctionInfo],
                      environ: Mapping[str, str] = os.environ) -> "DisabledFunctions":
        settings = {key.lower(): value for key, value in environ.items()}  # configuration keys ignore case
        disabled = set()
        for info in functions:
            for key in (f"AzureWebJobs.{info.name}.Disabled", f"AzureWebJobs_{info.name}_Disabled"):
                if settings.get(key.lower(), "").strip().lower() in _TRUTHY:
                    disabled.add(info.name.lower())
        return cls(frozenset(disabled))

    def __contains__(self, info: FunctionInfo | None) -> bool:
        return info is not None and info.name.lower() in self.names

    def durable(self, index: AppIndex, kind: str, name: str) -> bool:
        """Is the orchestrator / activity / entity that durable calls know as ``name`` disabled?"""
        return bool(self.names) and index.find(kind, name) in self

    def holds(self, index: AppIndex, kind: str, name: str) -> bool:
        """``durable()``, logging once per function that its work is being held."""
        if not self.durable(index, kind, name):
            return False
        if name.lower() not in self._reported:
            self._reported.add(name.lower())
            log.warning("The %s function '%s' is disabled (AzureWebJobs.<name>.Disabled): its work waits until "
                        "it is enabled again, as on Azure.", kind, name)
        return True


def invalid_function_message(index: AppIndex, kind: str, name: str) -> str:
    """The extension's ``GetInvalid{Activity,Orchestrator,Entity}FunctionMessage``; the known
    functions include disabled ones, which the extension registered at indexing time."""
    known = "', '".join(index.names(kind))
    info = (f"The following are the known {kind} functions: '{known}'." if known
            else f"No {kind} functions are currently registered!")
    return f"The function '{name}' doesn't exist, is disabled, or is not an {kind} function. Additional info: {info}"
