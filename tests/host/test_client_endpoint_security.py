"""The SDK client's endpoint is not a public door (issue 11, item 5).

The extension serves the out-of-process client's RPC surface on its own Kestrel listener bound to
``http://127.0.0.1:17071/durabletask/`` (another port when taken), never on the public Functions
port: Azure/azure-functions-durable-extension ``src/WebJobs.Extensions.DurableTask/LocalHttpListener.cs``
(``DefaultPort``, ``InternalRpcUri``, ``UseUrls``), handed to the SDK as ``rpcBaseUrl`` by
``HttpApiHandler.TryGetRpcBaseUrl``. The public port only has the management webhooks under
``/runtime/webhooks/durabletask``, which need the ``durabletask_extension`` system key or the
master key (``HttpApiHandler.cs``; Azure/azure-functions-host ``SystemAuthorizationLevel``).
The local host puts a per-process random segment in ``rpcBaseUrl`` and refuses requests that
carry an ``Origin`` header there, so a page in a browser on the same machine cannot reach it.
"""
from __future__ import annotations

from urllib.parse import urlsplit

import aiohttp

EVIL = {"Origin": "http://evil.example", "Content-Type": "text/plain"}
# What a hostile page can send without a preflight: "simple" cross-origin requests.
RPC_ATTEMPTS = [
    ("POST", "/durabletask/entities/Tally/victim?op=delete"),
    ("DELETE", "/durabletask/entities/Tally/victim"),
    ("DELETE", "/durabletask/instances/?createdTimeFrom=2000-01-01T00:00:00Z"),
    ("POST", "/durabletask/instances/{id}/terminate?reason=csrf"),
    ("GET", "/durabletask/instances/"),
]
WEBHOOK_ATTEMPTS = [
    ("POST", "/runtime/webhooks/durabletask/entities/Tally/victim?op=delete"),
    ("DELETE", "/runtime/webhooks/durabletask/instances/?createdTimeFrom=2000-01-01T00:00:00Z"),
    ("POST", "/runtime/webhooks/durabletask/instances/{id}/terminate?reason=csrf"),
]


async def _victims(env) -> str:
    await env.signal_entity("Tally", "victim", "add", 5)
    instance_id = await env.start("wait_event")
    await env.wait_for_status(instance_id, "Running")
    await env.settle()
    assert await env.read_entity("Tally", "victim") == 5
    return instance_id


async def _unharmed(env, instance_id: str) -> None:
    await env.settle()
    assert await env.read_entity("Tally", "victim") == 5
    assert (await env.status(instance_id))["runtimeStatus"] == "Running"


async def test_keyless_cross_origin_text_plain_posts_change_nothing(env):
    instance_id = await _victims(env)
    for method, path in RPC_ATTEMPTS + WEBHOOK_ATTEMPTS:
        async with env.request(method, path.format(id=instance_id), key=None, headers=EVIL, data="x") as r:
            assert r.status in (401, 404), (method, path, r.status)
    await _unharmed(env, instance_id)


async def test_no_client_route_answers_on_the_public_port_with_or_without_a_key(env):
    instance_id = await _victims(env)
    for method, path in RPC_ATTEMPTS:
        for key in (None, "function", "system", "master"):
            async with env.request(method, path.format(id=instance_id), key=key) as response:
                assert response.status == 404, (method, path, key, response.status)
                assert "error" in await response.json()
    await _unharmed(env, instance_id)


async def test_management_webhooks_need_the_system_or_master_key(env):
    instance_id = await _victims(env)
    for method, path in WEBHOOK_ATTEMPTS:
        for key in (None, "function", "wrong"):
            async with env.request(method, path.format(id=instance_id), key=key) as response:
                assert response.status == 401, (method, path, key)
    await _unharmed(env, instance_id)
    async with env.request("GET", f"/runtime/webhooks/durabletask/instances/{instance_id}", key="system") as r:
        assert r.status == 202


async def test_the_sdk_gets_a_loopback_rpc_base_url_on_another_port_with_a_secret_segment(env):
    async with env.request("POST", "/api/client/rpc_base_url", json={}) as response:
        assert response.status == 200
        rpc_base_url = await response.json()
    assert rpc_base_url == env.rpc_base_url
    parts = urlsplit(rpc_base_url)
    assert parts.hostname == "127.0.0.1"
    assert parts.port != urlsplit(env.base_url).port
    root, secret = parts.path.strip("/").split("/")
    assert root == "durabletask" and len(secret) >= 32 and parts.path.endswith("/")
    async with env.request("POST", "/api/client/start_new", json={"name": "chain", "input": "R"}) as response:
        instance_id = await response.json()
    assert (await env.wait(instance_id))["output"] == ["Hello R!", "Hello Seattle!"]


async def test_the_rpc_listener_refuses_browser_requests_and_unknown_paths(env):
    instance_id = await _victims(env)
    parts = urlsplit(env.rpc_base_url)
    listener = f"http://127.0.0.1:{parts.port}"
    async with aiohttp.ClientSession() as session:
        for method, path in RPC_ATTEMPTS:  # the well-known path, without the secret
            async with session.request(method, listener + path.format(id=instance_id), data="x") as r:
                assert r.status == 404, (method, path, r.status)
        delete = f"{env.rpc_base_url}entities/Tally/victim?op=delete"
        async with session.post(delete, headers={"origin": "http://evil.example", "content-type": "text/plain"},
                                data="x") as r:
            assert r.status == 403
            assert "browser" in (await r.json())["Message"]
        async with session.get(f"{env.rpc_base_url}instances/{instance_id}",
                               headers={"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors"}) as r:
            assert r.status == 403  # a GET from an <img> or <script> tag carries no Origin
        await _unharmed(env, instance_id)
        async with session.get(f"{env.rpc_base_url}instances/{instance_id}") as r:
            assert r.status == 202  # the SDK's own kind of request, no key needed on loopback
