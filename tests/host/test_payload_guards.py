"""Payload guards: warn above 45 KB, refuse above 1 MiB with what to do instead (issue 6)."""
from __future__ import annotations

import logging

MIB = 1024 * 1024


async def test_activity_result_above_1_mib_fails_the_task_with_advice(env):
    instance_id = await env.start("big_result", MIB + 10)
    output = (await env.wait(instance_id))["output"]
    assert output.startswith("caught: Activity function 'make_blob_of_text' failed: The result of")
    assert "1,048,576-byte limit" in output


async def test_payload_above_45_kb_is_a_warning_only(env, caplog):
    with caplog.at_level(logging.WARNING, logger="devhost"):
        instance_id = await env.start("big_result", 50 * 1024)
        assert (await env.wait(instance_id))["output"] == "small enough"
    assert any("above 45 KB" in r.getMessage() for r in caplog.records)


async def test_orchestrator_output_above_1_mib_fails_the_instance(env):
    instance_id = await env.start("big_output", MIB + 1)
    status = await env.wait(instance_id)
    assert status["runtimeStatus"] == "Failed"
    assert "pass its name or URL instead" in status["output"]


async def test_oversized_start_input_and_event_are_refused_with_413(env):
    big = "z" * (MIB + 1)
    async with env.request("POST", "/runtime/webhooks/durabletask/orchestrators/wait_event", key="system",
                           json=big) as response:
        assert response.status == 413
        assert "blob" in (await response.json())["Message"]
    instance_id = await env.start("wait_event")
    await env.settle()
    async with env.request("POST", f"/runtime/webhooks/durabletask/instances/{instance_id}/raiseEvent/Approval",
                           key="system", json=big) as response:
        assert response.status == 413
    assert (await env.status(instance_id))["runtimeStatus"] == "Running"
