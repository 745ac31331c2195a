"""Orchestrators for the host's Azure-fidelity tests (tests/host/test_orchestration_fidelity.py):
open tasks at the end, calls the extension refuses, custom status size, what a parent sees of a
failed or terminated child."""
from __future__ import annotations

from datetime import timedelta

import azure.durable_functions as df

bp = df.Blueprint()


def _race_go_against_an_hour(context: df.DurableOrchestrationContext):
    """task_any of event "go" and a 1-hour timer that is left open (not cancelled)."""
    go = context.wait_for_external_event("go")
    timeout = context.create_timer(context.current_utc_datetime + timedelta(hours=1))
    return context.task_any([go, timeout])


@bp.orchestration_trigger(context_name="context")
def fail_with_open_timer(context: df.DurableOrchestrationContext):
    yield _race_go_against_an_hour(context)
    raise RuntimeError("failed after the race")


@bp.orchestration_trigger(context_name="context")
def continue_with_open_timer(context: df.DurableOrchestrationContext):
    generation = context.get_input() or 0
    if generation >= 1:
        return f"generation {generation}"
    yield _race_go_against_an_hour(context)
    context.continue_as_new(generation + 1)


@bp.orchestration_trigger(context_name="context")
def fail_after_cancelled_timer(context: df.DurableOrchestrationContext):
    go = context.wait_for_external_event("go")
    timeout = context.create_timer(context.current_utc_datetime + timedelta(hours=1))
    yield context.task_any([go, timeout])
    timeout.cancel()
    raise RuntimeError("failed after cancelling")


@bp.orchestration_trigger(context_name="context")
def refused_call(context: df.DurableOrchestrationContext):
    """Input names the refused call; a timer follows it in one task_any, to show the numbering."""
    kind = context.get_input()
    if kind == "activity":
        refused = context.call_activity("does_not_exist", 1)
    elif kind == "sub_same_id":
        refused = context.call_sub_orchestrator("refused_call", "none", context.instance_id.upper())
    elif kind == "sub_at_id":
        refused = context.call_sub_orchestrator("refused_call", "none", "@x@y")
    elif kind == "sub_unknown":
        refused = context.call_sub_orchestrator("no_such_orchestrator", None)
    elif kind == "entity":
        refused = context.call_entity(df.EntityId("no_such_entity", "k"), "op", 1)
    else:
        return "nothing refused"
    timer = context.create_timer(context.current_utc_datetime + timedelta(minutes=5))
    yield context.task_any([refused, timer])
    return "the timer fired"


@bp.orchestration_trigger(context_name="context")
def grandparent_id_child(context: df.DurableOrchestrationContext):
    """Started as a sub-orchestration: calls one with its parent's instance id."""
    yield context.call_sub_orchestrator("refused_call", "none", context.parent_instance_id)
    return "unreachable on Azure"


@bp.orchestration_trigger(context_name="context")
def grandparent(context: df.DurableOrchestrationContext):
    yield context.call_sub_orchestrator("grandparent_id_child", None, f"{context.instance_id}-kid")


@bp.orchestration_trigger(context_name="context")
def signal_unknown_entity(context: df.DurableOrchestrationContext):
    yield context.call_activity("hello", "before")
    context.signal_entity(df.EntityId("no_such_entity", "k"), "op", 1)
    if context.get_input() == "raise":
        raise RuntimeError("raised after the signal")
    return (yield context.call_activity("hello", "after"))


@bp.orchestration_trigger(context_name="context")
def big_status_after_an_activity(context: df.DurableOrchestrationContext):
    yield context.call_activity("hello", "first")
    context.set_custom_status(context.get_input())
    return "done"


@bp.orchestration_trigger(context_name="context")
def big_status_then_raise(context: df.DurableOrchestrationContext):
    context.set_custom_status(context.get_input())
    if context.get_input() is None:
        yield context.call_activity("hello", "never")  # a generator: the SDK then embeds its state
    raise RuntimeError("raised too")


@bp.orchestration_trigger(context_name="context")
def waiting_child(context: df.DurableOrchestrationContext):
    return (yield context.wait_for_external_event("go"))


@bp.orchestration_trigger(context_name="context")
def parent_of(context: df.DurableOrchestrationContext):
    """Calls the child named in its input; returns what the failure looked like."""
    spec = context.get_input()
    try:
        yield context.call_sub_orchestrator(spec["child"], spec.get("input"), f"{context.instance_id}-c")
    except Exception as exc:
        return str(exc)


@bp.orchestration_trigger(context_name="context")
def signal_then_end(context: df.DurableOrchestrationContext):
    """Signals in the episode that ends the execution: completes, fails or continues as new."""
    how = context.get_input() or "complete"
    yield context.call_activity("hello", how)  # (a generator: the SDK embeds its state when it raises)
    context.signal_entity(df.EntityId("Tally", f"last-{how}"), "add", 2)
    if how == "fail":
        raise RuntimeError("failed right after signalling")
    if how == "continue":
        context.continue_as_new("again")
    return how


@bp.orchestration_trigger(context_name="context")
def can_events(context: df.DurableOrchestrationContext):
    """Generation 0 waits for "go" and continues as new; generation 1 waits for "X"."""
    generation = context.get_input() or 0
    if generation == 0:
        yield context.wait_for_external_event("go")
        context.continue_as_new(1)
        return None
    x = yield context.wait_for_external_event("X")
    return {"generation": generation, "x": x}


@bp.orchestration_trigger(context_name="context")
def parent_of_fixed_child(context: df.DurableOrchestrationContext):
    """Calls chain("F") as a sub-orchestration named "fixed-child"."""
    return (yield context.call_sub_orchestrator("chain", "F", "fixed-child"))
