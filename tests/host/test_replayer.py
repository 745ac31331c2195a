"""The replayer catches code changes that would break in-flight instances (issue 6 item 5)."""
from __future__ import annotations

from devhost.app_index import load_app
from devhost.replayer import RecordedInstance, replay
from tests.host.conftest import HOST_TEST_APP


async def _record(env, tmp_path, name: str, input=None, finish: bool = True):
    instance_id = await env.start(name, input)
    if finish:
        await env.wait(instance_id)
    else:
        await env.settle()
    paths = await env.record_histories(tmp_path, {name}, statuses=None)
    return RecordedInstance.load(paths[0])


async def test_recorded_history_replays_cleanly_against_unchanged_code(env, tmp_path):
    recorded = await _record(env, tmp_path, "chain", "Oslo")
    report = replay(load_app(HOST_TEST_APP), recorded)
    assert report.ok, report.problem


async def test_renaming_an_activity_fails_the_replay(env, tmp_path, knobs):
    recorded = await _record(env, tmp_path, "switchable", finish=False)  # waits for "Continue"
    assert recorded.status == "Running"
    knobs.SWITCHABLE_ACTIVITY = "square"
    report = replay(load_app(HOST_TEST_APP), recorded)
    assert not report.ok
    assert "Non-Deterministic workflow detected" in report.problem


async def test_changed_output_of_a_completed_instance_fails_the_replay(env, tmp_path):
    recorded = await _record(env, tmp_path, "fan_out", 4)
    recorded.output = "999"
    report = replay(load_app(HOST_TEST_APP), recorded)
    assert not report.ok and "output changed" in report.problem
