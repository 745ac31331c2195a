"""Episodes, sequence numbers, actions and failures, each driven through the real SDK."""
from __future__ import annotations

import asyncio
from datetime import timedelta

from devhost.protocol import EventType, parse_timestamp

from tests.host.history import event_types, scheduled_ids


async def test_s2_3_episode_layout_of_a_two_activity_chain(env):
    instance_id = await env.start("chain", "Tokyo")
    status = await env.wait(instance_id)
    assert status["runtimeStatus"] == "Completed"
    assert status["output"] == ["Hello Tokyo!", "Hello Seattle!"]
    assert event_types(await env.history(instance_id)) == [
        "OrchestratorStarted", "ExecutionStarted", "TaskScheduled", "OrchestratorCompleted",
        "OrchestratorStarted", "TaskCompleted", "TaskScheduled", "OrchestratorCompleted",
        "OrchestratorStarted", "TaskCompleted", "ExecutionCompleted", "OrchestratorCompleted",
    ]
    assert env.host.runtime.stats.episodes_by_instance[instance_id] == 3


async def test_s2_4_is_played_true_for_stored_events(env):
    instance_id = await env.start("chain", "x")
    await env.wait(instance_id)
    assert all(event["IsPlayed"] for event in await env.history(instance_id))


async def test_s2_5_fan_out_ids_and_all_completions_in_few_episodes(env):
    instance_id = await env.start("fan_out", 500)
    status = await env.wait(instance_id)
    assert status["output"] == sum(i * i for i in range(500))
    history = await env.history(instance_id)
    assert scheduled_ids(history, "TaskScheduled") == list(range(500))
    assert sorted(e["TaskScheduledId"] for e in history if e["EventType"] == EventType.TaskCompleted) == list(range(500))
    assert env.host.runtime.stats.episodes_by_instance[instance_id] <= 3


async def test_s3_2_activity_with_retry_ids_and_delays(env, knobs):
    knobs.FLAKY_FAILURES["k"] = 2
    started = env.now()
    instance_id = await env.start("retry_activity", "k")
    status = await env.wait(instance_id)
    assert status["output"] == "ok after 3"
    history = await env.history(instance_id)
    # attempt 0, retry timer 1, attempt 2, retry timer 3, attempt 4 (spec 2.5, DTFx RetryInterceptor)
    assert scheduled_ids(history, "TaskScheduled") == [0, 2, 4]
    assert scheduled_ids(history, "TimerCreated") == [1, 3]
    assert env.now() - started >= timedelta(seconds=10)  # 5 s + 5 s of virtual time


async def test_s4_1_retries_exhausted_fail_after_a_timer_due_at_once(env, knobs):
    # DTFx RetryInterceptor.cs at durabletask.core-v2.17.1 (the extension's csproj pins Core 2.17.1;
    # the lines date from "Fixed retry interceptor regression (#661)"), 73-82:
    #     bool isLastRetry = retryCount + 1 == this.retryOptions.MaxNumberOfAttempts;
    #     if (isLastRetry) { await this.context.CreateTimer(this.context.CurrentUtcDateTime, "Dummy timer for back-compat"); break; }
    knobs.FLAKY_FAILURES["never"] = 99
    started = env.now()
    instance_id = await env.start("retry_activity", "never")  # 3 attempts, 5 s apart
    status = await env.wait(instance_id)
    assert status["output"].startswith("gave up: Activity function 'flaky' failed: RuntimeError: attempt 3 failed")
    history = await env.history(instance_id)
    assert scheduled_ids(history, "TaskScheduled") == [0, 2, 4]
    assert scheduled_ids(history, "TimerCreated") == [1, 3, 5]  # a timer follows every failure
    timers = [e for e in history if e["EventType"] == EventType.TimerCreated]
    delays = [parse_timestamp(t["FireAt"]) - parse_timestamp(t["Timestamp"]) for t in timers]
    assert delays == [timedelta(seconds=5), timedelta(seconds=5), timedelta(0)]  # the last: the episode's time
    assert env.now() - started < timedelta(seconds=15)
    assert knobs.FLAKY_CALLS["never"] == 3


async def test_s2_5_parallel_retries_allocate_ids_in_history_order(env, knobs):
    knobs.FLAKY_FAILURES.update({"a": 1, "b": 0, "c": 2})
    instance_id = await env.start("parallel_retries", ["a", "b", "c"])
    status = await env.wait(instance_id)
    assert status["output"] == ["ok after 2", "ok after 1", "ok after 3"]
    history = await env.history(instance_id)
    ids = scheduled_ids(history, "TaskScheduled") + scheduled_ids(history, "TimerCreated")
    assert sorted(ids) == list(range(len(ids)))  # dense: the SDK and the host agree on every id


async def test_s4_1_activity_failure_is_caught_with_reason(env):
    instance_id = await env.start("catch_failure")
    status = await env.wait(instance_id)
    assert status["output"].startswith("caught: Activity function 'boom' failed: ValueError: nope")


async def test_s4_3_uncaught_orchestrator_exception_fails_the_instance(env):
    instance_id = await env.start("uncaught_failure")
    status = await env.wait(instance_id)
    assert status["runtimeStatus"] == "Failed"
    assert status["output"] == "Orchestrator function 'uncaught_failure' failed: orchestrator exploded"


async def test_s4_3_non_generator_orchestrator_failure(env):
    instance_id = await env.start("not_a_generator")
    status = await env.wait(instance_id)
    assert status["runtimeStatus"] == "Failed"
    assert status["output"].startswith("Orchestrator function 'not_a_generator' failed:")
    assert "no generator here" in status["output"]


async def test_s4_3_failure_waits_for_outstanding_task_all_siblings(env):
    instance_id = await env.start("fail_fast_all")
    status = await env.wait(instance_id)
    assert status["runtimeStatus"] == "Failed"
    types = event_types(await env.history(instance_id))
    # the sibling's completion is in history before the failure is recorded
    assert types.index("TaskCompleted") < types.index("ExecutionCompleted")
    assert types.count("TaskFailed") == 1


async def test_s3_2_sub_orchestrations_named_generated_and_failing(env):
    instance_id = await env.start("parent", instance_id="p1")
    status = await env.wait(instance_id)
    assert status["runtimeStatus"] == "Completed", status
    output = status["output"]
    assert output["named"] == ["Hello Child!", "Hello Seattle!"]
    assert output["anonymous"] == 0 + 1 + 4
    assert output["failure"].startswith("Orchestrator function 'uncaught_failure' failed: orchestrator exploded")
    history = await env.history(instance_id)
    created = [e for e in history if e["EventType"] == EventType.SubOrchestrationInstanceCreated]
    assert created[0]["InstanceId"] == "p1-child"
    execution_id = history[1]["OrchestrationInstance"]["ExecutionId"]
    assert created[1]["InstanceId"] == f"{execution_id}:1"  # DTFx default: "{parentExecutionId}:{seq}"
    child = await env.status("p1-child")
    assert child["runtimeStatus"] == "Completed"


async def test_s3_2_sub_orchestration_with_retry(env):
    instance_id = await env.start("parent_with_retry")
    status = await env.wait(instance_id)
    assert status["output"].startswith("child failed twice: Orchestrator function 'uncaught_failure' failed")
    history = await env.history(instance_id)
    assert scheduled_ids(history, "SubOrchestrationInstanceCreated") == [0, 2]
    assert scheduled_ids(history, "TimerCreated") == [1, 3]


async def test_s5_72_hour_timer_is_skipped_not_waited(env):
    started = env.now()
    instance_id = await env.start("sleeper", 72)
    status = await env.wait(instance_id)
    assert status["runtimeStatus"] == "Completed"
    assert env.now() - started >= timedelta(hours=72)
    # All but the few milliseconds the episodes ran was one jump of the virtual clock (no
    # wall-time bound: a slow machine runs the episodes slower, never waits for the timer).
    assert env.clock.skipped > timedelta(hours=72) - timedelta(minutes=1)


async def test_s5_long_timer_is_split_into_intervals_under_schema_v3(env):
    instance_id = await env.start("sleeper", 240)  # 10 days > the 6-day maximum short timer
    await env.wait(instance_id)
    history = await env.history(instance_id)
    assert scheduled_ids(history, "TimerCreated") == [0, 1, 2]  # day 3, day 6, day 10
    assert [e["TimerId"] for e in history if e["EventType"] == EventType.TimerFired] == [0, 1, 2]


async def test_s3_4_uncancelled_losing_timer_keeps_the_instance_running(env):
    instance_id = await env.start("race", False)
    await env.wait_for_custom_status(instance_id, lambda s: s == "racing")
    await env.raise_event(instance_id, "Go", "now")
    await env.settle()
    assert (await env.status(instance_id))["runtimeStatus"] == "Running"
    before = env.now()
    status = await env.wait(instance_id)  # skips to the timer
    assert status["output"] == {"winner": "event", "value": "now"}
    assert env.now() - before >= timedelta(minutes=59)


async def test_s3_4_cancelled_timer_lets_the_instance_complete_at_once(env):
    instance_id = await env.start("race", True)
    await env.wait_for_custom_status(instance_id, lambda s: s == "racing")
    before = env.now()
    await env.raise_event(instance_id, "Go", "now")
    status = await env.wait(instance_id)
    assert status["output"] == {"winner": "event", "value": "now"}
    assert env.now() - before < timedelta(minutes=1)  # no skip to the cancelled timer
    history = await env.history(instance_id)
    assert not [e for e in history if e["EventType"] == EventType.TimerFired]


async def test_s3_4_timer_wins_the_race(env):
    instance_id = await env.start("race", True)
    status = await env.wait(instance_id)
    assert status["output"] == {"winner": "timer"}


async def test_s3_2_continue_as_new_restarts_history(env):
    instance_id = await env.start("counter_loop", {"n": 0, "until": 5})
    status = await env.wait(instance_id)
    assert status["output"] == {"n": 5, "until": 5}
    history = await env.history(instance_id)
    assert event_types(history)[:2] == ["OrchestratorStarted", "ExecutionStarted"]
    assert len(history) == 4  # only the last execution is kept
    assert history[1]["Generation"] == 5
    record = await env.host.get_instance(instance_id)
    assert record.generation == 5


async def test_s3_1_custom_status_and_falsy_values_dropped(env):
    instance_id = await env.start("custom_status", {"step": 2})
    assert (await env.wait(instance_id))["customStatus"] == {"step": 2}
    instance_id = await env.start("custom_status", 0)
    assert (await env.wait(instance_id))["customStatus"] is None  # quirk 10


async def test_s10_3_async_activity_is_awaited(env):
    instance_id = await env.start("async_activity", "v")
    assert (await env.wait(instance_id))["output"] == {"echo": {"k": "v"}}


async def test_messages_routed_in_one_pass_of_the_loop_share_one_episode(env):
    """Everything routed to an instance before the scheduler dispatches goes into one episode (as
    DTFx hands an orchestration all its queued messages in one work item): two events raised in
    the same pass of the event loop are replayed together, and nothing runs for them twice."""
    instance_id = await env.start("two_waits")
    await env.wait_for_custom_status(instance_id, lambda s: s == "waiting")
    await env.settle()
    before = env.host.runtime.stats.episodes_by_instance[instance_id]
    await asyncio.gather(env.raise_event(instance_id, "Go", "a"), env.raise_event(instance_id, "Go", "b"))
    status = await env.wait(instance_id)
    assert status["runtimeStatus"] == "Completed"
    assert env.host.runtime.stats.episodes_by_instance[instance_id] == before + 1


async def test_a_chain_step_runs_in_the_activity_task_and_a_stop_lets_it_commit(env):
    """An activity's result that is all its instance waits for runs the next episode in that
    activity's own task (``Runtime._continue_with``). Stopping the host meanwhile lets that
    episode commit, as it lets a dispatched one: a stop must not cut an episode between its
    store write and what follows it."""
    runtime, store = env.host.runtime, env.host.store
    commit = store.commit_episode
    runners: list[str] = []
    held, release = asyncio.Event(), asyncio.Event()

    async def commit_held_on_the_second_episode(episode):
        task = asyncio.current_task()
        assert task is not None
        runners.append(task.get_coro().__qualname__)
        if len(runners) == 2:  # the episode after the first activity
            held.set()
            await release.wait()
        return await commit(episode)

    store.commit_episode = commit_held_on_the_second_episode
    instance_id = await env.start("chain", "x")
    await held.wait()
    stopping = asyncio.create_task(runtime.stop())
    assert runtime._loop_task is not None
    while not runtime._loop_task.done():  # the stop is past the loop, waiting for episodes
        await asyncio.sleep(0)
    await asyncio.sleep(0)
    release.set()
    await stopping

    assert runners == ["Runtime._run_target", "ActivityRunner._run_activity"]
    history = await store.get_history(instance_id)
    assert scheduled_ids(history, "TaskScheduled") == [0, 1]  # the held episode's commit landed
    assert event_types(history).count("TaskCompleted") == 1
