"""Crash recovery on the Azure store: real ``python -m devhost`` processes, SIGKILLed mid-flight."""
from __future__ import annotations

import asyncio
import time
from collections import Counter

from devhost.store.azure import AzureStore

from .hostproc import marker_count

FANOUT = 200
EXPECTED_SUM = sum(i * i for i in range(FANOUT))


async def test_approval_survives_a_kill(hub_store: AzureStore, hosts, markers):
    first = await hosts().start()
    instance_id = await first.start_orchestration("approval", instance_id="approval-1")
    await first.wait_for(instance_id, {"Running"})
    first.kill()

    second = await hosts().start()
    assert (await second.status(instance_id))["runtimeStatus"] == "Running"
    await second.raise_event(instance_id, "Approval", "yes")
    status = await second.wait_for(instance_id)
    assert (status["runtimeStatus"], status["output"]) == ("Completed", "approved:YES")
    history = await hub_store.get_history(instance_id)
    assert [e["EventType"] for e in history].count(1) == 1  # one ExecutionCompleted


async def test_fanout_killed_half_way_completes_with_the_same_aggregate(hub_store: AzureStore, hosts, markers):
    first = await hosts().start()
    instance_id = await first.start_orchestration("fanout", {"n": FANOUT, "delay": 0.02}, instance_id="fan-1")
    deadline = time.monotonic() + 30
    while marker_count(markers, "work") < FANOUT // 2:
        assert time.monotonic() < deadline, first.log()[-3000:]
        await asyncio.sleep(0.02)
    first.kill()
    done_before = marker_count(markers, "work")
    assert done_before < FANOUT, "the crash came too late to test anything"

    second = await hosts().start()
    status = await second.wait_for(instance_id, timeout=60)
    assert status["runtimeStatus"] == "Completed", status
    assert status["output"] == {"count": FANOUT, "sum": EXPECTED_SUM}
    # an uninterrupted run of the same fan-out gives the same aggregate
    again = await second.start_orchestration("fanout", {"n": FANOUT, "delay": 0}, instance_id="fan-2")
    assert (await second.wait_for(again, timeout=60))["output"] == status["output"]
    history = await hub_store.get_history(instance_id)
    completed = Counter(e["TaskScheduledId"] for e in history if e["EventType"] == 5)
    assert sorted(completed) == list(range(FANOUT)) and set(completed.values()) == {1}
    assert marker_count(markers, "work") >= 2 * FANOUT  # at-least-once: some ran twice, none lost


async def test_entity_state_survives_a_restart(hub_store: AzureStore, hosts):
    first = await hosts().start()
    await first.add_to_counter("k1", 5)
    deadline = time.monotonic() + 15
    while await first.read_entity("counter", "k1") != 5:
        assert time.monotonic() < deadline, first.log()[-3000:]
        await asyncio.sleep(0.05)
    first.kill()
    second = await hosts().start()
    assert await second.read_entity("counter", "k1") == 5
    await second.add_to_counter("k1", 2)
    deadline = time.monotonic() + 15
    while await second.read_entity("counter", "k1") != 7:
        assert time.monotonic() < deadline, second.log()[-3000:]
        await asyncio.sleep(0.05)


async def test_two_hosts_on_one_hub_run_each_episode_once(hub_store: AzureStore, hosts):
    first, second = hosts(), hosts()
    await asyncio.gather(first.start(), second.start())
    ids = []
    for i in range(30):
        host = first if i % 2 else second
        ids.append(await host.start_orchestration("chain", i, instance_id=f"chain-{i:02d}"))
    for i, instance_id in enumerate(ids):
        status = await (second if i % 2 else first).wait_for(instance_id, timeout=60)
        assert (status["runtimeStatus"], status["output"]) == ("Completed", i + 4), status
    for instance_id in ids:
        history = await hub_store.get_history(instance_id)
        scheduled = Counter(e["EventId"] for e in history if e["EventType"] == 4)
        completed = Counter(e["TaskScheduledId"] for e in history if e["EventType"] == 5)
        assert sorted(scheduled) == [0, 1, 2, 3] and set(scheduled.values()) == {1}, history
        assert sorted(completed) == [0, 1, 2, 3] and set(completed.values()) == {1}, history
        assert [e["EventType"] for e in history].count(1) == 1
        assert [e["EventType"] for e in history].count(0) == 1
    # every episode ran exactly once, in one process or the other (5 per 4-activity chain)
    logs = [first.log(), second.log()]
    runs = Counter()
    for log in logs:
        for line in log.splitlines():
            parts = line.split()
            if "orchestrator" in parts and "chain" in parts:
                runs[parts[-3]] += 1
    assert {runs[i] for i in ids} == {5}, runs
    per_host = [sum(1 for line in log.splitlines() if " orchestrator " in line) for log in logs]
    assert all(count > 0 for count in per_host), per_host  # both processes took part
