"""Waits filtered by runtime status (devhost/watchers.py): woken only by a change they can
return on, and otherwise the same answers as an unfiltered wait."""
from __future__ import annotations

from devhost.store.base import TERMINAL_STATUSES


async def test_a_terminal_wait_is_woken_by_the_terminal_commit_only(env):
    instance_id = await env.start("two_waits")
    await env.wait_for_custom_status(instance_id, lambda s: s == "waiting")
    await env.settle()
    runtime = env.host.runtime
    terminal = runtime.watch(instance_id, TERMINAL_STATUSES)
    any_change = runtime.watch(instance_id)
    try:
        await env.raise_event(instance_id, "Go", 1)
        await env.settle()
        assert (await env.status(instance_id))["runtimeStatus"] == "Running"
        assert any_change.is_set() and any_change in runtime._unchecked
        assert not terminal.is_set() and terminal not in runtime._unchecked  # time may skip meanwhile
        any_change.clear()
        runtime.checked(any_change)

        await env.raise_event(instance_id, "Go", 2)
        final = await env.wait(instance_id)
        assert final["runtimeStatus"] == "Completed" and final["output"] == [1, 2]
        assert final == await env.status(instance_id)
        assert terminal.is_set() and any_change.is_set()

        terminal.clear()
        any_change.clear()
        runtime._notify(instance_id)  # another process changed it (poller.py): status unknown, wake all
        assert terminal.is_set() and any_change.is_set()
    finally:
        runtime.unwatch(instance_id, terminal)
        runtime.unwatch(instance_id, any_change)
    assert instance_id not in runtime._watchers


async def test_a_status_wait_returns_on_a_non_terminal_status(env):
    instance_id = await env.start("wait_event")
    running = await env.wait_for_status(instance_id, "Running")
    assert running == await env.status(instance_id)
    await env.raise_event(instance_id, "Approval", "yes")
    assert (await env.wait(instance_id))["output"] == "yes"


async def test_a_predicate_is_applied_within_the_statuses(env):
    instance_id = await env.start("two_waits")
    seen: list[str] = []

    def second_payload(payload: dict) -> bool:
        seen.append(payload["runtimeStatus"])
        return payload["customStatus"] == "waiting"

    payload = await env.host.wait_until(instance_id, second_payload, 30, skip_time=False, statuses={"Running"})
    assert payload["customStatus"] == "waiting"
    assert set(seen) == {"Running"}  # a Pending instance was never handed to the predicate
