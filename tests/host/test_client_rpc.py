"""The SDK's ``DurableOrchestrationClient`` against the host's RPC endpoint (spec 8)."""
from __future__ import annotations


async def rpc(env, operation: str, **args):
    async with env.request("POST", f"/api/client/{operation}", json=args) as response:
        assert response.status == 200, await response.text()
        return await response.json()


async def test_s8_2_start_new_with_id_and_get_status_with_history(env):
    instance_id = await rpc(env, "start_new", name="chain", instance_id="rpc-1", input="Rome")
    assert instance_id == "rpc-1"
    await env.wait(instance_id)
    status = await rpc(env, "get_status", instance_id="rpc-1", show_history=True)
    assert status["runtime_status"] == "Completed"
    assert status["output"] == ["Hello Rome!", "Hello Seattle!"]
    assert [e["EventType"] for e in status["history"]][0] == "ExecutionStarted"  # quirk 8: historyEvents


async def test_s8_2_get_status_of_unknown_instance_is_falsy(env):
    assert await rpc(env, "get_status", instance_id="missing") is None


async def test_s8_2_start_new_unknown_orchestrator_raises_with_the_host_message(env, function_errors):
    async with env.request("POST", "/api/client/start_new", json={"name": "nope"}) as response:
        assert response.status == 500  # the app did not catch the SDK's exception
    assert "The function 'nope' doesn't exist" in function_errors()


async def test_s8_2_status_all_and_by_status(env):
    done = await rpc(env, "start_new", name="chain", input="x")
    await env.wait(done)
    waiting = await rpc(env, "start_new", name="wait_event")
    await env.settle()
    everyone = {s["instance_id"] for s in await rpc(env, "get_status_all")}
    assert {done, waiting} <= everyone
    running = await rpc(env, "get_status_by", statuses=["Running"])
    assert [s["instance_id"] for s in running] == [waiting]


async def test_s8_2_raise_terminate_suspend_resume_restart_purge(env):
    instance_id = await rpc(env, "start_new", name="wait_event")
    await env.settle()
    assert await rpc(env, "suspend", instance_id=instance_id, reason="pause") == "suspended"
    await env.wait_for_status(instance_id, "Suspended")
    assert await rpc(env, "resume", instance_id=instance_id, reason="go") == "resumed"
    await env.wait_for_status(instance_id, "Running")
    assert await rpc(env, "raise_event", instance_id=instance_id, name="Approval", data=[1, 2]) == "raised"
    assert (await env.wait(instance_id))["output"] == "[1, 2]"  # quirk 2: a string

    restarted = await rpc(env, "restart", instance_id=instance_id)
    assert isinstance(restarted, dict) and restarted["id"] != instance_id  # quirk 8: the payload dict
    await env.settle()
    assert await rpc(env, "terminate", instance_id=restarted["id"], reason="enough") == "terminated"
    assert (await env.wait(restarted["id"]))["runtimeStatus"] == "Terminated"

    assert await rpc(env, "purge", instance_id=instance_id) == 1
    assert await rpc(env, "purge", instance_id=instance_id) == 0
    assert await rpc(env, "get_status", instance_id=instance_id) is None


async def test_s8_2_wait_for_completion_or_check_status(env):
    instance_id = await rpc(env, "start_new", name="chain", input="W")
    result = await rpc(env, "wait_or_check", instance_id=instance_id, timeout_ms=3000)
    assert result["status_code"] == 200
    assert result["body"] == '["Hello W!", "Hello Seattle!"]'
