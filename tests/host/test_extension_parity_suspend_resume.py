"""Suspend and resume in the wrong state answer as the Durable extension does (issue 11, item 4).

Extension source (Azure/azure-functions-durable-extension, ``src/WebJobs.Extensions.DurableTask/``):

* ``ContextImplementations/DurableClient.cs`` ``SuspendAsync``: only Running, Pending and
  ContinuedAsNew instances are suspendable (``IsOrchestrationSuspendable``); otherwise it throws
  ``InvalidOperationException("Cannot suspend the orchestration instance {id} because instance is
  in the {status} state.")``. ``ResumeAsync`` throws the same for anything but Suspended.
* ``HttpApiHandler.cs`` ``HandleSuspendInstanceRequestAsync`` / ``HandleResumeInstanceRequestAsync``:
  404 unknown, 410 completed/failed/terminated/canceled, then the client call; the exception is
  caught by ``HandleRequestAsync``'s catch-all: 500 "Something went wrong while processing your
  request" with ``ExceptionMessage``/``ExceptionType`` (``HttpRequestMessageExtensions.CreateErrorResponse``).
* The SDK's client RPC goes through the same handler (``LocalHttpListener.cs``), and
  azure-functions-durable's ``DurableOrchestrationClient.suspend``/``resume`` raise
  "The operation failed with an unexpected status code 500" for any code but 202/410/404.
"""
from __future__ import annotations

WEBHOOK = "/runtime/webhooks/durabletask/instances"


async def _running(env) -> str:
    instance_id = await env.start("wait_event")
    await env.wait_for_status(instance_id, "Running")
    return instance_id


async def _suspended(env) -> str:
    instance_id = await _running(env)
    await env.host.suspend(instance_id, "first")
    await env.wait_for_status(instance_id, "Suspended")
    return instance_id


async def _post(env, path: str) -> tuple[int, dict]:
    async with env.request("POST", path, key="system") as response:
        return response.status, await response.json()


async def test_suspending_an_already_suspended_instance_answers_500_like_the_extension(env):
    instance_id = await _suspended(env)
    status, body = await _post(env, f"{WEBHOOK}/{instance_id}/suspend?reason=again")
    assert status == 500
    assert body["Message"] == "Something went wrong while processing your request"
    assert body["ExceptionType"] == "System.InvalidOperationException"
    assert body["ExceptionMessage"] == (f"Cannot suspend the orchestration instance {instance_id} because "
                                        "instance is in the Suspended state.")
    assert (await env.status(instance_id))["runtimeStatus"] == "Suspended"


async def test_resuming_a_running_instance_answers_500_like_the_extension(env):
    instance_id = await _running(env)
    before = await env.history(instance_id)
    status, body = await _post(env, f"{WEBHOOK}/{instance_id}/resume?reason=go")
    assert status == 500
    assert body["ExceptionMessage"] == (f"Cannot resume the orchestration instance {instance_id} because "
                                        "instance is in the Running state.")
    await env.settle()
    assert await env.history(instance_id) == before  # nothing was sent to the instance
    assert (await env.status(instance_id))["runtimeStatus"] == "Running"


async def test_suspend_and_resume_in_the_right_state_still_answer_202_and_finished_ones_410(env):
    instance_id = await _running(env)
    assert (await _post_status(env, f"{WEBHOOK}/{instance_id}/suspend?reason=pause")) == 202
    await env.wait_for_status(instance_id, "Suspended")
    assert (await _post_status(env, f"{WEBHOOK}/{instance_id}/resume?reason=go")) == 202
    await env.wait_for_status(instance_id, "Running")
    await env.raise_event(instance_id, "Approval", "ok")
    await env.wait(instance_id)
    assert (await _post_status(env, f"{WEBHOOK}/{instance_id}/suspend")) == 410
    assert (await _post_status(env, f"{WEBHOOK}/{instance_id}/resume")) == 410
    assert (await _post_status(env, f"{WEBHOOK}/no-such-instance/resume")) == 404


async def _post_status(env, path: str) -> int:
    async with env.request("POST", path, key="system") as response:
        return response.status


async def test_sdk_client_suspend_of_a_suspended_instance_raises_unexpected_status_500(env, function_errors):
    instance_id = await _suspended(env)
    async with env.request("POST", "/api/client/suspend", json={"instance_id": instance_id, "reason": "x"}) as r:
        assert r.status == 500  # the app did not catch the SDK's exception
        assert await r.read() == b""  # as the Functions host: the exception is logged, not returned
    assert "The operation failed with an unexpected status code 500" in function_errors()
    assert (await env.status(instance_id))["runtimeStatus"] == "Suspended"


async def test_sdk_client_resume_of_a_running_instance_raises_unexpected_status_500(env, function_errors):
    instance_id = await _running(env)
    async with env.request("POST", "/api/client/resume", json={"instance_id": instance_id, "reason": "x"}) as r:
        assert r.status == 500
        assert await r.read() == b""  # as the Functions host: the exception is logged, not returned
    assert "The operation failed with an unexpected status code 500" in function_errors()
    assert (await env.status(instance_id))["runtimeStatus"] == "Running"
