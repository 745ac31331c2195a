"""A purpose-built app for the local host's own tests: one orchestrator per protocol feature.

Each orchestrator is named after what it exercises; the tests in ``tests/host`` start them and
check both the result and the history the host wrote (spec section in each test's name).
"""
from __future__ import annotations

import json
from datetime import timedelta

import azure.durable_functions as df
import azure.functions as func

import knobs
from fidelity import bp as fidelity_orchestrators

app = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)
app.register_functions(fidelity_orchestrators)


# ---------------------------------------------------------------- activities
@app.activity_trigger(input_name="name")
def hello(name: str) -> str:
    return f"Hello {name}!"


@app.activity_trigger(input_name="value")
def square(value: int) -> int:
    return value * value


@app.activity_trigger(input_name="message")
def boom(message: str) -> None:
    raise ValueError(message)


@app.activity_trigger(input_name="key")
def flaky(key: str) -> str:
    """Fails the first ``knobs.FLAKY_FAILURES[key]`` times it is called for ``key``."""
    knobs.FLAKY_CALLS[key] = knobs.FLAKY_CALLS.get(key, 0) + 1
    if knobs.FLAKY_CALLS[key] <= knobs.FLAKY_FAILURES.get(key, 0):
        raise RuntimeError(f"attempt {knobs.FLAKY_CALLS[key]} failed")
    return f"ok after {knobs.FLAKY_CALLS[key]}"


@app.activity_trigger(input_name="payload")
async def async_echo(payload: dict) -> dict:
    return {"echo": payload}


@app.activity_trigger(input_name="seconds")
def sleepy(seconds: float) -> float:
    import time

    time.sleep(seconds)
    return seconds


@app.function_name("renamed_activity")
@app.activity_trigger(input_name="x")
def python_name_of_renamed(x: int) -> int:
    return x


# ---------------------------------------------------------------- orchestrators
@app.orchestration_trigger(context_name="context")
def chain(context: df.DurableOrchestrationContext):
    first = yield context.call_activity("hello", context.get_input())
    second = yield context.call_activity("hello", "Seattle")
    return [first, second]


@app.orchestration_trigger(context_name="context")
def fan_out(context: df.DurableOrchestrationContext):
    count = context.get_input()
    results = yield context.task_all([context.call_activity("square", i) for i in range(count)])
    return sum(results)


@app.orchestration_trigger(context_name="context")
def retry_activity(context: df.DurableOrchestrationContext):
    options = df.RetryOptions(first_retry_interval_in_milliseconds=5000, max_number_of_attempts=3)
    try:
        return (yield context.call_activity_with_retry("flaky", options, context.get_input()))
    except Exception as exc:
        return f"gave up: {exc}"


@app.orchestration_trigger(context_name="context")
def parallel_retries(context: df.DurableOrchestrationContext):
    options = df.RetryOptions(first_retry_interval_in_milliseconds=1000, max_number_of_attempts=4)
    keys = context.get_input()
    return (yield context.task_all([context.call_activity_with_retry("flaky", options, k) for k in keys]))


@app.orchestration_trigger(context_name="context")
def catch_failure(context: df.DurableOrchestrationContext):
    try:
        yield context.call_activity("boom", "nope")
    except Exception as exc:
        return f"caught: {exc}"


@app.orchestration_trigger(context_name="context")
def uncaught_failure(context: df.DurableOrchestrationContext):
    yield context.call_activity("hello", "before")
    raise RuntimeError("orchestrator exploded")


@app.orchestration_trigger(context_name="context")
def not_a_generator(context: df.DurableOrchestrationContext):
    raise KeyError("no generator here")


@app.orchestration_trigger(context_name="context")
def fail_fast_all(context: df.DurableOrchestrationContext):
    yield context.task_all([context.call_activity("boom", "first"), context.call_activity("sleepy", 0.05)])


@app.orchestration_trigger(context_name="context")
def parent(context: df.DurableOrchestrationContext):
    named = yield context.call_sub_orchestrator("chain", "Child", instance_id=f"{context.instance_id}-child")
    anonymous = yield context.call_sub_orchestrator("fan_out", 3)
    try:
        yield context.call_sub_orchestrator("uncaught_failure")
    except Exception as exc:
        failure = str(exc)
    return {"named": named, "anonymous": anonymous, "failure": failure}


@app.orchestration_trigger(context_name="context")
def parent_with_retry(context: df.DurableOrchestrationContext):
    options = df.RetryOptions(first_retry_interval_in_milliseconds=1000, max_number_of_attempts=2)
    try:
        yield context.call_sub_orchestrator_with_retry("uncaught_failure", options)
    except Exception as exc:
        return f"child failed twice: {str(exc)[:60]}"


@app.orchestration_trigger(context_name="context")
def sleeper(context: df.DurableOrchestrationContext):
    hours = context.get_input()
    fire_at = context.current_utc_datetime + timedelta(hours=hours)
    yield context.create_timer(fire_at)
    return context.current_utc_datetime.isoformat()


@app.orchestration_trigger(context_name="context")
def wait_event(context: df.DurableOrchestrationContext):
    value = yield context.wait_for_external_event("Approval")
    return value


@app.orchestration_trigger(context_name="context")
def two_waits(context: df.DurableOrchestrationContext):
    yield context.call_activity("sleepy", 0.0)
    context.set_custom_status("waiting")
    first = yield context.wait_for_external_event("Go")
    second = yield context.wait_for_external_event("Go")
    return [first, second]


@app.orchestration_trigger(context_name="context")
def race(context: df.DurableOrchestrationContext):
    """Timer (1 h) against event "Go"; input says whether the losing timer is cancelled."""
    cancel = context.get_input()
    timer = context.create_timer(context.current_utc_datetime + timedelta(hours=1))
    event = context.wait_for_external_event("Go")
    context.set_custom_status("racing")
    winner = yield context.task_any([timer, event])
    if winner == event:
        if cancel:
            timer.cancel()
        return {"winner": "event", "value": event.result}
    return {"winner": "timer"}


@app.orchestration_trigger(context_name="context")
def counter_loop(context: df.DurableOrchestrationContext):
    state = context.get_input()
    if state["n"] >= state["until"]:
        return state
    yield context.call_activity("square", state["n"])
    context.continue_as_new({"n": state["n"] + 1, "until": state["until"]})


@app.orchestration_trigger(context_name="context")
def custom_status(context: df.DurableOrchestrationContext):
    context.set_custom_status(context.get_input())
    yield context.call_activity("hello", "status")
    return "done"


@app.orchestration_trigger(context_name="context")
def switchable(context: df.DurableOrchestrationContext):
    """Calls the activity named in ``knobs.SWITCHABLE_ACTIVITY`` (changed by a test mid-flight)."""
    yield context.call_activity(knobs.SWITCHABLE_ACTIVITY, "x")
    yield context.wait_for_external_event("Continue")
    return "finished"


@app.orchestration_trigger(context_name="context")
def call_unknown(context: df.DurableOrchestrationContext):
    yield context.call_activity("does_not_exist", 1)


@app.orchestration_trigger(context_name="context")
def call_by_object(context: df.DurableOrchestrationContext):
    return (yield context.call_activity(python_name_of_renamed, 7))


@app.orchestration_trigger(context_name="context")
def entity_user(context: df.DurableOrchestrationContext):
    entity = df.EntityId("Tally", context.get_input())
    context.signal_entity(entity, "add", 3)
    total = yield context.call_entity(entity, "add", 4)
    try:
        yield context.call_entity(entity, "explode")
    except Exception as exc:
        error = str(exc)
    return {"total": total, "error": error}


@app.orchestration_trigger(context_name="context")
def http_caller(context: df.DurableOrchestrationContext):
    response = yield context.call_http("POST", context.get_input(), content={"a": 1})
    return {"status": response["statusCode"], "content": response["content"]}


@app.orchestration_trigger(context_name="context")
def http_probe(context: df.DurableOrchestrationContext):
    """``call_http`` with the request given as input; the whole response, or the error's text."""
    spec = context.get_input()
    token = df.ManagedIdentityTokenSource(spec["token_resource"]) if spec.get("token_resource") else None
    try:
        response = yield context.call_http(spec.get("method", "GET"), spec["uri"], content=spec.get("content"),
                                           headers=spec.get("headers"), token_source=token,
                                           is_raw_str=spec.get("raw", False))
    except Exception as exc:
        return {"error": str(exc)}
    return {"response": response}


@app.orchestration_trigger(context_name="context")
def async_activity(context: df.DurableOrchestrationContext):
    return (yield context.call_activity("async_echo", {"k": context.get_input()}))


# ---------------------------------------------------------------- entity
@app.entity_trigger(context_name="context")
def Tally(context: df.DurableEntityContext):
    value = context.get_state(lambda: 0)
    operation = context.operation_name
    if operation == "add":
        value += context.get_input()
        context.set_state(value)
        context.set_result(value)
    elif operation == "get":
        context.set_result(value)
    elif operation == "delete":
        context.destruct_on_exit()
    elif operation == "explode":
        raise ValueError("kaboom")
    elif operation == "input_type":
        context.set_result(type(context.get_input()).__name__)
    elif operation == "set":
        context.set_state(context.get_input())
    elif operation == "unserializable":
        context.set_state({1, 2})  # the SDK fails to write it back, after the operation


# ---------------------------------------------------------------- HTTP
@app.route(route="orchestrators/{functionName}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def start(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    body = req.get_body()
    payload = json.loads(body) if body else None
    instance_id = await client.start_new(req.route_params["functionName"], None, payload)
    return client.create_check_status_response(req, instance_id)


@app.route(route="client/{operation}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def client_call(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """Runs one SDK client operation over the host's RPC and returns what the SDK returned."""
    import client_ops

    result = await client_ops.run(client, req.route_params["operation"], req.get_json())
    return func.HttpResponse(json.dumps(result, default=str), mimetype="application/json")


@app.route(route="public/{name?}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def public(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(json.dumps({"name": req.route_params.get("name"), "q": req.params.get("q")}),
                             mimetype="application/json")


# (not "admin-only": ScriptHost.ValidateHttpFunction refuses a route starting with "admin")
@app.route(route="needs-admin", methods=["GET"], auth_level=func.AuthLevel.ADMIN)
def admin_only(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    return func.HttpResponse(context.function_name)


# ---------------------------------------------------------------- payload guards
@app.activity_trigger(input_name="size")
def make_blob_of_text(size: int) -> str:
    return "x" * size


@app.orchestration_trigger(context_name="context")
def big_result(context: df.DurableOrchestrationContext):
    try:
        yield context.call_activity("make_blob_of_text", context.get_input())
    except Exception as exc:
        return f"caught: {str(exc)[:200]}"
    return "small enough"


@app.orchestration_trigger(context_name="context")
def big_output(context: df.DurableOrchestrationContext):
    yield context.call_activity("hello", "x")
    return "y" * context.get_input()


# ---------------------------------------------------------------- generated programs (fuzz tests)
def _program_task(context: df.DurableOrchestrationContext, step: dict, prefix: str):
    """One yieldable task for a generated step (see tests/host/test_generated_programs.py)."""
    op = step["op"]
    if op == "act":
        return context.call_activity(step["name"], step["arg"])
    if op == "retry":
        options = df.RetryOptions(first_retry_interval_in_milliseconds=step["delay_ms"],
                                  max_number_of_attempts=step["attempts"])
        return context.call_activity_with_retry("flaky", options, f"{prefix}{step['key']}")
    if op == "timer":
        return context.create_timer(context.current_utc_datetime + timedelta(seconds=step["seconds"]))
    if op == "sub":
        return context.call_sub_orchestrator("program", {"prefix": prefix, "steps": step["steps"]})
    if op == "call":
        return context.call_entity(df.EntityId("Tally", f"{prefix}{step['key']}"), "add", step["arg"])
    if op == "event":
        return context.wait_for_external_event(step["name"])
    if op in ("all", "any"):
        tasks = [_program_task(context, child, prefix) for child in step["steps"]]
        return context.task_all(tasks) if op == "all" else context.task_any(tasks)
    raise ValueError(op)


@app.orchestration_trigger(context_name="context")
def program(context: df.DurableOrchestrationContext):
    spec = context.get_input()
    results = []
    for step in spec["steps"]:
        if step["op"] == "signal":
            context.signal_entity(df.EntityId("Tally", f"{spec['prefix']}{step['key']}"), "add", step["arg"])
            results.append("signalled")
            continue
        task = _program_task(context, step, spec["prefix"])
        try:
            value = yield task
            if step["op"] == "any":
                value = "any-done"
            results.append(value)
        except Exception as exc:
            results.append(f"error: {str(exc).splitlines()[0][:60]}")
    return results
