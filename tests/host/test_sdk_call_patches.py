"""The per-task patches (``devhost/sdk_patches/calls.py``) on the cases the test apps do not reach.

Each check runs the same SDK call with every patch off and on and requires the same result: the
task built (its type, API name, action JSON, expected type) or the same exception and message.
"""
from __future__ import annotations

import importlib
import json
from typing import Any, Callable

import pytest

from .test_sdk_context_cache import _history, _text
from .test_sdk_patches import _all, _restore  # noqa: F401 (_restore: the autouse fixture)

MODULE = importlib.import_module("azure.durable_functions.models.DurableOrchestrationContext")
Context = MODULE.DurableOrchestrationContext


def _outcome(call: Callable[[], Any]) -> Any:
    try:
        task = call()
    except Exception as exc:
        return "raised", type(exc), str(exc)
    action = task.action_repr[0] if isinstance(task.action_repr, list) else task.action_repr
    return type(task).__name__, task._api_name, json.dumps(action.to_json()), task._expected_output_type


def _same(call: Callable[[], Any]) -> Any:
    _all(False)
    plain = _outcome(call)
    _all(True)
    assert _outcome(call) == plain
    return plain


class Name(str):
    pass


def test_call_apis_with_every_kind_of_name():
    from azure.durable_functions import RetryOptions
    from azure.functions.decorators.function_app import FunctionBuilder

    context = Context.from_json(_text(_history(2)))
    retry = RetryOptions(first_retry_interval_in_milliseconds=1000, max_number_of_attempts=2)
    builder = FunctionBuilder(lambda x: x, "app.py")
    names = ["step", Name("step"), "", len, lambda: None, builder, 5, None]
    calls = {
        "call_activity": lambda name: context.call_activity(name, {"a": 1}),
        "call_activity_with_retry": lambda name: context.call_activity_with_retry(name, retry, [1]),
        "call_sub_orchestrator": lambda name: context.call_sub_orchestrator(name, "in", "child-1"),
        "call_sub_orchestrator_with_retry": lambda name: context.call_sub_orchestrator_with_retry(
            name, retry, None, "child-2"),
    }
    raised = 0
    for api, call in calls.items():
        for name in names:
            raised += _same(lambda: call(name))[0] == "raised"
    assert 0 < raised < len(calls) * len(names)


@pytest.mark.parametrize("schema", [None, 2, 3])
def test_add_to_actions_on_every_schema(schema):
    from azure.durable_functions.models.actions.CallActivityAction import CallActivityAction

    def run() -> Any:
        text = _text(_history(1))
        if schema is None:
            text = text.replace(', "upperSchemaVersionNew": 2', "")
        else:
            text = text.replace('"upperSchemaVersionNew": 2', f'"upperSchemaVersionNew": {schema}')
        context = Context.from_json(text)
        results = []
        for item in (CallActivityAction("a", 1), [CallActivityAction("b", 2)], "not an action"):
            try:
                context._add_to_actions(item)
                results.append("ok")
            except Exception as exc:
                results.append(f"{type(exc).__name__}: {exc}")
        actions = [[a.to_json() for a in group] for group in context._actions]
        return results, json.dumps(actions), context._replay_schema

    _all(False)
    plain = run()
    _all(True)
    assert run() == plain


def test_activity_to_json_without_a_field():
    from azure.durable_functions.models.actions.CallActivityAction import CallActivityAction

    def run(drop: str | None) -> Any:
        action = CallActivityAction("a", {"x": [1]})
        if drop:
            delattr(action, drop)
        result = action.to_json()
        return list(result.items()), [type(v) for v in result.values()]

    for drop in (None, "input_", "function_name"):
        _all(False)
        plain = run(drop)
        _all(True)
        assert run(drop) == plain
