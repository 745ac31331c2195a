"""The incremental shim walk (reused between episodes) decides exactly what a full walk decides."""
from __future__ import annotations

import pytest

import devhost.engine
from devhost import shim


def _summary(result: shim.ReplayResult) -> tuple:
    return ([(i.seq, i.kind, i.name, i.input, i.fire_at, i.canceled, i.instance_id) for i in result.new],
            result.chain_finished, result.has_open_tasks, result.continued_as_new,
            result.continue_as_new_input, result.canceled_timers, result.next_seq)


@pytest.fixture
def compared(monkeypatch):
    counts = {"episodes": 0, "reused": 0}

    def checked(*, previous=None, **kwargs):
        full, _ = shim.replay_incremental(**kwargs)
        reusable = previous is not None and previous.sim.top_index < len(previous.actions)
        result, state = shim.replay_incremental(previous=previous, **kwargs)
        assert _summary(result) == _summary(full)
        counts["episodes"] += 1
        counts["reused"] += reusable and state.sim is previous.sim
        return result, state

    monkeypatch.setattr(devhost.engine, "replay_incremental", checked)
    return counts


@pytest.mark.parametrize("name, input", [
    ("chain", "x"), ("fan_out", 30), ("retry_activity", "k"), ("parallel_retries", ["a", "b", "c"]),
    ("parent", None), ("parent_with_retry", None), ("sleeper", 240), ("race", True), ("race", False),
    ("entity_user", "inc"), ("counter_loop", {"n": 0, "until": 3}), ("fail_fast_all", None),
])
async def test_incremental_walk_matches_full_walk(env, knobs, compared, name, input):
    knobs.FLAKY_FAILURES.update({"k": 2, "a": 1, "c": 2})
    instance_id = await env.start(name, input)
    await env.wait(instance_id)
    assert compared["episodes"] >= 2
    if name in ("chain", "fan_out", "sleeper"):
        assert compared["reused"] >= 1  # the cache was actually used
