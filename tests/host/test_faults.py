"""Fault injection and the poison policy (issue 6): outputs stay the same, nothing loops forever."""
from __future__ import annotations

from collections import Counter

from devhost.faults import FaultPlan
from devhost.protocol import EventType
from devhost.testing import DurableTestHost
from tests.host.conftest import HOST_TEST_APP

CHAIN_OUTPUT = ["Hello Oslo!", "Hello Seattle!"]


async def _run(faults: FaultPlan, name: str = "chain", input="Oslo", store=None):
    async with DurableTestHost.start_time_skipping(HOST_TEST_APP, faults=faults, store=store) as env:
        instance_id = await env.start(name, input)
        status = await env.wait(instance_id, timeout=60)
        return status, await env.history(instance_id)


def _no_duplicate_scheduling(history: list[dict]) -> None:
    scheduled = Counter(e["EventId"] for e in history if e["EventType"] == EventType.TaskScheduled)
    assert all(count == 1 for count in scheduled.values()), scheduled
    assert sum(1 for e in history if e["EventType"] == EventType.ExecutionCompleted) == 1


async def test_crash_between_execution_and_commit_redoes_the_episode(knobs):
    faults = FaultPlan(crash_before_commit=2)
    status, history = await _run(faults)
    assert status["output"] == CHAIN_OUTPUT
    assert faults.injected["crash before commit"] == 2
    _no_duplicate_scheduling(history)


async def test_activity_worker_crash_is_retried_at_least_once(knobs, either_store):
    """(On Azure Storage the crashed item is a lazy one, held by this process: the retry takes it again.)"""
    faults = FaultPlan(crash_activity={"hello": 2})
    status, history = await _run(faults, store=either_store)
    assert status["output"] == CHAIN_OUTPUT
    assert faults.injected["activity crash"] == 2
    _no_duplicate_scheduling(history)


async def test_duplicate_completion_delivery_is_ignored(knobs):
    faults = FaultPlan(duplicate_completions=True)
    status, history = await _run(faults)
    assert status["output"] == CHAIN_OUTPUT
    completions = [e["TaskScheduledId"] for e in history if e["EventType"] == EventType.TaskCompleted]
    assert len(completions) > len(set(completions))  # the duplicates did arrive
    _no_duplicate_scheduling(history)


async def test_activity_run_twice_runs_the_body_twice(knobs):
    faults = FaultPlan(run_activity_twice={"flaky"})
    status, _ = await _run(faults, "retry_activity", "twice")
    assert status["output"] == "ok after 2"
    assert knobs.FLAKY_CALLS["twice"] == 2


async def test_injected_activity_failures_are_retried_by_the_retry_policy(knobs):
    faults = FaultPlan(fail_activity={"flaky": 2})
    status, history = await _run(faults, "retry_activity", "k")
    assert status["output"] == "ok after 1"  # two injected failures, then the real call
    assert sum(1 for e in history if e["EventType"] == EventType.TaskFailed) == 2


async def test_poison_activity_is_stopped_after_five_attempts(knobs, either_store):
    faults = FaultPlan(crash_activity={"boom": 100})
    status, _ = await _run(faults, "catch_failure", store=either_store)
    assert "poison message" in status["output"]
    assert faults.injected["activity crash"] == 5


async def test_poison_orchestration_fails_with_a_clear_message(knobs):
    faults = FaultPlan(crash_before_commit=100)
    status, _ = await _run(faults)
    assert status["runtimeStatus"] == "Failed"
    assert "crashed the worker 5 times in a row; giving up (poison message)" in status["output"]
