"""Fan-in shapes for the scheduler's batching tests (tests/host/test_fan_in_batching.py).

``gated`` activities wait until the test sets ``GATES[key]`` (an ``asyncio.Event`` the test
creates), so a test can keep a fan-out's activities in flight for as long as it looks.
"""
from __future__ import annotations

import asyncio
import time

import azure.durable_functions as df

app = df.DFApp()
GATES: dict[str, asyncio.Event] = {}


@app.activity_trigger(input_name="value")
def square(value: int) -> int:
    return value * value


@app.activity_trigger(input_name="value")
def slow_square(value: int) -> int:
    time.sleep(0.03)  # a worker that takes a while: completions come in waves
    return value * value


@app.activity_trigger(input_name="key")
async def gated(key: str) -> str:
    await GATES[key].wait()
    return key


@app.activity_trigger(input_name="message")
def boom(message: str) -> None:
    raise ValueError(message)


@app.orchestration_trigger(context_name="context")
def fan(context: df.DurableOrchestrationContext):
    """{"count": n, "activity": name}: task_all of n calls."""
    spec = context.get_input()
    results = yield context.task_all([context.call_activity(spec["activity"], i) for i in range(spec["count"])])
    return sum(results)


@app.orchestration_trigger(context_name="context")
def fail_among_gated(context: df.DurableOrchestrationContext):
    """task_all of a failing activity and gated ones: fails on the failure."""
    key = context.get_input()
    yield context.task_all([context.call_activity("gated", key), context.call_activity("boom", "first"),
                            context.call_activity("gated", key)])


@app.orchestration_trigger(context_name="context")
def first_of(context: df.DurableOrchestrationContext):
    """task_any of a quick activity and gated ones: says who won in the custom status."""
    key = context.get_input()
    winner = yield context.task_any([context.call_activity("gated", key), context.call_activity("square", 3),
                                     context.call_activity("gated", key)])
    context.set_custom_status({"first": winner.result})
    return winner.result


@app.orchestration_trigger(context_name="context")
def child(context: df.DurableOrchestrationContext):
    key = context.get_input()
    return (yield context.call_activity("gated", key))


@app.orchestration_trigger(context_name="context")
def activities_and_child(context: df.DurableOrchestrationContext):
    """task_all of quick activities and a sub-orchestration that waits on a gate: once the
    activities are done nothing of this instance is in flight here, so nothing may be held."""
    key = context.get_input()
    tasks = [context.call_activity("square", i) for i in range(3)]
    tasks.append(context.call_sub_orchestrator("child", key, instance_id=f"{context.instance_id}-child"))
    results = yield context.task_all(tasks)
    return results


@app.orchestration_trigger(context_name="context")
def nested(context: df.DurableOrchestrationContext):
    """task_all of two task_alls: the first to finish does not resume user code, the second does."""
    first = context.task_all([context.call_activity("square", i) for i in range(5)])
    second = context.task_all([context.call_activity("square", i) for i in range(5, 10)])
    results = yield context.task_all([first, second])
    return [sum(r) for r in results]
