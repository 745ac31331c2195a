"""Virtual and real clocks (issue 3 item 6)."""
from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone

from devhost.app_index import load_app
from devhost.clock import RealClock, VirtualClock, utc_now
from devhost.host import DurableHost
from devhost.store import MemoryStore
from tests.host.conftest import HOST_TEST_APP


async def test_served_mode_real_clock_keeps_a_72_hour_timer_running(knobs):
    host = DurableHost(load_app(HOST_TEST_APP), MemoryStore(), RealClock())
    await host.start()
    try:
        instance_id = await host.start_new("sleeper", None, json.dumps(json.dumps(72)))
        await host.settle()
        await asyncio.sleep(0.05)
        assert (await host.status(instance_id))["runtimeStatus"] == "Running"
    finally:
        await host.stop()


async def test_advance_fires_a_due_timer_without_waiting(env):
    instance_id = await env.start("sleeper", 1)
    await env.settle()
    assert (await env.status(instance_id))["runtimeStatus"] == "Running"
    env.advance(timedelta(hours=1, seconds=1))
    status = await env.wait_for_status(instance_id, "Completed")  # no skipping needed
    assert status["runtimeStatus"] == "Completed"


async def test_virtual_clock_is_monotonic_and_starts_where_asked():
    start = datetime(2030, 1, 1, tzinfo=timezone.utc)
    wall_before = utc_now()
    clock = VirtualClock(start=start)
    first = clock.now()
    assert start <= first <= start + (utc_now() - wall_before)  # runs at wall speed from ``start``
    clock.advance(timedelta(days=3))
    assert clock.now() - first >= timedelta(days=3)
    assert not clock.may_skip
    with clock.skipping():
        assert clock.may_skip
    assert not clock.may_skip


async def test_time_never_skips_past_work_that_is_scheduled_but_not_started(env):
    # Another instance's timer is the next thing due; while the chain's activities are merely
    # scheduled (their tasks not yet running), the clock must not jump to it.
    sleeping = await env.start("sleeper", 1)
    await env.settle()
    started = env.now()
    for _ in range(5):
        status = await env.wait(await env.start("chain", "x"))
        assert status["runtimeStatus"] == "Completed"
    assert env.now() - started < timedelta(minutes=1)
    assert (await env.status(sleeping))["runtimeStatus"] == "Running"


def test_skipped_counts_the_jumps_of_skip_to_and_not_advance():
    clock = VirtualClock(start=datetime(2030, 1, 1, tzinfo=timezone.utc))
    clock.advance(timedelta(hours=1))
    assert clock.skipped == timedelta(0)
    target = clock.now() + timedelta(hours=72)
    clock.skip_to(target)
    jumped = clock.skipped
    assert timedelta(0) < jumped <= timedelta(hours=72)  # to ``target`` from a moment after ``now()``
    assert clock.now() >= target
    clock.skip_to(target - timedelta(hours=1))  # in the past: no jump
    assert clock.skipped == jumped
