"""Payload caps follow the backend in host.json (``storageProvider.type``): none for Azure Storage
(with a one-time advice above its 45 KB blob threshold), 1 MiB for the Durable Task Scheduler.

Sources: Azure/durabletask ``src/DurableTask.AzureStorage/MessageManager.cs``
(``MaxStorageQueuePayloadSizeInBytes = 45 * 1024``: larger messages go to blobs); the Durable Task
Scheduler's message size limit of 1 MiB (learn.microsoft.com, "Large payload support with Durable
Task Scheduler": large payloads are supported for .NET only, other languages must pass references;
Azure-Samples/Durable-Task-Scheduler ``samples/durable-task-sdks/dotnet/LargePayload/README.md``:
"the 1 MiB scheduler ceiling"); custom status 16 KB: Azure/azure-functions-durable-extension
``ContextImplementations/DurableOrchestrationContext.cs`` (``MaxCustomStatusPayloadSizeInKB``).
"""
from __future__ import annotations

import logging
from typing import AsyncIterator

import pytest
import pytest_asyncio

from devhost.payloads import LIMIT_ENV, PROVIDER_TYPE_SETTING, PayloadPolicy, policy_for
from devhost.testing import DurableTestHost

from .conftest import HOST_TEST_APP

MIB = 1024 * 1024


@pytest_asyncio.fixture
async def dts_env(knobs, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[DurableTestHost]:
    """The host test app as if deployed on the Durable Task Scheduler (the app setting that
    overrides host.json, as infra/app/api.bicep sets it)."""
    monkeypatch.setenv(PROVIDER_TYPE_SETTING, "azureManaged")
    async with DurableTestHost.start_time_skipping(HOST_TEST_APP) as env:
        yield env


def test_the_backend_comes_from_host_json_or_its_app_setting_override():
    assert policy_for({}, {}) == PayloadPolicy("Azure Storage", None)
    dts = {"extensions": {"durableTask": {"storageProvider": {"type": "azureManaged"}}}}
    assert policy_for(dts, {}) == PayloadPolicy("Durable Task Scheduler", MIB)
    assert policy_for({}, {PROVIDER_TYPE_SETTING: "AzureManaged"}).limit == MIB
    assert policy_for(dts, {LIMIT_ENV: "none"}).limit is None
    assert policy_for({}, {LIMIT_ENV: "2048"}).limit == 2048
    with pytest.raises(ValueError, match="Unknown durable storage provider type 'Cosmos'"):
        policy_for({"extensions": {"durableTask": {"storageProvider": {"type": "Cosmos"}}}}, {})


async def test_azure_storage_advises_once_above_45_kb_and_completes(env, caplog):
    with caplog.at_level(logging.WARNING, logger="devhost"):
        instance_id = await env.start("big_result", 50 * 1024)
        assert (await env.wait(instance_id))["output"] == "small enough"
    advice = [r for r in caplog.records if "above 45 KB the Azure Storage provider" in r.getMessage()]
    assert len(advice) == 1


async def test_azure_storage_has_no_1_mib_cap(env):
    instance_id = await env.start("big_result", MIB + 10)
    assert (await env.wait(instance_id))["output"] == "small enough"


async def test_dts_activity_result_above_1_mib_fails_the_task_naming_the_backend(dts_env):
    instance_id = await dts_env.start("big_result", MIB + 10)
    output = (await dts_env.wait(instance_id))["output"]
    assert output.startswith("caught: Activity function 'make_blob_of_text' failed: The result of")
    assert "1,048,576-byte limit of the Durable Task Scheduler backend" in output


async def test_dts_orchestrator_output_above_1_mib_fails_the_instance(dts_env):
    instance_id = await dts_env.start("big_output", MIB + 1)
    status = await dts_env.wait(instance_id)
    assert status["runtimeStatus"] == "Failed"
    assert "pass its name or URL instead" in status["output"]


async def test_dts_oversized_start_input_and_event_are_refused_with_413(dts_env):
    big = "z" * (MIB + 1)
    async with dts_env.request("POST", "/runtime/webhooks/durabletask/orchestrators/wait_event", key="system",
                               json=big) as response:
        assert response.status == 413
        assert "blob" in (await response.json())["Message"]
    instance_id = await dts_env.start("wait_event")
    await dts_env.settle()
    async with dts_env.request("POST", f"/runtime/webhooks/durabletask/instances/{instance_id}/raiseEvent/Approval",
                               key="system", json=big) as response:
        assert response.status == 413
    assert (await dts_env.status(instance_id))["runtimeStatus"] == "Running"


async def test_custom_status_above_16_kb_fails_on_every_backend(env):
    instance_id = await env.start("custom_status", "s" * (16 * 1024 + 1))
    status = await env.wait(instance_id)
    assert status["runtimeStatus"] == "Failed"
    assert "16,384-byte limit" in status["output"]
