"""Where an orchestration ends, and how, as on Azure: open tasks, calls the extension refuses,
a terminated or failed child (the last retry's timer: test_orchestrations.py). The orchestrators are in tests/host/app/fidelity.py.

Sources: the extension at Azure/azure-functions-durable-extension v2.13.7 (its csproj pins
Microsoft.Azure.DurableTask.Core 2.17.1 and DurableTask.AzureStorage 1.17.5); DTFx files are
cited at the tags durabletask.core-v2.17.1 / durabletask.azurestorage-v1.17.5.
"""
from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from devhost.protocol import EventType

from tests.host.history import event_types, scheduled_ids

WEBHOOK = "/runtime/webhooks/durabletask"


async def _after_go(env, name: str, input=None, instance_id: str | None = None) -> str:
    instance_id = await env.start(name, input, instance_id=instance_id)
    await env.settle()
    await env.raise_event(instance_id, "go", 1)
    await env.settle()
    return instance_id


# -- 1. nothing ends while a task is open ------------------------------------------------------
# DTFx TaskOrchestrationExecutor.cs (2.17.1) 150-178:
#     if (!this.context.HasOpenTasks) { if (this.result!.IsCompleted) { if (this.result.IsFaulted)
#         { ... this.context.FailOrchestration(exception); } else { this.context.CompleteOrchestration(...); } } }
# and TaskOrchestrationContext.cs 662-668: a continue-as-new is applied only in CompleteOrchestration.
# An open timer is in openTasks (CreateTimer, 258) until it fires or is cancelled (264-268).

async def test_failure_with_an_open_timer_waits_until_the_timer_fires(env):
    instance_id = await _after_go(env, "fail_with_open_timer")
    assert (await env.status(instance_id))["runtimeStatus"] == "Running"
    assert "ExecutionCompleted" not in event_types(await env.history(instance_id))
    before = env.now()
    status = await env.wait(instance_id)
    assert status["runtimeStatus"] == "Failed"
    assert status["output"] == "Orchestrator function 'fail_with_open_timer' failed: failed after the race"
    assert env.now() - before >= timedelta(minutes=59)


async def test_continue_as_new_with_an_open_timer_waits_until_the_timer_fires(env):
    instance_id = await _after_go(env, "continue_with_open_timer")
    status = await env.status(instance_id)
    assert status["runtimeStatus"] == "Running" and status["input"] is None  # still generation 0
    before = env.now()
    status = await env.wait(instance_id)
    assert status["output"] == "generation 1"
    assert env.now() - before >= timedelta(minutes=59)


async def test_failure_after_cancelling_the_timer_is_immediate(env):
    instance_id = await _after_go(env, "fail_after_cancelled_timer")
    status = await env.status(instance_id)
    assert status["runtimeStatus"] == "Failed"
    assert status["output"] == "Orchestrator function 'fail_after_cancelled_timer' failed: failed after cancelling"


# -- 2. calls the extension refuses -------------------------------------------------------------
# Extension ContextImplementations/DurableOrchestrationContext.cs 536-607: the checks
# (ThrowIfFunctionDoesNotExist 563; a sub-orchestration id equal to InstanceId or ParentInstanceId,
# OrdinalIgnoreCase, 597-601; one starting with "@", 604-607) run inside the async
# CallDurableTaskFunctionAsync, before InnerContext.ScheduleTask / CreateSubOrchestrationInstance /
# SendEntityMessage: the exception lands in the returned task, no sequence number is taken.
# Listener/OutOfProcOrchestrationShim.cs 199-219 (ProcessAsyncActionsV2) awaits that task in a
# try/catch: "Silently ignore exceptions thrown by user code". The SDK waits for a result that never
# comes: the instance stays Running (azure-functions-durable-python issue #132, open).

@pytest.mark.parametrize("kind", ["activity", "sub_same_id", "sub_at_id", "sub_unknown", "entity"])
async def test_a_refused_call_schedules_nothing_and_takes_no_sequence_number(env, caplog, kind):
    caplog.set_level(logging.WARNING, logger="devhost")
    instance_id = await env.start("refused_call", kind)
    await env.settle()
    assert (await env.status(instance_id))["runtimeStatus"] == "Running"
    history = await env.history(instance_id)
    # task_any([refused, timer]): the timer is DTFx's first scheduling call, so it gets number 0
    assert scheduled_ids(history, "TimerCreated") == [0]
    assert not {"TaskScheduled", "SubOrchestrationInstanceCreated", "EventSent"} & set(event_types(history))
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(instance_id in w and "#132" in w for w in warnings), warnings
    # The shim's WhenAny ended at once on the faulted task; TimerFired (TimerId 0) closes the last
    # open task. The SDK had numbered the refused call 0, so it takes the timer's event for that
    # call: a result for an activity or sub-orchestration, an unreadable response for an entity.
    status = await env.wait(instance_id)
    if kind == "entity":
        assert status["output"] == "Orchestrator function 'refused_call' failed: 'NoneType' object has no attribute 'keys'"
    else:
        assert status["runtimeStatus"] == "Completed" and status["output"] == "the timer fired"


async def test_an_unknown_activity_alone_leaves_the_instance_running_for_ever(env, caplog):
    instance_id = await env.start("call_unknown")
    await env.settle()
    env.advance(timedelta(days=30))
    await env.settle()
    assert (await env.status(instance_id))["runtimeStatus"] == "Running"
    assert event_types(await env.history(instance_id)) == [
        "OrchestratorStarted", "ExecutionStarted", "OrchestratorCompleted"]
    assert "The function 'does_not_exist' doesn't exist" in caplog.text
    assert "The following are the known activity functions: '" in caplog.text  # the extension's wording


async def test_a_sub_orchestration_with_the_grandparents_id_is_refused(env):
    await env.start("grandparent", instance_id="GP")
    await env.settle()
    assert (await env.status("GP"))["runtimeStatus"] == "Running"
    assert (await env.status("GP-kid"))["runtimeStatus"] == "Running"
    assert "SubOrchestrationInstanceCreated" not in event_types(await env.history("GP-kid"))


# SignalEntity (DurableOrchestrationContext.cs 479-498) waits on that task and rethrows its
# exception synchronously, out of ProcessAsyncActionsV2 (the call is outside its try), so no later
# action is invoked. TaskOrchestrationShim.InvokeUserCodeAndHandleResults (Listener/
# TaskOrchestrationShim.cs 174-207): when the function had returned, the exception becomes
# OrchestrationFailureException($"Orchestrator function '{Name}' failed: {e.Message}"); when it had
# raised, the replay runs inside the catch, whose own catch takes only OrchestrationFailureException,
# so the ArgumentException leaves bare and DTFx FailOrchestration uses its Message.

async def test_a_signal_to_an_unknown_entity_fails_the_orchestration_with_the_prefix(env):
    instance_id = await env.start("signal_unknown_entity")
    status = await env.wait(instance_id)
    assert status["runtimeStatus"] == "Failed"
    assert status["output"].startswith(
        "Orchestrator function 'signal_unknown_entity' failed: The function 'no_such_entity' doesn't exist, "
        "is disabled, or is not an entity function. Additional info: The following are the known entity functions: ")
    history = await env.history(instance_id)
    assert scheduled_ids(history, "TaskScheduled") == [0]  # "after" is never invoked
    assert "EventSent" not in event_types(history)


async def test_a_signal_to_an_unknown_entity_after_the_sdk_raised_fails_bare(env):
    instance_id = await env.start("signal_unknown_entity", "raise")
    status = await env.wait(instance_id)
    assert status["runtimeStatus"] == "Failed"
    assert status["output"].startswith("The function 'no_such_entity' doesn't exist")


# -- 5. a terminated child ----------------------------------------------------------------------------
# DTFx.AzureStorage AzureStorageOrchestrationService.cs (1.17.5) 1866-1871: new ExecutionTerminatedEvent(-1, reason);
# DTFx TaskOrchestrationContext.cs 553-556: CompleteOrchestration(terminatedEvent.Input, null, Terminated);
# TaskOrchestrationDispatcher.cs 951-957: SubOrchestrationInstanceFailedEvent(-1, ..., Result, Details).
# The status API: DurableClient.ConvertOrchestrationStateToStatus -> ParseToJToken(Output) (1095-1118):
# JSON if it parses, else the trimmed text.

async def _terminate(env, instance_id: str, reason: str) -> None:
    async with env.request("POST", f"{WEBHOOK}/instances/{instance_id}/terminate", key="system",
                           params={"reason": reason}) as response:
        assert response.status == 202


async def test_a_terminated_childs_reason_reaches_the_parent_as_sent(env):
    parent = await env.start("parent_of", {"child": "waiting_child"}, instance_id="PT")
    await env.settle()
    await _terminate(env, "PT-c", "stop")
    status = await env.wait(parent)
    assert status["output"] == "stop \n None"  # the SDK's "{Reason} \n {Details}"
    failed = [e for e in await env.history("PT") if e["EventType"] == EventType.SubOrchestrationInstanceFailed]
    assert failed[0]["Reason"] == "stop" and failed[0]["Details"] is None
    child = await env.status("PT-c")
    assert child["runtimeStatus"] == "Terminated" and child["output"] == "stop"
    completed = [e for e in await env.history("PT-c") if e["EventType"] == EventType.ExecutionCompleted]
    assert completed[0]["Result"] == "stop"


async def test_a_terminated_instances_json_reason_is_parsed_by_the_status_api(env):
    instance_id = await env.start("waiting_child")
    await env.settle()
    await _terminate(env, instance_id, '{"why": 42}')
    status = await env.wait(instance_id)
    assert status["runtimeStatus"] == "Terminated" and status["output"] == {"why": 42}


# -- 6. a failed child's details -----------------------------------------------------------------------
# Listener/OutOfProcOrchestrationShim.cs 85-90:
#     string exceptionDetails = $"Message: {execution.Error}, StackTrace: {result.Exception.StackTrace}";
#     throw new OrchestrationFailureException($"Orchestrator function '{this.context.Name}' failed: {execution.Error}", exceptionDetails);
# DTFx TaskOrchestrationContext.FailOrchestration (609-659) keeps Details (ErrorPropagationMode
# SerializeExceptions); the extension sets TaskOrchestrationDispatcher.IncludeDetails = true
# (DurableTaskExtension.cs 1436-1439). The .NET stack trace cannot be had here: the host gives the
# Python traceback of the orchestrator's exception instead.

async def test_a_failed_childs_details_reach_the_parent(env):
    parent = await env.start("parent_of", {"child": "uncaught_failure"}, instance_id="PF")
    status = await env.wait(parent)
    failed = [e for e in await env.history("PF") if e["EventType"] == EventType.SubOrchestrationInstanceFailed]
    assert failed[0]["Reason"] == "Orchestrator function 'uncaught_failure' failed: orchestrator exploded"
    details = failed[0]["Details"]
    assert details.startswith("Message: orchestrator exploded, StackTrace: ")
    assert 'raise RuntimeError("orchestrator exploded")' in details
    assert status["output"] == f"{failed[0]['Reason']} \n {details}"


# -- signals in the episode that ends the execution --------------------------------------------
# DTFx TaskOrchestrationDispatcher.cs (2.17.1): the episode's actions are carried out along with
# its completion (a SendEventOrchestratorAction becomes EventSent and a message either way), so a
# signal sent just before returning, raising or continuing as new reaches the entity.

@pytest.mark.parametrize("how, status", [("complete", "Completed"), ("fail", "Failed"),
                                         ("continue", "Completed")])
async def test_a_signal_in_the_last_episode_is_sent(env, how, status):
    instance_id = await env.start("signal_then_end", how)
    assert (await env.wait(instance_id))["runtimeStatus"] == status
    await env.settle()
    assert await env.read_entity("Tally", f"last-{how}") == 2
    if how != "continue":
        types = event_types(await env.history(instance_id))
        assert types.index("EventSent") < types.index("ExecutionCompleted")
