"""The management API reads routes and query strings as the extension does.

Sources (Azure/azure-functions-durable-extension, v2.13, ``src/WebJobs.Extensions.DurableTask/``):
- ``HttpApiHandler.HandleRequestAsync``: the path's slashes trimmed, four route templates
  (literal segments in any case), instance operations compared ``OrdinalIgnoreCase``.
- ``HttpRequestMessageExtensions.GetQueryNameValuePairs``: ``NameValueCollection(
  StringComparer.OrdinalIgnoreCase)``; every parameter through a ``TryParse`` whose failure
  leaves the default (``TryGetBooleanQueryParameterValue`` and the rest).
- ``OrchestrationStatusQueryCondition.ShowInput = true``: a list shows inputs unless asked not to.
- ``HandleStartOrchestratorRequestAsync``: waits only when ``timeout`` and ``pollingInterval``
  both parse; ``WaitForCompletionOrCreateCheckStatusResponseAsync`` throws an
  ``ArgumentException`` when the interval is longer than the timeout (after the start).
- ``HttpRequestMessageExtensions.CreateResponse``: ``JsonConvert.SerializeObject`` (compact).
- ``HandlePostEntityOperationRequestAsync``: ``op`` absent is ``""``; "$" (the empty key) is
  read only by ``HandleGetEntityRequestAsync``; ``DurableEntityStatus`` always has ``state``.
"""
from __future__ import annotations

import json
import re

WEBHOOK = "/runtime/webhooks/durabletask"


async def _get(env, path: str, **kwargs):
    async with env.request("GET", path, key="system", **kwargs) as response:
        return response.status, await response.json(), response.headers


async def test_a_list_shows_inputs_unless_asked_not_to(env):
    stored = (await env.wait(await env.start("chain", "In", instance_id="inputs-1")))["input"]
    assert stored is not None
    _, rows, _ = await _get(env, f"{WEBHOOK}/instances?instanceIdPrefix=inputs-")
    assert [r["input"] for r in rows] == [stored]
    _, rows, _ = await _get(env, f"{WEBHOOK}/instances?instanceIdPrefix=inputs-&SHOWINPUT=False")
    assert [r["input"] for r in rows] == [None]
    _, rows, _ = await _get(env, f"{WEBHOOK}/instances?instanceIdPrefix=inputs-&showInput=yes")
    assert [r["input"] for r in rows] == [stored]  # not a bool: the default


async def test_query_names_match_in_any_case_and_values_that_do_not_parse_are_ignored(env):
    done = await env.start("chain", "Q", instance_id="query-done")
    await env.wait(done)
    await env.start("wait_event", instance_id="query-running")
    await env.settle()
    _, status, _ = await _get(env, f"{WEBHOOK}/instances/{done}?ShowHistory=TRUE")
    assert "historyEvents" in status
    base = f"{WEBHOOK}/instances?instanceIdPrefix=query-"
    for query, expected in [("", {"query-done", "query-running"}),
                            ("&runtimeStatus=Bogus", {"query-done", "query-running"}),  # nothing parsed: no filter
                            ("&runtimeStatus=running", {"query-done", "query-running"}),  # names are case-sensitive
                            ("&runtimeStatus=Bogus,Completed", {"query-done"}),
                            ("&runtimeStatus=1", {"query-done"}),  # Enum.TryParse takes the value: 1 is Completed
                            ("&runtimeStatus=42", set()),  # a value no instance has
                            ("&top=abc&createdTimeFrom=yesterday", {"query-done", "query-running"})]:
        code, rows, _ = await _get(env, base + query)
        assert code == 200 and {r["instanceId"] for r in rows} == expected, query


async def test_routes_trim_slashes_and_match_segments_and_operations_in_any_case(env):
    instance_id = await env.start("wait_event", instance_id="route-case")
    await env.settle()
    code, status, _ = await _get(env, f"{WEBHOOK}/Instances/{instance_id}/")
    assert code == 202 and status["instanceId"] == instance_id
    async with env.request("POST", f"{WEBHOOK}/instances/{instance_id}/Suspend", key="system") as response:
        assert response.status == 202
    await env.wait_for_status(instance_id, "Suspended")
    async with env.request("POST", f"{WEBHOOK}/INSTANCES/{instance_id}/RESUME", key="system") as response:
        assert response.status == 202
    async with env.request("POST", f"{WEBHOOK}/instances/{instance_id}/RaiseEvent/Approval", key="system",
                           json="ok") as response:
        assert response.status == 202
    assert (await env.wait(instance_id))["output"] == "ok"
    for method, path in [("POST", f"/instances/{instance_id}/explode"), ("PUT", f"/instances/{instance_id}"),
                         ("GET", "/orchestrators/chain"), ("GET", "/nowhere"), ("PATCH", "/entities/Tally/k")]:
        async with env.request(method, WEBHOOK + path, key="system") as response:
            assert response.status == 404, (method, path)


async def test_start_waits_only_with_both_timeout_and_polling_interval(env):
    async with env.request("POST", f"{WEBHOOK}/orchestrators/wait_event?timeout=30", key="system") as response:
        assert response.status == 202  # a timeout alone: no wait
        instance_id = (await response.json())["id"]
        assert '", "' not in await response.text()  # compact, as JsonConvert.SerializeObject writes
    assert (await env.status(instance_id))["runtimeStatus"] in ("Pending", "Running")
    async with env.request("POST", f"{WEBHOOK}/orchestrators/chain?timeout=abc&pollingInterval=1", key="system",
                           json="T") as response:
        assert response.status == 202  # a timeout that does not parse: no wait
    async with env.request("POST", f"{WEBHOOK}/orchestrators/chain?timeout=30&pollingInterval=1", key="system",
                           json=json.dumps("W")) as response:  # (the SDK's get_input parses the token's text)
        assert response.status == 200
        assert await response.json() == ["Hello W!", "Hello Seattle!"]
    async with env.request("POST", f"{WEBHOOK}/orchestrators/chain/too-eager?timeout=1&pollingInterval=5",
                           key="system", json=json.dumps("E")) as response:
        assert response.status == 400
        body = await response.json()
    assert body["Message"] == "One or more of the arguments submitted is incorrect"
    assert body["ExceptionMessage"] == "Total timeout 1 should be bigger than retry timeout 5"
    assert (await env.wait("too-eager"))["runtimeStatus"] == "Completed"  # started first, as on Azure


async def test_restart_answers_with_the_extensions_messages(env):
    async with env.request("POST", f"{WEBHOOK}/instances/nope/restart", key="system") as response:
        assert response.status == 400
        body = await response.json()
    assert body["Message"] == "InstanceId does not match a valid orchestration instance."
    assert body["ExceptionMessage"] == "An orchestrastion with the instanceId nope was not found."
    first = await env.start("chain", "R", instance_id="restart-flag")
    await env.wait(first)
    async with env.request("POST", f"{WEBHOOK}/instances/{first}/restart?restartWithNewInstanceId=yes",
                           key="system") as response:
        assert response.status == 202
        assert (await response.json())["id"] != first  # not a bool: the default, a new id


async def test_purge_without_a_start_time_and_a_raise_event_without_a_body(env):
    async with env.request("DELETE", f"{WEBHOOK}/instances?createdTimeFrom=soon", key="system") as response:
        assert response.status == 400
        assert await response.json() == "Please provide value for 'createdTimeFrom' parameter."
    instance_id = await env.start("wait_event")
    await env.settle()
    for body in (b"", b"  "):
        async with env.request("POST", f"{WEBHOOK}/instances/{instance_id}/raiseEvent/Approval", key="system",
                               data=body, headers={"Content-Type": "application/json"}) as response:
            assert response.status == 400
            assert (await response.json())["Message"] == "Invalid JSON content"
    await env.settle()
    assert (await env.status(instance_id))["runtimeStatus"] == "Running"


async def test_entity_signals_reads_and_lists(env):
    async with env.request("POST", f"{WEBHOOK}/entities/Tally/%24?op=set", key="system", json="5") as response:
        assert response.status == 202  # "$" is a key like any other here
    # Any other content is the input as a string: the SDK's get_input() then parses that text, as
    # it parses a JSON string body's (the entities' "3" in test_management_api.py).
    async with env.request("POST", f"{WEBHOOK}/entities/Tally/plain?op=set", key="system", data='"hello"',
                           headers={"Content-Type": "text/plain"}) as response:
        assert response.status == 202
    async with env.request("POST", f"{WEBHOOK}/entities/Tally/empty?op=set", key="system", json="7") as response:
        assert response.status == 202
    async with env.request("POST", f"{WEBHOOK}/entities/Counterless?op=set", key="system", json=1) as response:
        assert response.status == 400 and set(await response.json()) == {"Message"}  # the entity route's own catch
    await env.settle()
    assert (await _get(env, f"{WEBHOOK}/entities/Tally/plain"))[1] == "hello"
    async with env.request("GET", f"{WEBHOOK}/entities/Tally/$", key="system") as response:
        assert response.status == 404  # a read of "$" is a read of the empty key, which has no entity
    code, rows, headers = await _get(env, f"{WEBHOOK}/entities/Tally")
    assert code == 200 and headers["x-ms-continuation-token"] == "null"
    assert [(r["entityId"]["key"], r["state"]) for r in rows] == [("$", None), ("empty", None), ("plain", None)]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,7})?Z", r["lastOperationTime"]) for r in rows)
    _, first, headers = await _get(env, f"{WEBHOOK}/entities?top=2&fetchState=true")
    token = headers["x-ms-continuation-token"]
    _, rest, headers = await _get(env, f"{WEBHOOK}/entities/?top=2&fetchState=true",
                                  headers={"x-ms-continuation-token": token})
    assert [r["state"] for r in first + rest] == [5, 7, "hello"] and headers["x-ms-continuation-token"] == "null"
    _, later, _ = await _get(env, f"{WEBHOOK}/entities/Tally?lastOperationTimeFrom=2999-01-01T00:00:00Z")
    assert later == []
    for path in ("/entities/Tally?top=0", "/instances?top=0"):  # one page-size rule for both lists
        async with env.request("GET", WEBHOOK + path, key="system") as response:
            assert response.status == 400, path
