"""External events, non-determinism and the protocol quirks of spec section 11."""
from __future__ import annotations

import json
import re

import pytest

from devhost.app_index import AppLoadError, load_app
from devhost.protocol import EventType
from devhost.shim import NON_DETERMINISTIC


async def _rpc(env, operation: str, **args):
    async with env.request("POST", f"/api/client/{operation}", json=args) as response:
        assert response.status == 200, await response.text()
        return await response.json()


async def test_s6_event_delivers_the_raised_value(env):
    instance_id = await env.start("wait_event")
    await env.settle()
    await env.raise_event(instance_id, "Approval", {"ok": True})
    assert (await env.wait(instance_id))["output"] == {"ok": True}


async def test_s11_quirk2_python_client_raise_event_delivers_a_string(env):
    instance_id = await env.start("wait_event")
    await env.settle()
    await _rpc(env, "raise_event", instance_id=instance_id, name="Approval", data={"ok": True})
    output = (await env.wait(instance_id))["output"]
    assert output == '{"ok": true}'  # a JSON string, not a dict (SDK issue #295)


async def test_s11_quirk3_early_event_fills_both_waits_in_the_sdk(env):
    instance_id = await env.start("two_waits")
    await env.raise_event(instance_id, "Go", "first")  # arrives before any wait
    await env.wait_for_custom_status(instance_id, lambda s: s == "waiting")
    await env.settle()
    # The SDK replays both waits from its one-slot buffer, but the extension's FIFO buffer had a
    # single event for two waits, so the shim's second wait is still open: the instance runs on.
    assert (await env.status(instance_id))["runtimeStatus"] == "Running"
    await env.raise_event(instance_id, "Go", "second")
    status = await env.wait(instance_id)
    assert status["output"] == ["first", "first"]  # SDK issue #507: last-wins slot reused


async def test_s11_quirk4_event_names_are_case_sensitive_in_the_sdk(env):
    instance_id = await env.start("wait_event")
    await env.settle()
    await env.raise_event(instance_id, "approval", "lower")
    await env.settle()
    assert (await env.status(instance_id))["runtimeStatus"] == "Running"
    await env.raise_event(instance_id, "Approval", "exact")
    assert (await env.wait(instance_id))["output"] == "exact"


async def test_s4_4_renamed_activity_fails_as_non_deterministic(env, knobs):
    instance_id = await env.start("switchable")
    await env.settle()
    assert (await env.status(instance_id))["runtimeStatus"] == "Running"
    knobs.SWITCHABLE_ACTIVITY = "square"  # a code change while the instance is in flight
    await env.raise_event(instance_id, "Continue", None)
    status = await env.wait(instance_id)
    assert status["runtimeStatus"] == "Failed"
    assert status["output"].startswith(NON_DETERMINISTIC)
    assert "name 'hello'" in status["output"]  # what history says was scheduled
    assert "'square'" in status["output"]  # what the replay scheduled instead


async def test_s4_4_unknown_activity_is_dropped_and_the_instance_waits(env, caplog):
    # On Azure the check runs inside the async CallDurableTaskFunctionAsync (extension
    # ContextImplementations/DurableOrchestrationContext.cs 563: Config.ThrowIfFunctionDoesNotExist),
    # so the ArgumentException lands in the call's task, which OutOfProcOrchestrationShim.
    # ProcessAsyncActionsV2 (Listener/OutOfProcOrchestrationShim.cs 210-217) awaits and "Silently
    # ignore[s]": nothing is scheduled, the instance stays Running (azure-functions-durable-python#132).
    # More cases: tests/host/test_orchestration_fidelity.py.
    instance_id = await env.start("call_unknown")
    await env.settle()
    assert (await env.status(instance_id))["runtimeStatus"] == "Running"
    assert "TaskScheduled" not in [EventType(e["EventType"]).name for e in await env.history(instance_id)]
    # the host says why in a warning, with DurableTaskExtension.GetInvalidActivityFunctionMessage's text
    assert "The function 'does_not_exist' doesn't exist" in caplog.text
    assert "Additional info: The following are the known activity functions: '" in caplog.text
    assert "'hello'" in caplog.text


async def test_s11_quirk9_call_activity_by_object_uses_the_python_name(env, caplog):
    instance_id = await env.start("call_by_object")
    await env.settle()
    # registered as 'renamed_activity', but the SDK sends __name__ 'python_name_of_renamed': an
    # unknown activity, dropped as above
    assert (await env.status(instance_id))["runtimeStatus"] == "Running"
    assert "'python_name_of_renamed' doesn't exist" in caplog.text


async def test_s11_quirk1_status_input_is_a_json_string_for_python_started_instances(env):
    instance_id = await _rpc(env, "start_new", name="chain", input="Tokyo")
    await env.wait(instance_id)
    status = await _rpc(env, "get_status", instance_id=instance_id)
    assert status["input"] == '"Tokyo"'
    assert status["output"] == ["Hello Tokyo!", "Hello Seattle!"]


async def test_s11_quirk11_sync_client_function_and_other_context_names_are_refused(tmp_path):
    (tmp_path / "function_app.py").write_text(
        "import azure.functions as func\nimport azure.durable_functions as df\n"
        "app = df.DFApp()\n"
        "@app.orchestration_trigger(context_name='ctx')\n"
        "def orch(ctx):\n    yield ctx.call_activity('a', 1)\n"
    )
    # The SDK's handle parameter is literally ``context``; the worker refuses any other binding name.
    with pytest.raises(AppLoadError, match=re.escape('cannot load the orch function: the "context" parameter')):
        load_app(tmp_path)


async def test_s10_1_unsupported_trigger_is_refused_at_load_time(tmp_path):
    (tmp_path / "function_app.py").write_text(
        "import azure.functions as func\n"
        "app = func.FunctionApp()\n"
        "@app.blob_trigger(arg_name='blob', path='in/{name}', connection='AzureWebJobsStorage')\n"
        "def on_blob(blob: func.InputStream):\n    pass\n"
    )
    with pytest.raises(AppLoadError, match=re.escape("unsupported trigger 'blobTrigger'")):
        load_app(tmp_path)


async def test_s7_entity_signal_call_and_error_from_an_orchestrator(env):
    instance_id = await env.start("entity_user", "k1")
    status = await env.wait(instance_id)
    assert status["output"]["total"] == 7  # signal add 3 is processed before call add 4
    assert "kaboom" in status["output"]["error"]
    assert await env.read_entity("Tally", "k1") == 7
    history = await env.history(instance_id)
    sent = [e for e in history if e["EventType"] == EventType.EventSent]
    assert [e["EventId"] for e in sent] == [0, 1, 2]
    assert all(e["InstanceId"] == "@tally@k1" and e["Name"] == "op" for e in sent)
    assert "id" in json.loads(sent[1]["Input"])


async def test_s7_client_signals_read_and_delete(env):
    for value in (5, 6):
        await _rpc(env, "signal_entity", name="Tally", key="k2", op="add", input=value)
    await env.settle()
    assert await _rpc(env, "read_entity", name="Tally", key="k2") == {"exists": True, "state": 11}
    await _rpc(env, "signal_entity", name="Tally", key="k2", op="delete")
    await env.settle()
    # Deleted, it still reads as existing, with a null state, as on Azure Storage
    # (DurableHost.read_entity), which the SDK's client hands back as "" (http_utils.get_async_request)
    assert await _rpc(env, "read_entity", name="Tally", key="k2") == {"exists": True, "state": ""}
    assert await _rpc(env, "read_entity", name="Tally", key="never") == {"exists": False, "state": None}


async def test_s11_quirk8_signal_entity_drops_falsy_inputs(env):
    await _rpc(env, "signal_entity", name="Tally", key="k3", op="input_type", input=0)
    await env.settle()
    # the op ran with no input at all: get_input() returned None, so no state was set (and the
    # SDK's "null" state text reads as an existing entity with a null state, DurableHost.read_entity)
    assert await _rpc(env, "read_entity", name="Tally", key="k3") == {"exists": True, "state": ""}


async def test_s11_quirk7_http_signal_with_raw_json_body_breaks_get_input(env):
    path = "/runtime/webhooks/durabletask/entities/Tally/k4?op=add"
    async with env.request("POST", path, key="system", json=5) as response:
        assert response.status == 202
    async with env.request("POST", path, key="system", json="5") as response:  # a JSON string holding JSON
        assert response.status == 202
    await env.settle()
    # the raw 5 made get_input() raise inside the entity; the string "5" worked
    assert await env.read_entity("Tally", "k4") == 5


async def test_s11_quirk11_sync_durable_client_function_is_refused(tmp_path):
    (tmp_path / "function_app.py").write_text(
        "import azure.functions as func\nimport azure.durable_functions as df\n"
        "app = df.DFApp()\n"
        "@app.route(route='start')\n"
        "@app.durable_client_input(client_name='client')\n"
        "def start(req, client):\n    return func.HttpResponse('x')\n"
    )
    with pytest.raises(AppLoadError, match=re.escape("must be 'async def'")):
        load_app(tmp_path)


async def test_s11_quirk8_get_status_all_returns_only_the_first_page(env):
    for i in range(101):
        await env.start("wait_event", instance_id=f"page-{i:03d}")
    statuses = await _rpc(env, "get_status_all")
    assert len(statuses) == 100  # the SDK ignores the continuation token
