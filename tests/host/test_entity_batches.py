"""Entity batches and entity existence as the extension keeps them, on each store.

Sources (Azure/azure-functions-durable-extension v2.13, ``src/WebJobs.Extensions.DurableTask/``;
Azure/durabletask, the DurableTask.Core and DurableTask.AzureStorage it references):
- ``Listener/TaskEntityShim.cs``: ``State.EntityExists = outOfProcResult.EntityExists;
  State.EntityState = outOfProcResult.EntityState;`` - the SDK's ``destruct_on_exit`` returns
  ``entityExists: false`` with ``entityState: "null"``, and both are kept.
- ``DurableClient.ReadEntityStateAsync`` asks ``EntityBackendQueries.GetEntityAsync``
  (``includeStateless: false``), which DTFx.AzureStorage answers with
  ``ClientEntityHelpers.GetEntityState``: not null when the state text is "null", so the deleted
  entity reads as existing with a null state (azure-functions-durable-python#316).
- ``TaskEntityShim.cs``: an out-of-proc result that cannot be read is an internal error (no
  write-back, no responses), the session is aborted (``DurableEntityContext``:
  ``SessionAbortedException``) and DTFx.AzureStorage abandons the messages with a visibility
  delay of 2^dequeueCount seconds (``TaskHubQueue.AbandonMessageAsync``): the batch runs again.
- ``DurableTaskExtension.cs``: a batch stops at ``MaxEntityOperationBatchSize`` and the entity
  continues with the rest (``ToBeContinuedWithDelay``; ``SendContinue``).
"""
from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import AsyncIterator

import pytest
import pytest_asyncio

from devhost.store.base import Store
from devhost.testing import DurableTestHost

from .conftest import HOST_TEST_APP

BATCH_SETTING = "AzureFunctionsJobHost__extensions__durableTask__maxEntityOperationBatchSize"


@pytest_asyncio.fixture
async def store_env(either_store: Store, knobs) -> AsyncIterator[DurableTestHost]:
    async with DurableTestHost.start_time_skipping(HOST_TEST_APP, store=either_store) as env:
        yield env


async def test_a_deleted_entity_reads_as_existing_with_a_null_state(store_env):
    env = store_env
    await env.host.signal_entity("Tally", "gone", "add", '"4"')  # (the SDK's get_input parses "4")
    await env.settle()
    assert (await env.host.read_entity("Tally", "gone")).state == "4"
    await env.host.signal_entity("Tally", "gone", "delete", None)
    await env.settle()
    record = await env.host.read_entity("Tally", "gone")
    assert record is not None and record.state == "null" and not record.exists
    assert [r.key for r in await env.host.list_entities("Tally")] == ["gone"]
    assert await env.host.read_entity("Tally", "never") is None
    await env.host.signal_entity("Tally", "gone", "add", '"2"')  # the next operation starts from nothing
    await env.settle()
    assert (await env.host.read_entity("Tally", "gone")).state == "2"


@pytest.mark.parametrize("batch_size, expected_batches", [(None, 1), ("2", 3)])
async def test_max_entity_operation_batch_size_splits_a_backlog(monkeypatch, knobs, batch_size, expected_batches):
    if batch_size is not None:
        monkeypatch.setenv(BATCH_SETTING, batch_size)
    async with DurableTestHost.start_time_skipping(HOST_TEST_APP) as env:
        for _ in range(5):
            await env.host.signal_entity("Tally", "backlog", "add", '"1"')
        await env.settle()
        assert env.host.runtime.stats.entity_batches == expected_batches
        assert (await env.host.read_entity("Tally", "backlog")).state == "5"


async def test_an_entity_that_fails_outside_its_operations_commits_nothing_and_runs_again(env, caplog):
    await env.host.signal_entity("Tally", "bad", "add", '"3"')
    await env.settle()
    caplog.set_level(logging.ERROR, logger="devhost")
    await env.host.signal_entity("Tally", "bad", "unserializable", None)
    await env.host.signal_entity("Tally", "bad", "add", '"1"')
    await env.settle()
    failed = [r for r in caplog.records if "failed outside its operations" in r.getMessage()]
    assert len(failed) == 1 and "runs again in 2 s" in failed[0].getMessage()
    assert (await env.host.read_entity("Tally", "bad")).state == "3"  # nothing written back
    assert len(await env.host.store.messages_for("@tally@bad")) == 2  # both operations still queued
    env.advance(timedelta(seconds=3))
    async with asyncio.timeout(10):  # the loop releases the retry timer on its next pass
        while len(failed := [r for r in caplog.records if "failed outside its operations" in r.getMessage()]) < 2:
            await asyncio.sleep(0.001)
    assert "runs again in 4 s" in failed[1].getMessage()
