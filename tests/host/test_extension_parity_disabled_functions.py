"""``AzureWebJobs.<FunctionName>.Disabled`` app settings behave as on the platform (issue 11, item 4).

Sources (each behaviour's test names the path it follows):

* the setting: Azure/azure-webjobs-sdk ``src/Microsoft.Azure.WebJobs.Host/Listeners/HostListenerFactory.cs``
  (``IsDisabled``: ``AzureWebJobs.{name}.Disabled`` or ``AzureWebJobs_{name}_Disabled``, "1"/"true";
  a disabled function gets no listener, ``CreateAsync``);
* HTTP: Azure/azure-functions-host ``src/WebJobs.Script.WebHost/Middleware/FunctionInvocationMiddleware.cs``
  (404 unless the caller has admin rights);
* durable triggers: Azure/azure-functions-durable-extension ``src/WebJobs.Extensions.DurableTask/``:
  the trigger binding providers register every function at indexing time with no executor
  (``Bindings/*TriggerAttributeBindingProvider.cs`` ``Register*(name, null)``), the listener that
  would set it is never created. So ``ThrowIfFunctionDoesNotExist`` lets calls through, a disabled
  orchestrator fails when it runs with ``GetInvalidOrchestratorFunctionMessage``
  (``DurableTaskExtension.cs`` ``OrchestrationMiddleware``), and a disabled activity or entity never
  runs: ``TaskActivityShim``'s constructor refuses a null executor (DTFx retries the work item,
  Azure/durabletask ``TaskActivityDispatcher.cs``) and ``EntityMiddleware`` has no executor to call.
"""
from __future__ import annotations

import asyncio
from typing import AsyncIterator

import pytest
import pytest_asyncio

from devhost.app_index import load_app
from devhost.clock import RealClock
from devhost.disabled import DisabledFunctions
from devhost.invoke import Invoker
from devhost.protocol import EventType
from devhost.store.memory import MemoryStore
from devhost.testing import DurableTestHost
from devhost.timer_triggers import TimerTriggers

from .conftest import HOST_TEST_APP
from .test_timer_triggers import TIMER_APP


def _disable(monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    for name in names:
        monkeypatch.setenv(f"AzureWebJobs.{name}.Disabled", "true")


@pytest_asyncio.fixture
async def store() -> MemoryStore:
    return MemoryStore()


@pytest_asyncio.fixture
async def disabled_env(knobs, monkeypatch, store, request) -> AsyncIterator[DurableTestHost]:
    _disable(monkeypatch, *request.param)
    async with DurableTestHost.start_time_skipping(HOST_TEST_APP, store=store) as env:
        yield env


def test_the_setting_is_read_like_the_webjobs_host():
    functions = load_app(HOST_TEST_APP).functions
    settings = {"AzureWebJobs.hello.Disabled": "True", "AZUREWEBJOBS_SQUARE_DISABLED": "1",
                "AzureWebJobs.chain.Disabled": "false", "AzureWebJobs.boom.Disabled": "yes"}
    assert DisabledFunctions.from_settings(functions, settings).names == {"hello", "square"}


@pytest.mark.parametrize("disabled_env", [["chain"]], indirect=True)
async def test_a_disabled_orchestrator_is_accepted_then_fails_with_the_extensions_message(disabled_env):
    async with disabled_env.request("POST", "/api/client/start_new", json={"name": "chain", "input": "x"}) as r:
        assert r.status == 200  # the start is accepted: the orchestrator is still known
        instance_id = await r.json()
    status = await disabled_env.wait(instance_id)
    assert status["runtimeStatus"] == "Failed"
    assert status["output"].startswith("The function 'chain' doesn't exist, is disabled, or is not an "
                                       "orchestrator function. Additional info: The following are the known "
                                       "orchestrator functions: '")
    assert "'chain'" in status["output"]  # disabled functions stay in the known list


@pytest.mark.parametrize("disabled_env", [["chain"]], indirect=True)
async def test_a_disabled_sub_orchestrator_fails_its_parent_naming_it(disabled_env):
    instance_id = await disabled_env.start("parent")
    status = await disabled_env.wait(instance_id)
    assert status["runtimeStatus"] == "Failed"
    assert "The function 'chain' doesn't exist, is disabled, or is not an orchestrator function." in status["output"]


@pytest.mark.parametrize("disabled_env", [["hello"]], indirect=True)
async def test_a_disabled_activity_never_runs_and_runs_once_enabled_after_a_restart(
        disabled_env, store, monkeypatch, caplog):
    instance_id = await disabled_env.start("chain", "Oslo")
    await disabled_env.wait_for_status(instance_id, "Running")
    await disabled_env.settle()
    await asyncio.sleep(0.05)
    events = {EventType(e["EventType"]) for e in await disabled_env.history(instance_id)}
    assert EventType.TaskScheduled in events
    assert not events & {EventType.TaskCompleted, EventType.TaskFailed}
    assert (await disabled_env.status(instance_id))["runtimeStatus"] == "Running"
    assert len(await store.pending_work()) == 1  # the work item waits, as the retried message does
    assert any("'hello' is disabled" in r.getMessage() for r in caplog.records)

    monkeypatch.delenv("AzureWebJobs.hello.Disabled")  # enable it, restart the host on the same store
    await disabled_env.host.stop()
    async with DurableTestHost.start_time_skipping(HOST_TEST_APP, store=store) as env:
        assert (await env.wait(instance_id))["output"] == ["Hello Oslo!", "Hello Seattle!"]


@pytest.mark.parametrize("disabled_env", [["Tally"]], indirect=True)
async def test_a_disabled_entity_takes_signals_but_never_runs_them(disabled_env):
    async with disabled_env.request("POST", "/runtime/webhooks/durabletask/entities/Tally/k?op=add",
                                    key="system", json=5) as response:
        assert response.status == 202
    instance_id = await disabled_env.start("entity_user", "k2")
    await disabled_env.wait_for_status(instance_id, "Running")
    await disabled_env.settle()
    assert await disabled_env.read_entity("Tally", "k") is None
    assert await disabled_env.read_entity("Tally", "k2") is None
    assert (await disabled_env.status(instance_id))["runtimeStatus"] == "Running"  # still waiting for its call


@pytest.mark.parametrize("disabled_env", [["start", "public"]], indirect=True)
async def test_a_disabled_http_function_is_not_found_except_for_the_master_key(disabled_env):
    async with disabled_env.request("POST", "/api/orchestrators/chain", json="x") as response:
        assert response.status == 404
        assert await response.read() == b""  # NotFoundResult (FunctionInvocationMiddleware.cs ~123-128)
    async with disabled_env.request("GET", "/api/public/x", key=None) as response:
        assert response.status == 404
    async with disabled_env.request("POST", "/api/orchestrators/chain", key="master", json="x") as response:
        assert response.status == 202
    async with disabled_env.request("POST", "/api/client/get_status", json={"instance_id": "x"}) as response:
        assert response.status == 200  # other functions are unaffected


async def test_a_disabled_timer_never_fires(monkeypatch):
    index = load_app(TIMER_APP)
    timer = index.of_kind("timer")[0]
    fired = timer.fn.__globals__["FIRED"]
    fired.clear()
    monkeypatch.setenv(f"AzureWebJobs_{timer.name}_Disabled", "1")
    invoker = Invoker(str(TIMER_APP))
    triggers = TimerTriggers(index.of_kind("timer"), RealClock(), invoker,
                             DisabledFunctions.from_settings(index.functions))
    triggers.start()
    try:
        await asyncio.sleep(0.2)  # it runs on startup and every 50 ms when enabled
    finally:
        await triggers.stop()
        invoker.close()
    assert fired == []
