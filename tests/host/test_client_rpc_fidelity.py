"""What the SDK's client gets back from the host, as from the extension (with Azure Storage).

Sources (Azure/azure-functions-durable-extension v2.13, ``src/WebJobs.Extensions.DurableTask/``;
DTFx.AzureStorage 1.17.5):
- ``HttpApiHandler.cs``: 404 and 410 are ``CreateResponse(status)`` with no content, and the SDK's
  ``get_status`` reads that empty body as ``DurableOrchestrationStatus(message="")``.
- ``ContextImplementations/DurableClient.cs``: ``StartNewAsync`` and ``SignalEntityAsyncInternal``
  refuse '/', '\\', '#', '?' and ``char.IsControl`` characters (C1 controls included), with
  ``ArgumentException(nameof(x), text)`` - the arguments swapped, so the Message is
  "instanceId (Parameter '...')"; ``RewindAsync`` throws ``InvalidOperationException`` (a 500)
  for an instance that is not failed.
- DTFx ``AzureTableTrackingStore.PurgeInstanceHistoryAsync``: a purge by filter keeps only the
  terminal statuses of the filter; an empty filter is no filter.
- ``Bindings/BindingHelper.cs``: the binding's ``connectionName`` is never set; its management URLs
  carry the binding's connection (or the default) and the webhook URI's host, not the request's.
"""
from __future__ import annotations

from urllib.parse import quote

WEBHOOK = "/runtime/webhooks/durabletask"


async def _rpc(env, operation: str, expect: int = 200, **args):
    async with env.request("POST", f"/api/client/{operation}", json=args) as response:
        assert response.status == expect, await response.text()
        return await response.json() if expect == 200 else await response.text()


async def test_an_unknown_instances_status_is_the_sdks_empty_status(env):
    assert await _rpc(env, "status_message", instance_id="nope") == ""
    async with env.request("GET", f"{WEBHOOK}/instances/nope", key="system") as response:
        assert response.status == 404 and "nope" in (await response.json())["Message"]  # the public webhook


async def test_instance_ids_and_entity_keys_are_checked_as_the_extension_checks_them(env):
    for instance_id, expected in [("a\u0085b", "instanceId (Parameter 'Orchestration instance ids must not "
                                               "contain /, \\, #, ?, or control characters.')"),
                                  ("@x", "instanceId (Parameter 'Orchestration instance ids must not start "
                                         "with @.')"),
                                  ("x" * 257, "Instance ID lengths must not exceed 256 characters.")]:
        async with env.request("POST", f"{WEBHOOK}/orchestrators/chain/{quote(instance_id, safe='')}",
                               key="system") as response:
            assert response.status == 400
            assert (await response.json())["ExceptionMessage"] == expected
    async with env.request("POST", f"{WEBHOOK}/entities/Tally/k%5Cz?op=add", key="system", json="1") as response:
        assert response.status == 400
        assert (await response.json())["Message"] == ("entityKey (Parameter 'Entity keys must not contain /, \\, #, "
                                                      "?, or control characters.')")
    await env.settle()
    assert await env.host.list_entities("Tally") == []


async def test_purge_by_filter_keeps_only_terminal_statuses(env):
    done = await env.start("chain", "P", instance_id="purge-done")
    await env.wait(done)
    await env.start("wait_event", instance_id="purge-running")
    await env.settle()
    assert await _rpc(env, "purge_by", statuses=["Running", "Completed"]) == 1  # Running is dropped
    assert await env.status("purge-running") is not None
    assert await _rpc(env, "purge_by", statuses=["Running"]) == 1  # nothing left of it: no filter at all
    assert await env.status("purge-running") is None


async def test_rewind_of_a_running_instance_is_the_extensions_500(env):
    instance_id = await env.start("wait_event")
    await env.settle()
    async with env.request("POST", f"{WEBHOOK}/instances/{instance_id}/rewind", key="system") as response:
        assert response.status == 500
        body = await response.json()
    assert body["ExceptionType"] == "System.InvalidOperationException"
    assert body["ExceptionMessage"] == "The rewind operation is only supported on failed orchestration instances."


async def test_another_task_hub_is_refused_loudly(env):
    instance_id = await env.start("wait_event")
    await env.settle()
    # the SDK raises (it words any 400 as "Only application/json request content is supported")
    await _rpc(env, "raise_event_in_hub", expect=500, instance_id=instance_id, name="Approval", data=1,
               hub="SomeOtherHub")
    await env.settle()
    assert (await env.status(instance_id))["runtimeStatus"] == "Running"
    async with env.request("GET", f"{WEBHOOK}/instances/{instance_id}?taskHub=someotherhub", key="system") as r:
        assert r.status == 400 and "task hub" in (await r.json())["Message"]
    async with env.request("GET", f"{WEBHOOK}/instances/{instance_id}?taskHub={env.host.settings.task_hub.upper()}",
                           key="system") as r:
        assert r.status == 202  # task hub names match in any case


async def test_the_binding_urls_use_the_webhook_host_and_the_default_connection(env):
    async with env.request("POST", "/api/client/binding", json={}, headers={"Host": "attacker.example:8443"}) as r:
        binding = await r.json()
    assert binding["connection_name"] is None
    status_url = binding["management_urls"]["statusQueryGetUri"]
    assert "attacker.example" not in status_url and "connection=Storage" in status_url
