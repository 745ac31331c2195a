"""Large payloads follow the emulated backend: with Azure Storage (the default provider) a 4.7 MB
input, activity result, event and output complete, on the in-memory store and on Azurite
(issue 11, item 4).

DTFx's Azure Storage provider has no payload cap: Azure/durabletask
``src/DurableTask.AzureStorage/MessageManager.cs`` compresses queue messages above
``MaxStorageQueuePayloadSizeInBytes`` (45 KB) into the ``<hub>-largemessages`` blob container, and
``Tracking/AzureTableTrackingStore.cs`` moves table properties above ``MaxTablePropertySizeInBytes``
(60 KB) to blobs (``CompressLargeMessageAsync``). The extension's RPC listener lifts the request
body limit (Azure/azure-functions-durable-extension ``LocalHttpListener.cs``,
``MaxRequestBodySize = null``); the Functions host's public port allows 100 MB
(``FUNCTIONS_REQUEST_BODY_SIZE_LIMIT``'s default).
"""
from __future__ import annotations

import json
from typing import AsyncIterator

import pytest_asyncio

from devhost.store.base import Store
from devhost.testing import DurableTestHost

from .conftest import HOST_TEST_APP

BIG = 4_700_000  # bytes: the 4.7 MB, well above DTS's 1 MiB and Azure Storage's blob thresholds


@pytest_asyncio.fixture
async def big_env(either_store: Store, knobs) -> AsyncIterator[DurableTestHost]:
    async with DurableTestHost.start_time_skipping(HOST_TEST_APP, store=either_store) as env:
        yield env


async def test_a_4_7_mb_output_completes_on_azure_storage(big_env, request):
    instance_id = await big_env.start("big_output", BIG)
    status = await big_env.wait(instance_id, timeout=120)
    assert status["runtimeStatus"] == "Completed"
    assert status["output"] == "y" * BIG
    container = getattr(big_env.host.store, "container_name", None)
    if container is not None:  # on Azurite the output went to the large-message container, as DTFx does
        blobs = request.getfixturevalue("blob_service").get_container_client(container).list_blobs()
        assert any(blob.size >= BIG for blob in blobs)


async def test_a_4_7_mb_input_and_activity_result_over_the_webhook_complete(big_env):
    text = "i" * BIG
    # a JSON string holding JSON text, as the Python client sends inputs (spec 3.5)
    async with big_env.request("POST", "/runtime/webhooks/durabletask/orchestrators/chain", key="system",
                               json=json.dumps(text)) as response:
        assert response.status == 202
        instance_id = (await response.json())["id"]
    status = await big_env.wait(instance_id, timeout=120)
    assert status["runtimeStatus"] == "Completed"
    assert status["output"] == [f"Hello {text}!", "Hello Seattle!"]


async def test_a_4_7_mb_event_completes_the_waiting_orchestration(big_env):
    instance_id = await big_env.start("wait_event")
    await big_env.wait_for_status(instance_id, "Running")
    data = "e" * BIG
    async with big_env.request("POST", f"/runtime/webhooks/durabletask/instances/{instance_id}/raiseEvent/Approval",
                               key="system", json=data) as response:
        assert response.status == 202
    status = await big_env.wait(instance_id, timeout=120)
    assert status["runtimeStatus"] == "Completed"
    assert status["output"] == data


async def test_the_sdk_client_starts_with_a_4_7_mb_input_through_its_rpc_listener(env):
    text = "c" * BIG
    async with env.request("POST", "/api/client/start_new", json={"name": "chain", "input": text}) as response:
        assert response.status == 200, await response.text()
        instance_id = await response.json()
    assert (await env.wait(instance_id, timeout=120))["output"][0] == f"Hello {text}!"
