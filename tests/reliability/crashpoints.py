"""Crash-point exploration: the app's patterns on Azurite, with the host "dying" after its k-th
storage write, for every k, then a new host on the same storage finishing the work.

A run: start the scenario's instance on host 1 (a ``DurableTestHost`` on an ``AzureStore``),
arm ``store.faults.crash_after = k`` (writes counted from there), drive the scenario until it
finishes or the host is dead (after the k-th write every write fails, as in a dead process),
abandon host 1, start host 2 on the same task hub and drive the rest. The outcome (status,
output, entity values) must equal the clean run's, no instance may be left unfinished, every
``TaskScheduled`` must be completed exactly once in history.

``run_with_survivor``: host 2 runs beside host 1 from the start and is never restarted; it must
take over host 1's expired leases and finish (the platform's workers do the same).
"""
from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Awaitable, Callable

from app_common import names
from devhost.app_index import AppIndex
from devhost.protocol import EventType
from devhost.store.azure import AzureStore
from devhost.store.base import TERMINAL_STATUSES, InstanceQuery
from devhost.testing import DurableTestHost

ROOT = Path(__file__).resolve().parents[2]
Env = DurableTestHost
Step = Callable[[Env, str], Awaitable[None]]


async def post(env: Env, path: str, body: Any) -> dict[str, Any]:
    async with env.request("POST", path, json=body) as response:
        assert response.status == 202, await response.text()
        return await response.json()


@dataclass
class Scenario:
    """One pattern: ``start`` (a client call, before the crash is armed), then client ``steps``
    that a client repeats on the next host when the dead one did not answer them."""

    name: str
    start: Callable[[Env], Awaitable[str]]
    steps: list[Step] = field(default_factory=list)
    entity_key: str | None = None


@dataclass
class Outcome:
    status: str
    output: Any
    entity: Any = None
    crashed: bool = False
    writes: int = 0


async def _approve(env: Env, instance_id: str) -> None:
    """Decide once the approval waits. Repeated on the next host when the dead one did not answer:
    the first decision may have landed, and then the route answers 409 (not waiting any more)."""
    def decided_or_waiting(status: dict[str, Any]) -> bool:
        custom = status.get("customStatus")
        return status["runtimeStatus"] in TERMINAL_STATUSES or isinstance(custom, dict) and "state" in custom

    status = await env.host.wait_until(instance_id, decided_or_waiting, 30, skip_time=False)
    if status["runtimeStatus"] in TERMINAL_STATUSES:
        return
    async with env.request("POST", f"/api/approvals/{instance_id}", json={"approved": True, "approver": "ann"}) as r:
        assert r.status in (202, 409), await r.text()


def scenarios(tag: str, blob_service: Any) -> list[Scenario]:
    """The six patterns, small enough that every k of a run is explored within the CI budget."""
    for container, blobs in (("input", {f"cp-{tag}/{i}.txt": b"x" * (10 + i) for i in range(3)}),
                             ("jobs", {f"cp-{tag}/status": json.dumps({"status": "Completed"}).encode()})):
        client = blob_service.get_container_client(container)
        if not client.exists():
            client.create_container()
        for name, data in blobs.items():
            client.upload_blob(name, data, overwrite=True)
    order = {"order_id": f"cp-{tag}", "items": [{"sku": "A1", "quantity": 2, "unit_price": 3.5}]}

    def starter(path: str, body: Any) -> Callable[[Env], Awaitable[str]]:
        async def run(env: Env) -> str:
            return (await post(env, path, body))["id"]
        return run

    return [
        Scenario("chaining", starter("/api/orchestrators/chaining", order)),
        Scenario("fan_out_fan_in", starter("/api/orchestrators/fan_out_fan_in",
                                           {"container": "input", "prefix": f"cp-{tag}/"})),
        Scenario("async_http_api", starter("/api/jobs", {"job": "stats", "items": [1, 2, 3]})),
        Scenario("monitor", starter(f"/api/monitors/cp-{tag}", {"polling_interval_seconds": 60,
                                                                "expiry_seconds": 600})),
        Scenario("human_interaction", starter("/api/approvals", {"request": {"item": "laptop"}, "timeout_hours": 2}),
                 steps=[_approve]),
        Scenario("counter", starter("/api/orchestrators/counter_workflow", {"key": f"cp-{tag}", "increments": [1, 2]}),
                 entity_key=f"cp-{tag}"),
    ]


async def _drive(env: Env, scenario: Scenario, instance_id: str, done: list[Step]) -> Outcome:
    for step in scenario.steps:
        if step not in done:
            await step(env, instance_id)
            done.append(step)
    status = await env.wait(instance_id, timeout=60)
    entity = await env.read_entity(names.COUNTER, scenario.entity_key) if scenario.entity_key else None
    output = json.loads(json.dumps(status["output"]).replace(instance_id, "<instance>"))
    return Outcome(status["runtimeStatus"], output, entity)


async def check_store(env: Env) -> None:
    """No instance left unfinished; every task scheduled once and completed exactly once."""
    store = env.host.store
    await env.settle()  # (the query view is written just after the commit that a waiter saw)
    records, _ = await store.query_instances(InstanceQuery())
    stuck = [(r.instance_id, r.name, r.status) for r in records if r.status not in TERMINAL_STATUSES]
    assert not stuck, f"unfinished instances: {stuck}"
    for record in records:
        history = await store.get_history(record.instance_id)
        scheduled = Counter(e["EventId"] for e in history if e["EventType"] == EventType.TaskScheduled)
        completed = Counter(e["TaskScheduledId"] for e in history
                            if e["EventType"] in (EventType.TaskCompleted, EventType.TaskFailed))
        assert all(n == 1 for n in scheduled.values()), (record.instance_id, scheduled)
        assert completed == scheduled, (record.instance_id, scheduled, completed)


async def _first_host(env: Env, store: AzureStore, scenario: Scenario, crash_after: int | None,
                      done: list[Step]) -> tuple[str, Outcome | None]:
    """Start the scenario on ``env``, arm the crash, drive it until it finishes (its outcome) or
    the host is dead (None)."""
    instance_id = await scenario.start(env)
    store.faults.writes, store.faults.crash_after = 0, crash_after
    task = asyncio.create_task(_drive(env, scenario, instance_id, done))
    while not task.done() and not store.faults.dead:
        await asyncio.sleep(0.005)
    if store.faults.dead:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return instance_id, None
    outcome = task.result()
    outcome.writes = store.faults.writes
    return instance_id, outcome


async def run(scenario: Scenario, connection: str, hub: str, index: AppIndex,
              crash_after: int | None) -> Outcome:
    """One run; ``crash_after=None`` is the clean run (it reports how many writes it made)."""
    first = AzureStore(connection, hub, lease_seconds=2, poll_interval=0.2)
    done: list[Step] = []
    async with DurableTestHost.start_time_skipping(ROOT, store=first, index=index) as env:
        instance_id, outcome = await _first_host(env, first, scenario, crash_after, done)
        if outcome is not None:
            await check_store(env)
        stopped_at = env.clock.now()
    if outcome is not None:
        return outcome
    # Host 1 is dead. Host 2: same storage, same lease owner name (so that it need not wait for
    # the dead host's leases to expire: the dead one writes nothing any more).
    second = AzureStore(connection, hub, lease_seconds=2, poll_interval=0.2, owner=first.owner)
    # (a restart takes time: a redone episode runs at a later time than the lost attempt did)
    restart_at = stopped_at + timedelta(seconds=5)
    async with DurableTestHost.start_time_skipping(ROOT, store=second, index=index, start_time=restart_at) as env:
        outcome = await _drive(env, scenario, instance_id, done)
        outcome.crashed = True
        await check_store(env)
    return outcome


async def _taken_over(store: AzureStore, dead_owner: str, timeout: float = 30.0) -> None:
    """Wait until the survivor took over every lease of the dead process and finished what it
    repairs (the takeover writes the lease row first, then the target's outbox and view)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout

    async def views_agree() -> bool:
        views = {row["InstanceId"]: row["RuntimeStatus"] async for row in store._t["instances"].list_entities()}
        for instance_id, status in views.items():
            sentinel = await store._read_sentinel(instance_id)
            if sentinel is not None and sentinel.status != status:
                return False
        return True

    while True:
        owners = [row.get("Owner") async for row in store._t["leases"].list_entities()]
        if dead_owner not in owners and await views_agree():
            return
        assert loop.time() < deadline, "the survivor never took over the dead host's leases"
        await asyncio.sleep(0.1)


async def run_with_survivor(scenario: Scenario, connection: str, hub: str, index: AppIndex,
                            crash_after: int | None, only: tuple[str, ...] = ()) -> Outcome:
    """Like ``run``, but a second host shares the task hub from the start and is never restarted:
    once host 1 is dead, host 2 must finish its work alone (after host 1's leases expire).
    ``only``: count only these kinds of writes (e.g. commits: die right after the k-th one)."""
    survivor_store = AzureStore(connection, hub, lease_seconds=2, poll_interval=0.2)
    async with DurableTestHost.start_time_skipping(ROOT, store=survivor_store, index=index) as survivor:
        first = AzureStore(connection, hub, lease_seconds=2, poll_interval=0.2)
        first.faults.only = only
        done: list[Step] = []
        async with DurableTestHost.start_time_skipping(ROOT, store=first, index=index) as env:
            instance_id, outcome = await _first_host(env, first, scenario, crash_after, done)
        if outcome is None:
            outcome = await _drive(survivor, scenario, instance_id, done)
            outcome.crashed = True
            await _taken_over(survivor_store, first.owner)
        await check_store(survivor)
        return outcome
