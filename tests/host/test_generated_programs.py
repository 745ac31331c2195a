"""Generated orchestrations: every mix of activities, retries, timers, sub-orchestrations,
entity calls and signals, external events, task_all/task_any nesting and failures must (1) complete, with the
host's sequence numbers agreeing with the SDK's (a disagreement hangs or fails the instance),
and (2) give the same output whatever the episode boundaries (batching on/off) and under
crashes before commit and duplicate deliveries.
"""
from __future__ import annotations

import random

import pytest

from devhost.faults import FaultPlan
from devhost.protocol import EventType
from devhost.scheduler import RuntimeOptions
from devhost.testing import DurableTestHost
from tests.host.conftest import HOST_TEST_APP

PROGRAMS = 30


def _step(rng: random.Random, depth: int, keys: list[str]) -> dict:
    kinds = ["act", "act", "boom", "retry", "timer", "call", "event"] + (["sub", "all", "any"] if depth < 2 else [])
    kind = rng.choice(kinds)
    if kind == "act":
        return {"op": "act", "name": "square", "arg": rng.randint(0, 9)}
    if kind == "boom":
        return {"op": "act", "name": "boom", "arg": "planned"}
    if kind == "retry":
        key = f"r{len(keys)}"
        keys.append(key)
        return {"op": "retry", "key": key, "attempts": rng.randint(1, 3), "delay_ms": rng.choice([500, 2000])}
    if kind == "timer":
        return {"op": "timer", "seconds": rng.choice([1, 60, 3600])}
    if kind == "call":
        return {"op": "call", "key": rng.choice("ab"), "arg": rng.randint(1, 5)}
    if kind == "event" and depth == 0:  # sub-orchestrations would need their own instance ids
        name = f"E{len(keys)}"
        keys.append(name)
        return {"op": "event", "name": name}
    if kind == "event":
        return {"op": "act", "name": "square", "arg": 2}
    if kind == "sub":
        return {"op": "sub", "steps": [_step(rng, depth + 1, keys) for _ in range(rng.randint(1, 3))]}
    children = [_step(rng, depth + 1, keys) for _ in range(rng.randint(1, 4))]
    children = [c for c in children if c["op"] not in ("sub", "all", "any")] or [{"op": "act", "name": "square", "arg": 1}]
    return {"op": kind, "steps": children}


def _program(seed: int) -> tuple[list[dict], dict[str, int], list[str]]:
    rng = random.Random(seed)
    keys: list[str] = []
    steps = [_step(rng, 0, keys) for _ in range(rng.randint(2, 6))]
    if rng.random() < 0.3:
        steps.insert(rng.randrange(len(steps)), {"op": "signal", "key": rng.choice("ab"), "arg": rng.randint(1, 3)})
    failures = {key: rng.randint(0, 3) for key in keys if key.startswith("r")}
    events = [key for key in keys if key.startswith("E")]
    return steps, failures, events


async def _run(knobs, seed: int, tag: str, **host_options) -> list:
    steps, failures, events = _program(seed)
    prefix = f"{tag}-{seed}-"
    knobs.FLAKY_FAILURES.update({prefix + k: n for k, n in failures.items()})
    async with DurableTestHost.start_time_skipping(HOST_TEST_APP, **host_options) as env:
        instance_id = await env.start("program", {"prefix": prefix, "steps": steps})
        for name in events:  # some arrive before their wait, some after (buffered either way)
            await env.raise_event(instance_id, name, f"value of {name}")
        status = await env.wait(instance_id, timeout=20)
        assert status["runtimeStatus"] == "Completed", (seed, status)
        history = await env.history(instance_id)
        ids = sorted(e["EventId"] for e in history if e["EventType"] in (
            EventType.TaskScheduled, EventType.TimerCreated, EventType.SubOrchestrationInstanceCreated,
            EventType.EventSent))
        assert ids == list(range(len(ids))), (seed, ids)  # dense: host and SDK agree on every id
        return status["output"]


@pytest.mark.parametrize("seed", range(PROGRAMS))
async def test_generated_program_is_consistent_across_batching_and_faults(knobs, seed):
    reference = await _run(knobs, seed, "ref")
    assert await _run(knobs, seed, "nobatch", options=RuntimeOptions(fan_in_hold=False)) == reference
    faults = FaultPlan(crash_before_commit=2, duplicate_completions=True, crash_activity={"square": 1})
    assert await _run(knobs, seed, "faults", faults=faults) == reference
