"""Two real ``python -m devhost`` processes sharing one fan-out on one Azurite task hub.

Each host has few worker slots (``maxConcurrentActivityFunctions``, through the platform's
``AzureFunctionsJobHost__`` app-setting override) and every activity takes a while, so most
work items wait for a slot for longer than the 2 s lease (``hostproc``): a lease taken before a
slot is free would expire while the item waits and the other process would run it as well.
A few activities run longer than the lease: only renewals keep the other process off them.
"""
from __future__ import annotations

import asyncio
import time
from collections import Counter

from devhost.store.azure import AzureStore

from .hostproc import executions, marker_count

FANOUT = 240
SLOTS = 8
PAUSE = 0.05  # seconds per activity: 240 over 2 x 8 slots queue for 1-3 s (claims and results included)
EXPECTED = {"count": FANOUT, "sum": sum(i * i for i in range(FANOUT))}
LONG = {"n": 4, "pause": 3.5, "tag": "long-"}  # 3.5 s each: held only by renewals
SETTINGS = {"AzureFunctionsJobHost__extensions__durableTask__maxConcurrentActivityFunctions": str(SLOTS)}


def two_hosts(hosts):
    first, second = hosts(), hosts()
    first.settings.update(SETTINGS)
    second.settings.update(SETTINGS)
    return first, second


async def assert_each_task_completed_once(store: AzureStore, instance_id: str) -> None:
    history = await store.get_history(instance_id)
    completed = Counter(e["TaskScheduledId"] for e in history if e["EventType"] == 5)
    assert sorted(completed) == list(range(FANOUT)) and set(completed.values()) == {1}


async def test_two_hosts_share_a_fanout_and_run_each_activity_once(hub_store: AzureStore, hosts, markers):
    first, second = two_hosts(hosts)
    await asyncio.gather(first.start(), second.start())
    long_id = await second.start_orchestration("fanout", LONG)  # while the first process idles
    status = await second.wait_for(long_id, timeout=30)
    assert (status["runtimeStatus"], status["output"]) == ("Completed", {"count": 4, "sum": 14}), status
    instance_id = await first.start_orchestration("fanout", {"n": FANOUT, "pause": PAUSE})
    status = await first.wait_for(instance_id, timeout=90)
    assert (status["runtimeStatus"], status["output"]) == ("Completed", EXPECTED), status

    runs = executions(markers, "work")
    per_item = Counter(key for key, _ in runs)
    assert sorted(per_item) == sorted([str(i) for i in range(FANOUT)] + [f"long-{i}" for i in range(4)])
    duplicated = {key: count for key, count in per_item.items() if count > 1}
    assert not duplicated, f"{len(duplicated)} activities ran more than once: {duplicated}"
    per_host = Counter(pid for _, pid in runs)
    shares = [per_host[host.process.pid] for host in (first, second)]
    assert min(shares) >= FANOUT // 10, shares  # both processes took a real share
    await assert_each_task_completed_once(hub_store, instance_id)


async def test_when_one_host_is_killed_the_other_finishes_the_fanout(hub_store: AzureStore, hosts, markers):
    first, second = two_hosts(hosts)
    await asyncio.gather(first.start(), second.start())
    instance_id = await first.start_orchestration("fanout", {"n": FANOUT, "pause": PAUSE})
    deadline = time.monotonic() + 60
    while marker_count(markers, "work") < FANOUT // 3:
        assert time.monotonic() < deadline, first.log()[-3000:]
        await asyncio.sleep(0.02)
    dead = first.process.pid
    first.kill()  # it scheduled the fan-out and holds leases on the items it is running
    status = await second.wait_for(instance_id, timeout=90)
    assert (status["runtimeStatus"], status["output"]) == ("Completed", EXPECTED), status

    runs = executions(markers, "work")
    assert {key for key, _ in runs} == {str(i) for i in range(FANOUT)}  # none lost
    assert set(Counter(runs).values()) == {1}  # no process ran an item twice
    # at-least-once only for what the dead process had in its slots when it died
    duplicated = [key for key, count in Counter(key for key, _ in runs).items() if count > 1]
    assert len(duplicated) <= SLOTS, duplicated
    assert all((key, dead) in runs for key in duplicated)
    await assert_each_task_completed_once(hub_store, instance_id)
