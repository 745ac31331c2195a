"""Patches of what the SDK does for every task the orchestrator yields, on every replay.

- ``callable_check`` (``call_activity``, ``call_activity_with_retry``, ``call_sub_orchestrator``,
  ``call_sub_orchestrator_with_retry``): each starts with ``isinstance(name, Callable)``, where
  ``Callable`` is ``typing.Callable``, whose ``__instancecheck__`` (Python code in ``typing``)
  comes down to ``issubclass(type(name), collections.abc.Callable)``. For a name that is exactly
  a ``str``, the rewritten function (``rewrite.py``) asks ``issubclass(str, collections.abc.Callable)``
  directly; anything else still goes through ``typing``.
- ``add_to_actions``: ``_add_to_actions`` compares ``self._replay_schema.value`` with
  ``ReplaySchema.V2.value``; ``Enum.value`` is a Python-level property returning ``_value_``,
  which the rewritten function reads.
- ``activity_to_json``: ``CallActivityAction.to_json`` adds each field through ``add_attrib``
  (``hasattr`` then ``getattr``: a call and two lookups a field). The replacement reads each
  field once, leaving out one that raises ``AttributeError`` as ``hasattr`` would, into a dict
  built in the same key order.
"""
from __future__ import annotations

import typing
from typing import Any

from .rewrite import rewrite

CALLABLE_CHECK = "isinstance(name, Callable) and"
_CALLABLE_CHECK_FAST = "(issubclass(str, _devhost_callable) if type(name) is str else isinstance(name, Callable)) and"
CALLS = ("call_activity", "call_activity_with_retry", "call_sub_orchestrator", "call_sub_orchestrator_with_retry")

_SCHEMA_TEST = "self._replay_schema.value >= ReplaySchema.V2.value"


def build_callable_check(module: Any, original: Any) -> Any:
    if module.Callable is not typing.Callable:
        raise ValueError("Callable there is not typing.Callable")
    return rewrite(original, [(CALLABLE_CHECK, _CALLABLE_CHECK_FAST)],
                   {"_devhost_callable": typing.Callable.__origin__})


def build_add_to_actions(module: Any, original: Any) -> Any:
    schema = module.ReplaySchema
    if type(vars(schema)["V2"]) is not schema or "value" in vars(schema):
        raise ValueError("ReplaySchema is not the plain Enum it was")
    return rewrite(original, [(_SCHEMA_TEST, _SCHEMA_TEST.replace(".value", "._value_"))], {})


def build_activity_to_json(module: Any, original: Any) -> Any:
    def to_json(self: Any) -> dict[str, Any]:
        json_dict: dict[str, Any] = {}
        try:
            json_dict["actionType"] = self.action_type
        except AttributeError:
            pass
        try:
            json_dict["functionName"] = self.function_name
        except AttributeError:
            pass
        try:
            json_dict["input"] = self.input_
        except AttributeError:
            pass
        return json_dict

    return to_json


def class_source(cls: Any) -> tuple[Any, ...]:
    return (cls,)


def activity_sources(cls: Any) -> tuple[Any, ...]:
    import importlib

    return cls, importlib.import_module("azure.durable_functions.models.utils.json_utils").add_attrib
