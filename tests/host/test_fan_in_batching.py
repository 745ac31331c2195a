"""Fan-in batching (issue 13, item 5): an episode is held only while it cannot move the
orchestrator and this host still has the instance's activities in flight (devhost/batching.py).

No timed assertions: episodes are counted from the host's stats, and "promptly" means while
the other activities are still held at a gate the test opens only afterwards.
"""
from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio

from devhost import protocol as p
from devhost.batching import FanIn
from devhost.scheduler import RuntimeOptions
from devhost.shim import replay_incremental
from devhost.store.base import Message
from devhost.testing import DurableTestHost

FANIN_APP = Path(__file__).resolve().parent / "fanin_app"
NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest_asyncio.fixture
async def env():
    async with DurableTestHost.start_time_skipping(FANIN_APP) as host:
        yield host


def gate(env: DurableTestHost, key: str) -> asyncio.Event:
    gates = env.host.runtime.index.find("activity", "gated").fn.__globals__["GATES"]
    gates[key] = asyncio.Event()
    return gates[key]


def episodes(env: DurableTestHost, instance_id: str) -> int:
    return env.host.runtime.stats.episodes_by_instance[instance_id]


async def _busy_loop(stop: asyncio.Event) -> None:
    while not stop.is_set():
        time.sleep(0.02)  # hold the event loop, as a loaded machine or a long episode does
        await asyncio.sleep(0)


@pytest.mark.parametrize("shape", ["busy loop", "slow workers"])
async def test_fan_out_completes_in_two_episodes_however_slowly_completions_arrive(shape):
    # The old 5 ms quiet window split both: completions arriving in waves further apart than
    # the window (slow workers, 4 at a time), or a loop too busy to look in time.
    if shape == "slow workers":
        options, spec = RuntimeOptions(max_concurrent_activities=4), {"count": 40, "activity": "slow_square"}
    else:
        options, spec = RuntimeOptions(), {"count": 300, "activity": "square"}
    async with DurableTestHost.start_time_skipping(FANIN_APP, options=options) as env:
        stop = asyncio.Event()
        blocker = asyncio.create_task(_busy_loop(stop)) if shape == "busy loop" else None
        try:
            instance_id = await env.start("fan", spec)
            status = await env.wait(instance_id, timeout=60)
        finally:
            stop.set()
            if blocker:
                await blocker
        assert status["output"] == sum(i * i for i in range(spec["count"]))
        assert episodes(env, instance_id) == 2  # schedule all, then every completion at once


async def test_without_the_hold_a_fan_out_runs_as_completions_come():
    """``fan_in_hold=False`` runs an episode whenever a completion is routed (the switch works)."""
    options = RuntimeOptions(max_concurrent_activities=4, fan_in_hold=False)
    async with DurableTestHost.start_time_skipping(FANIN_APP, options=options) as env:
        instance_id = await env.start("fan", {"count": 40, "activity": "slow_square"})
        status = await env.wait(instance_id, timeout=60)
        assert status["output"] == sum(i * i for i in range(40))
        assert episodes(env, instance_id) > 3


async def until(condition, attempts: int = 3000) -> None:
    """Poll ``condition`` (a safety bound, not a measurement: the tests assert order, not time)."""
    for _ in range(attempts):
        if await condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition never held")


async def test_a_failure_inside_task_all_gets_its_episode_while_the_others_are_in_flight(env):
    # The SDK fails the task_all on its first failure; the extension's shim awaits the WhenAll
    # until every child is done, so the instance fails only then (test_s4_3). The failure must
    # still reach the SDK at once, not wait with the fan-in.
    opened = gate(env, "fail")
    instance_id = await env.start("fail_among_gated", "fail")

    async def failure_delivered() -> bool:
        return any(e["EventType"] == p.EventType.TaskFailed for e in await env.history(instance_id))

    await until(failure_delivered)
    assert episodes(env, instance_id) == 2
    assert env.host.runtime._inflight[instance_id] == 2 and not opened.is_set()
    assert (await env.status(instance_id))["runtimeStatus"] == "Running"
    opened.set()
    status = await env.wait(instance_id)
    assert status["runtimeStatus"] == "Failed" and "first" in status["output"]
    assert episodes(env, instance_id) == 3  # both gated completions in one episode


async def test_task_any_resumes_on_its_first_completion(env):
    opened = gate(env, "any")
    instance_id = await env.start("first_of", "any")
    status = await env.wait_for_custom_status(instance_id, lambda s: s is not None)
    assert status["customStatus"] == {"first": 9}
    assert env.host.runtime._inflight[instance_id] == 2  # decided while the others were in flight
    opened.set()
    status = await env.wait(instance_id)
    assert status["runtimeStatus"] == "Completed" and status["output"] == 9


async def test_nothing_is_held_once_no_activity_of_the_instance_is_in_flight(env):
    # The three activities' completions cannot finish the task_all (the child is still
    # running), but once they are all in, nothing of the parent is in flight on this host:
    # their episode runs instead of waiting for the child.
    opened = gate(env, "child")
    instance_id = await env.start("activities_and_child", "child")
    await env.wait_for_status(f"{instance_id}-child", "Running")
    runtime = env.host.runtime

    async def completions_delivered() -> bool:
        history = await env.history(instance_id)
        return sum(e["EventType"] == p.EventType.TaskCompleted for e in history) == 3

    await until(completions_delivered)
    assert episodes(env, instance_id) == 2  # start, then the three completions, child still gated
    assert not runtime._inflight[instance_id]
    opened.set()
    status = await env.wait(instance_id)
    assert status["output"] == [0, 1, 4, "child"]


async def test_nested_task_alls_finish(env):
    instance_id = await env.start("nested")
    status = await env.wait(instance_id)
    assert status["output"] == [sum(i * i for i in range(5)), sum(i * i for i in range(5, 10))]


# ---------------------------------------------------------------------------- FanIn alone

def _state(compound: int = int(p.ActionType.WhenAll), count: int = 3):
    action = {"actionType": compound, "compoundActions": [
        {"actionType": int(p.ActionType.CallActivity), "functionName": "square", "input": str(i)}
        for i in range(count)]}
    history = [p.orchestrator_started(NOW), p.execution_started(NOW, name="fan", instance_id="i",
                                                                execution_id="e", input_text=None)]
    _, state = replay_incremental(actions=[action], history=history, instance_id="i", execution_id="e",
                                  is_known=lambda kind, name: True)
    return state


def _message(body: dict, execution_id: str | None = "e") -> Message:
    return Message(id=str(id(body)), target="i", kind="event", body=body, created=NOW, execution_id=execution_id)


def done(seq: int, execution_id: str | None = "e") -> Message:
    return _message(p.task_completed(NOW, seq, "1"), execution_id)


def judge(state, *messages: Message) -> bool:
    fan_in = FanIn()
    for message in messages:
        fan_in.add(message)
    return fan_in.could_progress(state)


def test_completions_that_leave_a_task_all_unfinished_may_wait():
    state = _state()
    assert judge(state, done(0), done(1)) is False
    assert judge(state, done(0), done(1), done(0)) is False  # a duplicate counts once
    assert judge(state, done(0), done(1), done(2)) is True  # the last one finishes it


def test_anything_else_runs_at_once():
    state = _state()
    assert judge(state, done(0), _message(p.task_failed(NOW, 1, "no", None))) is True
    assert judge(_state(int(p.ActionType.WhenAny)), done(0)) is True
    assert judge(state, done(0, execution_id="older")) is True
    assert judge(state, done(7)) is True  # nothing scheduled with that id
    assert judge(state, _message(p.timer_fired(NOW, 0, "x"))) is True
    assert judge(state, _message(p.event_raised(NOW, "go", None))) is True
    assert judge(None, done(0)) is True  # no walk to judge by


def test_judged_against_one_walk_only():
    fan_in = FanIn()
    fan_in.add(done(0))
    assert fan_in.could_progress(_state()) is False
    fan_in.add(done(1))
    assert fan_in.could_progress(_state()) is True  # a different walk: the counts no longer apply


async def test_the_hold_needs_activities_in_flight(env):
    """The scheduler asks the FanIn only while the instance has activities in flight here."""
    runtime = env.host.runtime
    instance_id = await env.start("fan", {"count": 3, "activity": "square"})
    await env.wait(instance_id)
    runtime._history[instance_id] = type("C", (), {"replay": _state()})()
    fan_in = runtime._fan_in[instance_id] = FanIn()
    fan_in.add(done(0))
    runtime._inflight[instance_id] += 1
    try:
        assert runtime._held(instance_id) is True
    finally:
        runtime._done_in_flight(instance_id)
    assert runtime._held(instance_id) is False
    del runtime._fan_in[instance_id], runtime._history[instance_id]
