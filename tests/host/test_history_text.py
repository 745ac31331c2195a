"""``HistoryText`` (the append-only serialized history) gives exactly ``json.dumps`` of the history,
and the context JSON built from it is ``protocol.context_json``'s, byte for byte."""
from __future__ import annotations

import json

from devhost import history_text
from devhost import protocol as p
from devhost.history_text import HistoryText


def _events(n: int, start: int = 0) -> list[dict]:
    return [{"EventType": 4, "EventId": i, "Name": f"a{i}", "Input": json.dumps({"v": i}), "IsPlayed": i % 2 == 0}
            for i in range(start, start + n)]


def test_text_is_json_dumps_of_the_history():
    assert HistoryText().text() == "[]" == json.dumps([])
    history: list[dict] = []
    text = HistoryText()
    for n in (1, 3, 0, 2, 5):
        batch = _events(n, len(history))
        history += batch
        text = text.extend(batch)
        assert text.text() == json.dumps(history)
    assert HistoryText.of(history).text() == json.dumps(history)
    assert HistoryText().text() == "[]"


def test_an_old_version_keeps_its_meaning_when_extended_twice():
    base = HistoryText.of(_events(2))
    first = base.extend(_events(1, 2))
    second = base.extend(_events(3, 10))  # e.g. the episode ran again after a crash before commit
    assert first.text() == json.dumps(_events(2) + _events(1, 2))
    assert second.text() == json.dumps(_events(2) + _events(3, 10))
    assert base.text() == json.dumps(_events(2))
    assert first.extend(_events(1, 20)).text() == json.dumps(_events(2) + _events(1, 2) + _events(1, 20))


def test_context_json_is_protocols():
    for history, new in ((_events(0), _events(2)), (_events(3), _events(2)), (_events(4), [])):
        for input_text, parent in ((None, None), ('"{\\"a\\": 1}"', "p-1")):
            expected = p.context_json(json.dumps(history + new), input_text=input_text, instance_id="i-1",
                                      parent_instance_id=parent)
            built = history_text.context_json(HistoryText.of(history), new, input_text=input_text,
                                              instance_id="i-1", parent_instance_id=parent)
            assert built == expected


async def test_the_runtime_cache_matches_the_stored_history(env, monkeypatch):
    runtime = env.host.runtime
    commit = runtime._commit
    checked = []

    async def checking(instance_id, history, result):
        await commit(instance_id, history, result)
        cached = runtime._history.get(instance_id)
        if cached is not None:
            stored = await runtime.store.get_history(instance_id)
            assert cached.history == stored
            assert cached.history_json.text() == json.dumps(stored)
            checked.append(instance_id)

    monkeypatch.setattr(runtime, "_commit", checking)
    for name, value in (("chain", "x"), ("fan_out", 5), ("parent", None)):
        await env.wait(await env.start(name, value))
    assert len(checked) >= 8


async def test_events_replayed_counts_what_the_sdk_was_handed(env, monkeypatch):
    runtime = env.host.runtime
    inner = runtime.engine.call_orchestrator
    handed = []

    def counting(info, context):
        handed.append(len(json.loads(context)["history"]))
        return inner(info, context)

    monkeypatch.setattr(runtime.engine, "call_orchestrator", counting)
    before = runtime.stats.events_replayed
    await env.wait(await env.start("chain", "x"))
    assert runtime.stats.events_replayed - before == sum(handed) > 0
