"""The public management API (/runtime/webhooks/durabletask) with the status codes of spec 9."""
from __future__ import annotations

from urllib.parse import urlsplit

WEBHOOK = "/runtime/webhooks/durabletask"


async def _json(response):
    assert response.content_type == "application/json", response.content_type
    return await response.json()


async def test_s9_start_returns_check_status_payload_with_system_key(env):
    async with env.request("POST", f"{WEBHOOK}/orchestrators/custom_status", key="system",
                           json={"step": 1}) as response:
        assert response.status == 202
        body = await _json(response)
        assert response.headers["Location"] == body["statusQueryGetUri"]
        assert response.headers["Retry-After"] == "10"
    assert set(body) == {"id", "statusQueryGetUri", "sendEventPostUri", "terminatePostUri",
                         "purgeHistoryDeleteUri", "restartPostUri", "suspendPostUri", "resumePostUri"}
    assert f"code={env.keys.system}" in body["statusQueryGetUri"]
    await env.wait(body["id"])
    status_url = urlsplit(body["statusQueryGetUri"])
    async with env.session.get(f"{status_url.path}?{status_url.query}") as response:
        assert response.status == 200
        status = await _json(response)
    assert status["runtimeStatus"] == "Completed"
    assert status["customStatus"] == {"step": 1}
    assert status["input"] == {"step": 1}  # a raw JSON object body is the real value


async def test_s3_5_raw_json_string_body_breaks_get_input(env):
    # The HTTP API passes a raw JSON string token through as is; the SDK's get_input() then
    # tries to parse "Oslo" as JSON text and fails, exactly as under the real extension.
    async with env.request("POST", f"{WEBHOOK}/orchestrators/chain", key="system", json="Oslo") as response:
        instance_id = (await response.json())["id"]
    status = await env.wait(instance_id)
    assert status["runtimeStatus"] == "Failed"


async def test_s9_status_codes_running_unknown_and_failed(env):
    instance_id = await env.start("wait_event")
    await env.settle()
    async with env.request("GET", f"{WEBHOOK}/instances/{instance_id}", key="system") as response:
        assert response.status == 202
        assert response.headers["Retry-After"] == "5"
        assert response.headers["Location"].endswith(f"/instances/{instance_id}")
    async with env.request("GET", f"{WEBHOOK}/instances/nope", key="system") as response:
        assert response.status == 404
        assert "nope" in (await _json(response))["Message"]
    failed = await env.start("uncaught_failure")
    await env.wait(failed)
    async with env.request("GET", f"{WEBHOOK}/instances/{failed}", key="system") as response:
        assert response.status == 200
    path = f"{WEBHOOK}/instances/{failed}?returnInternalServerErrorOnFailure=true"
    async with env.request("GET", path, key="system") as response:
        assert response.status == 500


async def test_s9_show_history_shape(env):
    instance_id = await env.start("chain", "H")
    await env.wait(instance_id)
    path = f"{WEBHOOK}/instances/{instance_id}?showHistory=true&showHistoryOutput=true"
    async with env.request("GET", path, key="system") as response:
        status = await _json(response)
    events = status["historyEvents"]
    assert [e["EventType"] for e in events] == ["ExecutionStarted", "TaskCompleted", "TaskCompleted",
                                                "ExecutionCompleted"]
    assert events[0]["FunctionName"] == "chain"
    assert events[1]["FunctionName"] == "hello" and events[1]["Result"] == "Hello H!"
    assert "ScheduledTime" in events[1] and "TaskScheduledId" not in events[1]
    assert events[3]["OrchestrationStatus"] == "Completed"
    assert all("EventId" not in e and "IsPlayed" not in e for e in events)
    async with env.request("GET", f"{WEBHOOK}/instances/{instance_id}?showHistory=true&showInput=false",
                           key="system") as response:
        status = await _json(response)
    assert status["input"] is None
    assert all("Input" not in e and "Result" not in e for e in status["historyEvents"][1:3])


async def test_s9_raise_event_codes(env):
    instance_id = await env.start("wait_event")
    await env.settle()
    url = f"{WEBHOOK}/instances/{instance_id}/raiseEvent/Approval"
    async with env.request("POST", url, key="system", data="true",
                           headers={"Content-Type": "text/plain"}) as response:
        assert response.status == 400
        assert "application/json" in (await _json(response))["Message"]
    async with env.request("POST", url, key="system", data="{not json",
                           headers={"Content-Type": "application/json"}) as response:
        assert response.status == 400
    async with env.request("POST", url, key="system", json=True) as response:
        assert response.status == 202
    assert (await env.wait(instance_id))["output"] is True
    async with env.request("POST", url, key="system", json=True) as response:
        assert response.status == 410
    async with env.request("POST", f"{WEBHOOK}/instances/unknown/raiseEvent/x", key="system", json=1) as response:
        assert response.status == 404


async def test_s9_terminate_suspend_resume(env):
    instance_id = await env.start("wait_event")
    await env.settle()
    base = f"{WEBHOOK}/instances/{instance_id}"
    async with env.request("POST", f"{base}/suspend?reason=pause", key="system") as response:
        assert response.status == 202
    await env.wait_for_status(instance_id, "Suspended")
    await env.raise_event(instance_id, "Approval", "held")
    await env.settle()
    assert (await env.status(instance_id))["runtimeStatus"] == "Suspended"  # events wait while suspended
    async with env.request("POST", f"{base}/resume?reason=go", key="system") as response:
        assert response.status == 202
    assert (await env.wait(instance_id))["output"] == "held"
    async with env.request("POST", f"{base}/terminate?reason=late", key="system") as response:
        assert response.status == 410
    running = await env.start("wait_event")
    await env.settle()
    async with env.request("POST", f"{WEBHOOK}/instances/{running}/terminate?reason=stop%20it",
                           key="system") as response:
        assert response.status == 202
    status = await env.wait(running)
    assert status["runtimeStatus"] == "Terminated"
    assert status["output"] == "stop it"
    async with env.request("POST", f"{WEBHOOK}/instances/nope/terminate", key="system") as response:
        assert response.status == 404


async def test_s9_restart_purge_and_list(env):
    first = await env.start("chain", "A", instance_id="list-1")
    await env.wait(first)
    async with env.request("POST", f"{WEBHOOK}/instances/{first}/restart", key="system") as response:
        assert response.status == 202
        restarted = (await _json(response))["id"]
    assert restarted != first
    assert (await env.wait(restarted))["output"] == ["Hello A!", "Hello Seattle!"]
    async with env.request("POST", f"{WEBHOOK}/instances/nope/restart", key="system") as response:
        assert response.status == 400
    for i in range(3):
        await env.wait(await env.start("chain", str(i), instance_id=f"list-page-{i}"))
    async with env.request("GET", f"{WEBHOOK}/instances?top=2&instanceIdPrefix=list-page-",
                           key="system") as response:
        page = await _json(response)
        token = response.headers["x-ms-continuation-token"]
    assert len(page) == 2 and token != "null"
    async with env.request("GET", f"{WEBHOOK}/instances?top=2&instanceIdPrefix=list-page-", key="system",
                           headers={"x-ms-continuation-token": token}) as response:
        rest = await _json(response)
        assert response.headers["x-ms-continuation-token"] == "null"
    assert len(rest) == 1
    async with env.request("GET", f"{WEBHOOK}/instances?runtimeStatus=Bogus", key="system") as response:
        assert response.status == 200  # an unknown status is dropped, and no filter is left (test_management_api_query.py)
    async with env.request("DELETE", f"{WEBHOOK}/instances/{first}", key="system") as response:
        assert response.status == 200
        assert await _json(response) == {"instancesDeleted": 1}
    async with env.request("DELETE", f"{WEBHOOK}/instances/{first}", key="system") as response:
        assert response.status == 404
    async with env.request("DELETE", f"{WEBHOOK}/instances", key="system") as response:
        assert response.status == 400
    async with env.request("DELETE", f"{WEBHOOK}/instances?createdTimeFrom=2000-01-01T00:00:00Z&runtimeStatus=Completed",
                           key="system") as response:
        assert response.status == 200
        assert (await _json(response))["instancesDeleted"] == 4


async def test_s9_start_errors_unknown_function_bad_json_and_bad_id(env):
    async with env.request("POST", f"{WEBHOOK}/orchestrators/nope", key="system") as response:
        assert response.status == 400
        assert "nope" in (await _json(response))["ExceptionMessage"]
    async with env.request("POST", f"{WEBHOOK}/orchestrators/chain", key="system", data="{bad",
                           headers={"Content-Type": "application/json"}) as response:
        assert response.status == 400
        assert (await _json(response))["Message"] == "Invalid JSON content"
    async with env.request("POST", f"{WEBHOOK}/orchestrators/chain/@bad", key="system") as response:
        assert response.status == 400
    await env.start("wait_event", instance_id="dup")
    async with env.request("POST", f"{WEBHOOK}/orchestrators/wait_event/dup", key="system") as response:
        assert response.status == 409


async def test_s9_keys_management_api_needs_the_system_or_master_key(env):
    async with env.request("GET", f"{WEBHOOK}/instances", key=None) as response:
        assert response.status == 401
        assert await response.read() == b""  # the Functions host's 401 (test_keys_per_route.py)
    async with env.request("GET", f"{WEBHOOK}/instances", key="function") as response:
        assert response.status == 401
    async with env.request("GET", f"{WEBHOOK}/instances", key="wrong") as response:
        assert response.status == 401
    async with env.request("GET", f"{WEBHOOK}/instances", key="master") as response:
        assert response.status == 200
    async with env.session.get(f"{WEBHOOK}/instances?code={env.keys.system}") as response:
        assert response.status == 200


async def test_s9_entity_endpoints(env):
    base = f"{WEBHOOK}/entities/Tally/e1"
    async with env.request("GET", base, key="system") as response:
        assert response.status == 404
    async with env.request("POST", f"{base}?op=add", key="system", json="3") as response:
        assert response.status == 202
    async with env.request("POST", base, key="system", json="3") as response:
        assert response.status == 202  # no op: the operation "" (test_management_api_query.py)
    await env.settle()
    async with env.request("GET", base, key="system") as response:
        assert response.status == 200
        assert await response.json() == 3
    async with env.request("GET", f"{WEBHOOK}/entities/Tally?fetchState=true", key="system") as response:
        rows = await _json(response)
    assert rows == [{"entityId": {"name": "tally", "key": "e1"}, "lastOperationTime": rows[0]["lastOperationTime"],
                     "state": 3}]
    async with env.request("DELETE", base, key="system") as response:
        assert response.status == 202
    await env.settle()
    async with env.request("GET", base, key="system") as response:
        assert response.status == 200  # deleted: a null state that reads as existing (DurableHost.read_entity)
        assert await response.json() is None
    async with env.request("POST", f"{WEBHOOK}/entities/NoSuchEntity/k?op=add", key="system", json="1") as response:
        assert response.status == 400
