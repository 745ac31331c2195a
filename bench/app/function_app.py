"""The benchmark's own app: the same three workloads the peer runs (bench/peer_durabletask.py).

Kept apart from the test apps so the figures do not move when a test app changes.
"""
from __future__ import annotations

import time
from datetime import timedelta

import azure.durable_functions as df
import benchknobs

app = df.DFApp()


@app.activity_trigger(input_name="name")
def hello(name: str) -> str:
    t0 = time.thread_time()
    result = f"Hello {name}!"
    benchknobs.add(time.thread_time() - t0)
    return result


@app.activity_trigger(input_name="value")
def square(value: int) -> int:
    t0 = time.thread_time()
    result = value * value
    benchknobs.add(time.thread_time() - t0)
    return result


@app.orchestration_trigger(context_name="context")
def chain4(context: df.DurableOrchestrationContext):
    results = []
    for city in (context.get_input(), "Tokyo", "Seattle", "London"):
        results.append((yield context.call_activity("hello", city)))
    return results


@app.orchestration_trigger(context_name="context")
def fan(context: df.DurableOrchestrationContext):
    count = context.get_input()
    results = yield context.task_all([context.call_activity("square", i) for i in range(count)])
    return sum(results)


@app.orchestration_trigger(context_name="context")
def sleeper72(context: df.DurableOrchestrationContext):
    yield context.create_timer(context.current_utc_datetime + timedelta(hours=72))
    return "woke"


# Async twins: awaited on the host's loop (no thread-pool hop), to separate the hop's cost.
@app.activity_trigger(input_name="name")
async def hello_async(name: str) -> str:
    t0 = time.thread_time()
    result = f"Hello {name}!"
    benchknobs.add(time.thread_time() - t0)
    return result


@app.orchestration_trigger(context_name="context")
def chain4_async(context: df.DurableOrchestrationContext):
    results = []
    for city in (context.get_input(), "Tokyo", "Seattle", "London"):
        results.append((yield context.call_activity("hello_async", city)))
    return results


# Long sequential chain (bench/bench_replay.py): every episode replays the whole history.
@app.activity_trigger(input_name="value")
def step(value: int) -> int:
    benchknobs.mark()
    return value + 1


@app.orchestration_trigger(context_name="context")
def chain_long(context: df.DurableOrchestrationContext):
    value = 0
    for _ in range(context.get_input()):
        value = yield context.call_activity("step", value)
    return value
