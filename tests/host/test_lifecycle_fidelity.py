"""Suspend, resume, terminate and continue-as-new as the Azure Storage provider records them.

Sources: Azure/durabletask at durabletask.core-v2.17.1 / durabletask.azurestorage-v1.17.5 (what
the extension v2.13.7 references):
- ``TaskOrchestrationContext.HandleEventRaisedEvent``: once the orchestrator has continued as new,
  a raised event goes to the next iteration (``AddEventToNextIteration``; the provider's default
  ``EventBehaviourForContinueAsNew`` is ``Carryover``, AzureStorageOrchestrationServiceSettings),
  and ``TaskOrchestrationDispatcher`` adds those events after the new execution's ExecutionStarted.
- ``TaskOrchestrationDispatcher``: the next execution runs in the same work item
  (``do { ... } while (continuedAsNew)``), and ``AzureTableTrackingStore.UpdateStateAsync`` writes
  ``Running`` for its ExecutionStarted: the status does not read ContinuedAsNew meanwhile.
- ``AzureTableTrackingStore.UpdateStateAsync``: ExecutionSuspended and ExecutionResumed write their
  reason to the Output column.
- ``TaskOrchestrationDispatcher.ReconcileMessagesWithState``: every message of a batch goes into
  history in order, a termination's included.
"""
from __future__ import annotations

from typing import AsyncIterator

import pytest_asyncio

from devhost.store.base import Store
from devhost.testing import DurableTestHost
from tests.host.history import event_types

from .conftest import HOST_TEST_APP


@pytest_asyncio.fixture
async def either_store_env(either_store: Store, knobs) -> AsyncIterator[DurableTestHost]:
    async with DurableTestHost.start_time_skipping(HOST_TEST_APP, store=either_store) as env:
        yield env


async def test_an_event_raised_after_continue_as_new_goes_to_the_next_execution(env):
    instance_id = await env.start("can_events", 0)
    await env.settle()
    await env.host.suspend(instance_id, "hold")  # so that "go" and "X" reach one episode together
    await env.wait_for_status(instance_id, "Suspended")
    await env.raise_event(instance_id, "go", "g")
    await env.raise_event(instance_id, "X", "x-value")
    await env.host.resume(instance_id, None)
    status = await env.wait(instance_id)
    assert status["output"] == {"generation": 1, "x": "x-value"}
    assert event_types(await env.history(instance_id))[:3] == ["OrchestratorStarted", "ExecutionStarted",
                                                               "EventRaised"]


async def test_the_next_execution_reads_running(env):
    instance_id = await env.start("can_events", 0)
    await env.settle()
    await env.raise_event(instance_id, "go", "g")
    await env.settle()
    assert (await env.status(instance_id))["runtimeStatus"] == "Running"
    assert (await env.host.get_instance(instance_id)).generation == 1


async def test_suspend_and_resume_reasons_are_the_output_meanwhile(env):
    instance_id = await env.start("wait_event")
    await env.settle()
    await env.host.suspend(instance_id, "pause-reason")
    assert (await env.wait_for_status(instance_id, "Suspended"))["output"] == "pause-reason"
    await env.host.resume(instance_id, "resume-reason")
    assert (await env.wait_for_status(instance_id, "Running"))["output"] == "resume-reason"
    await env.raise_event(instance_id, "Approval", "done")
    assert (await env.wait(instance_id))["output"] == "done"


async def test_a_termination_keeps_the_messages_that_came_with_it(env):
    instance_id = await env.start("chain", "T")
    await env.host.terminate(instance_id, "stop")  # before the start was processed: one batch
    status = await env.wait(instance_id)
    assert status["runtimeStatus"] == "Terminated" and status["output"] == "stop"
    assert event_types(await env.history(instance_id)) == [
        "OrchestratorStarted", "ExecutionStarted", "ExecutionTerminated", "ExecutionCompleted",
        "OrchestratorCompleted"]


# DTFx.AzureStorage 1.17.5 OrchestrationSessionManager: "We do de-duplication when creating
# top-level orchestrations but not for sub-orchestrations"; the child's ExecutionStarted carries a
# new execution id (TaskOrchestrationDispatcher), whose history reads empty: it starts afresh.
async def test_a_sub_orchestration_replaces_a_running_instance_of_its_id(either_store_env):
    env = either_store_env
    await env.start("wait_event", instance_id="fixed-child")
    await env.settle()
    parent = await env.start("parent_of_fixed_child")
    assert (await env.wait(parent))["output"] == ["Hello F!", "Hello Seattle!"]
    child = await env.status("fixed-child")
    assert child["name"] == "chain" and child["runtimeStatus"] == "Completed"
