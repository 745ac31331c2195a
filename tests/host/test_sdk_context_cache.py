"""``context_cache`` (``devhost/sdk_patches/context_cache.py``) builds exactly the context the SDK builds.

Each check builds a ``DurableOrchestrationContext`` from the same text with every patch off and
with every patch on (the cache warm with a related history first), and requires the same
instance state -- every attribute, every event's instance dict, in the same order -- or the same
exception type and message. ``test_sdk_patches.py`` covers the SDK's whole output.
"""
from __future__ import annotations

import importlib
import json
import traceback
from typing import Any

import pytest

from devhost import protocol as p
from devhost import sdk_patches
from devhost.sdk_patches import context_cache

from .test_sdk_patches import _all, _restore  # noqa: F401 (_restore: the autouse fixture)

MODULE = importlib.import_module("azure.durable_functions.models.DurableOrchestrationContext")
Context = MODULE.DurableOrchestrationContext


def _cache() -> context_cache.HistoryCache:
    return vars(Context)["from_json"].__func__.cache


def _ts(i: int) -> str:
    return f"2024-01-01T00:{i // 60 % 60:02d}:{i % 60:02d}.{i % 1000:03d}0000Z"


def _history(activities: int, *, played: bool = True) -> list[dict[str, Any]]:
    """A chain's history as the host writes it; the last episode's events not yet played."""
    events: list[dict[str, Any]] = [
        {"EventType": 12, "EventId": -1, "IsPlayed": True, "Timestamp": _ts(0)},
        {"EventType": 0, "EventId": -1, "IsPlayed": True, "Timestamp": _ts(0),
         "OrchestrationInstance": {"InstanceId": "i1", "ExecutionId": "e1"}, "ParentInstance": None,
         "Name": "chain", "Version": "", "Input": '"x"', "Tags": None, "Generation": 0},
    ]
    for n in range(activities):
        events.append({"EventType": 4, "EventId": n, "IsPlayed": True, "Timestamp": _ts(3 * n + 1),
                       "Name": "step", "Version": "", "Input": str(n)})
        events.append({"EventType": 13, "EventId": -1, "IsPlayed": True, "Timestamp": _ts(3 * n + 1)})
        last = n == activities - 1
        events.append({"EventType": 12, "EventId": -1, "IsPlayed": played or not last, "Timestamp": _ts(3 * n + 2)})
        events.append({"EventType": 5, "EventId": -1, "IsPlayed": played or not last, "Timestamp": _ts(3 * n + 3),
                       "TaskScheduledId": n, "Result": str(n + 1), "Extra": 1.5 if n % 2 else True})
    return events


def _text(history: list[dict[str, Any]]) -> str:
    return p.context_json(json.dumps(history), input_text='"x"', instance_id="i1", parent_instance_id=None)


def _state(context: Any) -> list[tuple[str, Any]]:
    out = []
    for key, value in vars(context).items():
        if key == "_histories":
            value = [(type(e), list(vars(e).items())) for e in value]
        elif key == "decision_started_event":
            value = next(i for i, e in enumerate(context.histories) if e is value)
        elif key == "_function_context":
            value = list(vars(value).items())
        out.append((key, value))
    return out


def _build(text: str) -> Any:
    try:
        return "ok", _state(Context.from_json(text))
    except Exception as exc:
        return "raised", type(exc), str(exc)


def _check(text: str, warm: list[str] = ()) -> Any:
    """``text`` with patches off and on (after ``warm`` with patches on); returns the result."""
    _all(False)
    plain = _build(text)
    _all(True)
    for before in warm:
        Context.from_json(before)
    assert _build(text) == plain
    assert _build(text) == plain  # the whole text kept now
    return plain


@pytest.fixture
def small(monkeypatch):
    monkeypatch.setattr(context_cache, "MIN_TEXT", 0)


def test_episodes_in_order_reuse_what_was_parsed():
    texts = [_text(_history(n, played=False)) for n in range(1, 40)]
    _all(False)
    plain = [_build(text) for text in texts]
    _all(True)
    assert [_build(text) for text in texts] == plain
    assert _cache().reused > 30 * 4 * 20  # most of each history from the previous episode


def test_events_holding_objects_are_not_shared_between_calls():
    text = _text(_history(20))
    _all(True)
    first = Context.from_json(text)
    first.histories[1].OrchestrationInstance["InstanceId"] = "changed"
    second = Context.from_json(text)
    assert _cache().reused > 0
    assert second.histories[1].OrchestrationInstance == {"InstanceId": "i1", "ExecutionId": "e1"}
    assert second.histories[2] is not first.histories[2] and vars(second.histories[2]) == vars(first.histories[2])


def _variants(base: str) -> list[str]:
    events = _history(20)
    close = base.index("], \"input\"")
    head, tail = base[:close], base[close:]
    return [
        head + ", ]" + tail[1:],  # trailing comma in the array
        head + tail.replace('"input"', "", 1),  # a field without a name
        head + tail[:-1] + ", }",  # trailing comma in the object
        head + tail[:-1] + ', "history": []}',  # a second history
        head + tail[:-1] + ', "\\u0068istory": []}',
        head + tail + " x",  # extra data
        head + tail + " \n",
        head + ", 5" + tail,  # an event that is not an object
        head + ', {"EventId": 1, "IsPlayed": true, "Timestamp": "' + _ts(1) + '"}' + tail,
        head + ', {"EventType": 5, "EventId": 1, "IsPlayed": true, "Timestamp": "nope"}' + tail,
        head + ', {"EventType": 5, "EventId": 1, "IsPlayed": true, "Timestamp": "' + _ts(1) + '", "self": 1}' + tail,
        head + ',\n\t{"EventType": 5, "EventId": 1, "IsPlayed": false, "Timestamp": "' + _ts(1) + '"}  ' + tail,
        head + "]",  # cut short
        head[:-40],
        head + "]}",  # nothing after the history
        head + tail.replace('"instanceId"', '"instance"'),  # a required field missing
        head + tail[:-1] + ', "extraField": {"a": [1, 2]}}',  # goes to FunctionContext
        head + tail.replace('"isReplaying": false', '"isReplaying": false, "input": 7'),  # a field twice
        "\ufeff" + base,
        base.replace('{"history": [', '{"history":[', 1),
        base.replace('{"history": [', '{"input": 1, "history": [', 1),
        _text([]),
        _text(events[:1]),
        _text(events[:2]),
        _text([e for e in events if e["EventType"] != 12]),  # no OrchestratorStarted: IndexError
    ]


def test_unusual_texts_give_what_the_sdk_gives(small):
    base = _text(_history(20))
    outcomes = [_check(text, warm=[base]) for text in _variants(base)]
    assert sum(outcome[0] == "raised" for outcome in outcomes) >= 10  # the list exercises the errors


def test_timestamp_warnings_and_errors_come_as_often_and_in_the_same_order(small):
    import warnings

    base = _text(_history(20))
    close = base.index("], \"input\"")
    head, tail = base[:close], base[close:]
    odd = ', {"EventType": 5, "EventId": 1, "IsPlayed": true, "Timestamp": "2024-01-01T00:00:00 XYZ"}'
    bad = ', {"EventType": 5, "EventId": 1, "IsPlayed": true, "Timestamp": "nope"}'
    texts = [head + odd + tail, head + odd + ", ]" + tail[1:], head + odd + bad + tail,
             head + odd + tail.replace('"instanceId"', '"instance"'), head + bad + tail.replace('"instanceId"', '"x"')]

    def run(text: str) -> Any:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            outcome = _build(text)
        return outcome, [(w.category, str(w.message)) for w in caught]

    results = []
    for text in texts:
        _all(False)
        results.append(run(text))
        _all(True)
        Context.from_json(base)
        assert run(text) == results[-1]
        assert run(text) == results[-1]
    assert results[0][1] and results[0][0][0] == "ok"  # dateutil warned about the zone, and parsed it


def test_an_error_inside_init_points_at_the_sdk_line(small):
    events = [e for e in _history(20) if e["EventType"] != 12]
    text = _text(events)
    _all(False)
    with pytest.raises(IndexError) as plain:
        Context.from_json(text)
    _all(True)
    Context.from_json(text.replace('"EventType": 13', '"EventType": 12', 1))
    with pytest.raises(IndexError) as fast:
        Context.from_json(text)
    last = traceback.extract_tb(plain.value.__traceback__)[-1]
    fast_last = traceback.extract_tb(fast.value.__traceback__)[-1]
    assert (fast_last.filename, fast_last.lineno, fast_last.name) == (last.filename, last.lineno, last.name)


def test_subclasses_and_other_history_event_inits_take_the_sdk_path(monkeypatch):
    text = _text(_history(20))

    class Sub(Context):
        pass

    _all(True)
    Context.from_json(text)
    reused = _cache().reused
    assert type(Sub.from_json(text)) is Sub
    event_cls = importlib.import_module(context_cache.EVENT_MODULE).HistoryEvent
    init = event_cls.__init__
    calls = []

    def counting(self, *args, **kwargs):
        calls.append(1)
        init(self, *args, **kwargs)

    monkeypatch.setattr(event_cls, "__init__", counting)
    _state(Context.from_json(text))
    assert len(calls) == len(_history(20)) and _cache().reused == reused


def test_kept_histories_are_bounded(monkeypatch, small):
    monkeypatch.setattr(context_cache, "MAX_ENTRIES", 2)
    _all(True)
    for n in range(4):
        Context.from_json(_text(_history(5 + n)).replace('"e1"', f'"e{n}"'))
    assert len(_cache()._entries) == 2
    monkeypatch.setattr(context_cache, "MAX_EVENTS", 30)
    Context.from_json(_text(_history(6)))
    assert _cache()._kept <= 30


def test_off_when_the_source_is_not_shaped_as_expected(monkeypatch):
    _all(False)
    monkeypatch.setattr(context_cache, "_HISTORY_LINE", "something else")
    sdk_patches.install()
    assert "cannot be built" in sdk_patches.status()["context_cache"]
    assert sdk_patches.status()["process_event"] == "on"
    sdk_patches.uninstall()
