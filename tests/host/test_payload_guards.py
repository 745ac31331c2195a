"""Payload caps follow the backend in host.json (``storageProvider.type``): none for Azure Storage
(with a one-time advice above its 45 KB blob threshold), 1 MiB for the Durable Task Scheduler.

Sources: Azure/durabletask ``src/DurableTask.AzureStorage/MessageManager.cs``
(``MaxStorageQueuePayloadSizeInBytes = 45 * 1024``: larger messages go to blobs); the Durable Task
Scheduler's message size limit of 1 MiB (learn.microsoft.com, "Large payload support with Durable
Task Scheduler": large payloads are supported for .NET only, other languages must pass references;
Azure-Samples/Durable-Task-Scheduler ``samples/durable-task-sdks/dotnet/LargePayload/README.md``:
"the 1 MiB scheduler ceiling"); custom status 16 KB of UTF-16: Azure/azure-functions-durable-extension
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


# Custom status: extension ContextImplementations/DurableOrchestrationContext.cs SetCustomStatus
# (MaxCustomStatusPayloadSizeInKB = 16) -> MessagePayloadDataConverter.Serialize(value, 16) (60-71):
#     int payloadSizeInKB = (int)(Encoding.Unicode.GetByteCount(serializedJson) / 1024.0);
#     if (payloadSizeInKB > maxSizeInKB) throw new ArgumentException(string.Format(
#         "The UTF-16 size of the JSON-serialized payload must not exceed {0:N0} KB. The current payload size is {1:N0} KB.", ...));
# Out of process it is called from OutOfProcOrchestrationShim.ScheduleDurableTaskEvents (78-81), before
# any action is replayed; TaskOrchestrationShim.InvokeUserCodeAndHandleResults (192-206) wraps the
# exception as "Orchestrator function '<name>' failed: ..." when the function returned, and lets it
# out bare when the function had raised. A status over the limit therefore fails the instance whatever
# the backend, and a history that already scheduled work replays with no action at all: DTFx
# TaskOrchestrationContext.HandleTaskScheduledEvent (277-287) finds none and throws non-determinism.
_STATUS_REFUSED = "The UTF-16 size of the JSON-serialized payload must not exceed 16 KB. The current payload size is {} KB."


async def test_custom_status_above_16_kb_of_utf16_fails_on_every_backend(env):
    instance_id = await env.start("custom_status", "s" * (16 * 1024 + 1))  # "s...s" is 32,774 UTF-16 bytes
    status = await env.wait(instance_id)
    assert status["runtimeStatus"] == "Failed"
    assert status["output"] == "Orchestrator function 'custom_status' failed: " + _STATUS_REFUSED.format(32)
    assert status["customStatus"] is None
    assert "TaskScheduled" not in [e["EventType"] for e in await env.history(instance_id)]


async def test_custom_status_size_is_whole_kb_of_utf16_rounded_down(env):
    # 8,701 characters + 2 quotes = 17,406 bytes of UTF-16: 16 KB rounded down, allowed
    allowed = await env.start("custom_status", "s" * 8701)
    assert (await env.wait(allowed))["runtimeStatus"] == "Completed"
    refused = await env.start("custom_status", "s" * 8702)  # 17,408 bytes: 17 KB
    assert (await env.wait(refused))["output"].endswith(_STATUS_REFUSED.format(17))
    # 6,000 euro signs: 18,002 bytes of UTF-8 but 12,004 of UTF-16 (Newtonsoft does not escape them)
    euros = await env.start("custom_status", "\u20ac" * 6000)
    status = await env.wait(euros)
    assert status["runtimeStatus"] == "Completed" and status["customStatus"] == "\u20ac" * 6000


async def test_custom_status_over_the_limit_after_scheduled_work_replays_as_non_deterministic(env):
    from devhost.shim import NON_DETERMINISTIC

    instance_id = await env.start("big_status_after_an_activity", "s" * 9000)
    status = await env.wait(instance_id)
    assert status["runtimeStatus"] == "Failed"
    assert status["output"].startswith(
        NON_DETERMINISTIC + "A previous execution of this orchestration scheduled an activity task with "
        "sequence ID 0 and name 'hello' (version ''), but the current replay execution hasn't (yet?) scheduled this task.")


async def test_custom_status_over_the_limit_when_the_orchestrator_raised_fails_bare(env):
    instance_id = await env.start("big_status_then_raise", "s" * 9000)
    status = await env.wait(instance_id)
    assert status["output"] == _STATUS_REFUSED.format(17)
