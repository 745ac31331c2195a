"""The SDK patches (``devhost/sdk_patches/``) and the timestamp cache change nothing the SDK returns.

Every check hands the SDK the same context JSON with every patch off (``dateutil``, the SDK as
installed) and on (``fast_timestamps`` with its cache, ``sdk_patches``), and requires the SDK's
output -- the orchestrator state JSON, or the exception text that embeds it -- to be identical
byte for byte. Inputs: every episode of every recorded history in ``tests/determinism/histories``
and every orchestrator call the host made while running the host test app's orchestrations.
"""
from __future__ import annotations

import importlib
import json
import os
from pathlib import Path

import pytest

from devhost import fast_timestamps, sdk_patches
from devhost.sdk_patches import context_cache
from devhost import protocol as p
from devhost.app_index import load_app
from devhost.invoke import call_orchestrator
from devhost.replayer import RecordedInstance

ROOT = Path(__file__).resolve().parents[2]
RECORDED = sorted((ROOT / "tests" / "determinism" / "histories").rglob("*.json"))


def _all(on: bool) -> None:
    fast_timestamps.configure(on)
    sdk_patches.configure(on)


@pytest.fixture(autouse=True)
def _restore():
    yield
    _all(True)  # the host's default


def _output(info, context: str) -> str:
    try:
        return "ok:" + call_orchestrator(info, context)
    except Exception as exc:  # the SDK embeds its state in the exception (spec 4.3)
        return f"raised:{type(exc).__name__}:{exc}"


def _compare(calls: list[tuple[object, str]]) -> int:
    """Every call with everything off, then every call in order with everything on, twice (the
    second time with every cache warm); returns how many returned.

    In order, as the host makes them, so that ``context_cache`` meets each episode's history
    after the one before (the previous episode's new events changed, as ``IsPlayed`` turns true).
    """
    _all(False)
    off = [_output(info, context) for info, context in calls]
    _all(True)
    for _ in range(2):
        for (info, context), expected in zip(calls, off):
            assert _output(info, context) == expected, context[:300]
    return sum(out.startswith("ok:") for out in off)


@pytest.fixture(autouse=True)
def _cache_every_history(monkeypatch):
    monkeypatch.setattr(context_cache, "MIN_TEXT", 0)  # the recorded histories are short


def _episodes(recorded: RecordedInstance) -> list[str]:
    """The context JSON of every episode of a recorded execution, as the host would build it."""
    history = [dict(event, IsPlayed=True) for event in recorded.history]
    ends = [i for i, e in enumerate(history) if e["EventType"] == p.EventType.OrchestratorCompleted]
    ends.append(len(history))
    contexts = []
    for end in ends:
        if end < 2:
            continue
        contexts.append(p.context_json(json.dumps(history[:end]), input_text=recorded.input,
                                       instance_id=recorded.instance_id,
                                       parent_instance_id=recorded.parent_instance_id))
    return contexts


def test_patches_install_here():
    _all(True)
    assert sdk_patches.status() == {patch.name: "on" for patch in sdk_patches.PATCHES}
    assert len(sdk_patches.PATCHES) == 14
    assert fast_timestamps.enabled()


def test_recorded_histories_give_identical_sdk_output(monkeypatch):
    # The host tests import their own ``function_app`` from a directory early on sys.path: put the
    # repository's first so that this loads the reference app (load_app keeps it once loaded).
    monkeypatch.syspath_prepend(str(ROOT))
    index = load_app(ROOT)
    calls = []
    for path in RECORDED:
        recorded = RecordedInstance.load(path)
        info = index.find("orchestrator", recorded.name)
        assert info is not None, f"{recorded.name} is not in the app loaded from {ROOT}"
        calls.extend((info, context) for context in _episodes(recorded))
    assert _compare(calls) > 50


@pytest.mark.parametrize("name, input", [
    ("chain", "x"), ("fan_out", 12), ("retry_activity", "k"), ("parallel_retries", ["a", "b", "c"]),
    ("catch_failure", None), ("uncaught_failure", None), ("not_a_generator", None), ("fail_fast_all", None),
    ("parent", None), ("parent_with_retry", None), ("sleeper", 240), ("race", True), ("race", False),
    ("entity_user", "inc"), ("counter_loop", {"n": 0, "until": 3}), ("custom_status", None),
    ("async_activity", None),
])
async def test_host_calls_give_identical_sdk_output(env, knobs, monkeypatch, name, input):
    knobs.FLAKY_FAILURES.update({"k": 2, "a": 1, "c": 2})
    engine = env.host.runtime.engine
    inner = engine.call_orchestrator
    calls: list[tuple[object, str]] = []

    def recording(info, context):
        calls.append((info, context))
        return inner(info, context)

    monkeypatch.setattr(engine, "call_orchestrator", recording)
    instance_id = await env.start(name, input)
    await env.wait(instance_id)
    assert calls
    _compare(calls)
    if len(calls) > 1:  # the later episodes' histories were built from the earlier ones'
        assert _context_cache().reused > 0


def _context_cache() -> context_cache.HistoryCache:
    module = importlib.import_module("azure.durable_functions.models.DurableOrchestrationContext")
    return vars(module.DurableOrchestrationContext)["from_json"].__func__.cache


def test_new_events_start_matches_the_sdk_for_any_sequence():
    module = importlib.import_module("azure.durable_functions.models.TaskOrchestrationExecutor")
    from azure.durable_functions.models.history.HistoryEvent import HistoryEvent

    _all(False)
    executor = module.TaskOrchestrationExecutor()
    original = module.TaskOrchestrationExecutor._find_new_events_start_index
    _all(True)
    patched = module.TaskOrchestrationExecutor._find_new_events_start_index
    assert patched is not original
    kinds = [[], [12], [0], [12, 0, 4, 13, 12, 5], [0, 12, 12, 13], [4, 5, 13]]
    for types in kinds:
        history = [HistoryEvent(EventType=t, EventId=-1, IsPlayed=True, Timestamp="2024-01-01T00:00:00Z")
                   for t in types]
        for sequence in (history, tuple(history)):
            assert patched(executor, sequence) == original(executor, sequence), types


def test_strict_mode_reads_the_environment_live(monkeypatch):
    import azure.functions._durable_functions as module

    _all(False)
    original = module._is_strict_mode
    _all(True)
    patched = module._is_strict_mode
    assert patched is not original
    for value in (None, "1", "true", " YES ", "0", "no", "", "tru", "\u00e9"):
        if value is None:
            monkeypatch.delenv(module._STRICT_ENV_VAR, raising=False)
        else:
            monkeypatch.setenv(module._STRICT_ENV_VAR, value)
        assert patched() == original(), value
    monkeypatch.setattr(os, "environ", {module._STRICT_ENV_VAR: "1"})  # replaced: the original answers
    assert patched() == original()


def test_history_event_fields_named_like_class_attributes_take_the_original_path():
    from azure.durable_functions.models.history.HistoryEvent import HistoryEvent

    fields = {"EventType": 4, "EventId": 1, "IsPlayed": True, "Timestamp": "2024-01-01T00:00:00.0000000Z",
              "Name": "n", "Input": "1", "is_processed": True, "Extra": [1]}
    _all(False)
    plain = HistoryEvent(**fields)
    _all(True)
    fast = HistoryEvent(**fields)
    assert list(vars(fast)) == list(vars(plain)) and vars(fast) == vars(plain)
    fields.pop("is_processed")
    _all(False)
    plain = HistoryEvent(**fields)
    _all(True)
    fast = HistoryEvent(**fields)
    assert list(vars(fast)) == list(vars(plain)) and vars(fast) == vars(plain)


def test_switches(monkeypatch):
    from azure.durable_functions.models.TaskOrchestrationExecutor import TaskOrchestrationExecutor

    _all(False)
    original = TaskOrchestrationExecutor.__init__
    assert sdk_patches.status()["executor_init"] == "off"
    monkeypatch.setenv(sdk_patches.ENV_VAR, "0")
    assert sdk_patches.configure(None) is False and TaskOrchestrationExecutor.__init__ is original
    monkeypatch.setenv(sdk_patches.ENV_VAR, "1")
    assert sdk_patches.configure(None) is True and TaskOrchestrationExecutor.__init__ is not original
    sdk_patches.configure(True)  # twice: still one layer
    sdk_patches.configure(False)
    assert TaskOrchestrationExecutor.__init__ is original


def test_off_for_versions_and_sources_it_was_not_checked_against(monkeypatch, caplog):
    _all(False)
    monkeypatch.setitem(sdk_patches.CHECKED, "azure-functions-durable", ("0.0.1",))
    assert sdk_patches.install() is False
    status = sdk_patches.status()
    assert "not a checked version" in status["executor_init"] and status["strict_mode"] == "on"
    sdk_patches.uninstall()
    monkeypatch.undo()
    patch = next(x for x in sdk_patches.PATCHES if x.name == "history_event_init")
    monkeypatch.setattr(patch, "source_sha256", "0" * 16)
    sdk_patches.install()
    assert "not the source it was checked against" in sdk_patches.status()["history_event_init"]


async def test_runtime_option_turns_them_off(knobs):
    from devhost.scheduler import RuntimeOptions
    from devhost.testing import DurableTestHost

    from .conftest import HOST_TEST_APP

    async with DurableTestHost.start_time_skipping(HOST_TEST_APP, options=RuntimeOptions(sdk_patches=False)) as host:
        assert not sdk_patches.enabled()
        instance_id = await host.start("chain", "x")
        assert (await host.wait(instance_id))["runtimeStatus"] == "Completed"


def test_codecs_stand_in_answers_as_json():
    import azure.functions._durable_functions as module

    _all(True)
    codecs = module.json
    assert isinstance(codecs, sdk_patches.Codecs)
    hook_out = module._serialize_custom_object
    hook_in = module._deserialize_custom_object
    values = [None, 1, 1.5, float("inf"), "t\u00e9xt", "\ud800", [1, {"a": [None, True]}], {"k": "v", "2": 3},
              {1: "int key"}, ["\u2028"]]
    for value in values:
        assert codecs.dumps(value, default=hook_out) == json.dumps(value, default=hook_out)
        text = json.dumps(value)
        assert codecs.loads(text, object_hook=hook_in) == json.loads(text, object_hook=hook_in)
    for bad in ("{", "\ufeff{}", "[1,]", ""):
        with pytest.raises(json.JSONDecodeError) as fast:
            codecs.loads(bad, object_hook=hook_in)
        with pytest.raises(json.JSONDecodeError) as plain:
            json.loads(bad, object_hook=hook_in)
        assert str(fast.value) == str(plain.value)
    assert codecs.loads(b'{"a": 1}', object_hook=hook_in) == {"a": 1}  # bytes: json's own path
    with pytest.raises(TypeError) as fast_err:
        codecs.dumps(object(), default=lambda o: (_ for _ in ()).throw(TypeError("no")))
    assert str(fast_err.value) == "no"
    with pytest.raises(TypeError):
        codecs.dumps(object())  # no default: json's own path and error
    assert codecs.dumps({"b": 1, "a": 2}, sort_keys=True) == json.dumps({"b": 1, "a": 2}, sort_keys=True)
    assert codecs.JSONDecodeError is json.JSONDecodeError
    _all(False)
    assert module.json is json


def test_the_kept_encoder_after_errors_and_inside_a_to_json():
    import azure.functions._durable_functions as module

    _all(True)
    hook = module._serialize_custom_object
    circular: list = [1]
    circular.append(circular)
    failing = [[1, {"a": object()}]]

    class Nested:
        def to_json(self):  # serializes through df_dumps while the outer call is running
            return {"inner": module.df_dumps([self.shared, Plain()]), "shared": self.shared}

    class Plain:
        def to_json(self):
            return "p"

    nested = Nested()
    nested.shared = [1, 2]
    for value in (circular, failing, [failing, failing], {"x": nested, "y": nested.shared}, nested, "text", 3):
        outcomes = []
        for codecs in (module.json, json):
            try:
                outcomes.append(("ok", codecs.dumps(value, default=hook)))
            except Exception as exc:
                outcomes.append((type(exc), str(exc)))
        assert outcomes[0] == outcomes[1], value
        assert module.json.dumps([1, [2]], default=hook) == "[1, [2]]"  # nothing left over
