"""A tiny app for the crash-recovery tests: approval (timer raced against an event), fan-out,
a chain, and a counter entity. Activities leave marker files (``RECOVERY_MARKERS``) so the
tests can count executions, and compute deterministically so results are checkable.
"""
from __future__ import annotations

import asyncio
import os
import uuid
from datetime import timedelta
from pathlib import Path

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)


def _mark(kind: str, key: str) -> None:
    folder = os.environ.get("RECOVERY_MARKERS")
    if folder:
        path = Path(folder) / kind
        path.mkdir(parents=True, exist_ok=True)
        # <key>.<pid>.<random>: executions per key, and which process ran them
        (path / f"{key}.{os.getpid()}.{uuid.uuid4().hex[:8]}").write_text("done")


# ---------------------------------------------------------------- HTTP starter
@app.route(route="start/{name}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def start(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    body = req.get_body()
    instance_id = await client.start_new(req.route_params["name"], req.params.get("id"),
                                         req.get_json() if body else None)
    return client.create_check_status_response(req, instance_id)


@app.route(route="counter/{key}/add", methods=["POST"])
@app.durable_client_input(client_name="client")
async def add_to_counter(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    await client.signal_entity(df.EntityId("counter", req.route_params["key"]), "add", req.get_json())
    return func.HttpResponse(status_code=202)


# ---------------------------------------------------------------- orchestrators
@app.orchestration_trigger(context_name="context")
def approval(context: df.DurableOrchestrationContext):
    deadline = context.current_utc_datetime + timedelta(hours=1)
    timer = context.create_timer(deadline)
    approved = context.wait_for_external_event("Approval")
    winner = yield context.task_any([approved, timer])
    if winner == approved:
        timer.cancel()
        decision = yield context.call_activity("record", approved.result)
        return f"approved:{decision}"
    return "timed out"


@app.orchestration_trigger(context_name="context")
def fanout(context: df.DurableOrchestrationContext):
    spec = context.get_input()
    job = {"delay": spec.get("delay", 0), "pause": spec.get("pause", 0), "tag": spec.get("tag", "")}
    tasks = [context.call_activity("work", {"i": i, **job}) for i in range(spec["n"])]
    results = yield context.task_all(tasks)
    return {"count": len(results), "sum": sum(results)}


@app.orchestration_trigger(context_name="context")
def chain(context: df.DurableOrchestrationContext):
    value = context.get_input() or 0
    for _ in range(4):
        value = yield context.call_activity("increment", value)
    return value


# ---------------------------------------------------------------- activities
@app.activity_trigger(input_name="decision")
def record(decision: str) -> str:
    _mark("record", str(decision))
    return str(decision).upper()


@app.activity_trigger(input_name="job")
async def work(job: dict) -> int:
    i = job["i"]
    # staggered (delay), so a crash lands half-way; or each as long (pause)
    await asyncio.sleep(job.get("delay", 0) * i + job.get("pause", 0))
    _mark("work", f"{job.get('tag', '')}{i}")
    return i * i


@app.activity_trigger(input_name="value")
def increment(value: int) -> int:
    return value + 1


# ---------------------------------------------------------------- entity
@app.entity_trigger(context_name="context")
def counter(context: df.DurableEntityContext):
    value = context.get_state(lambda: 0)
    if context.operation_name == "add":
        value += context.get_input()
    elif context.operation_name == "reset":
        value = 0
    context.set_state(value)
    context.set_result(value)
