"""The protocol's hot text builders against their plain definitions: the context JSON around
the history (``json.dumps`` of the context object) and the timestamp format with its cache."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from devhost import protocol as p

IDS = ["abc", "chain4-17", "id with \"quotes\" and \\", "ünïcødé-✓", "tab\tnew\nline\x01", "@e@k", ""]


def reference_context(history: list, input_text: str | None, instance_id: str, parent: str | None) -> str:
    raw_input = input_text if input_text is not None else "null"
    context = json.dumps({
        "instanceId": instance_id, "isReplaying": False, "parentInstanceId": parent,
        "upperSchemaVersion": p.UPPER_SCHEMA_VERSION, "upperSchemaVersionNew": p.UPPER_SCHEMA_VERSION_NEW,
        "longRunningTimerIntervalDuration": p.LONG_TIMER_INTERVAL,
        "maximumShortTimerDuration": p.MAXIMUM_SHORT_TIMER,
        "defaultHttpAsyncRequestSleepTimeMillseconds": 30000,
    })
    return '{"history": ' + json.dumps(history) + ', "input": ' + raw_input + ", " + context[1:]


@pytest.mark.parametrize("instance_id", IDS)
@pytest.mark.parametrize("parent", [None, "parent-1", "pärent\"x"])
@pytest.mark.parametrize("input_text", [None, '"\\"x\\""', '{"a": [1, 2]}'])
def test_context_json_is_json_dumps_of_the_context(instance_id, parent, input_text):
    history = [p.orchestrator_started(datetime(2026, 1, 1, tzinfo=timezone.utc))]
    text = p.context_json(json.dumps(history), input_text=input_text, instance_id=instance_id,
                          parent_instance_id=parent)
    assert text == reference_context(history, input_text, instance_id, parent)
    parsed = json.loads(text)
    assert parsed["instanceId"] == instance_id and parsed["parentInstanceId"] == parent


def reference_timestamp(value: datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc)
    return (f"{value.year:04d}-{value.month:02d}-{value.day:02d}T{value.hour:02d}:"
            f"{value.minute:02d}:{value.second:02d}.{value.microsecond:06d}0Z")


def test_format_timestamp_cache_answers_for_the_same_object_only():
    base = datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=timezone.utc)
    plus_two = timezone(timedelta(hours=2))
    values = [base, base, base + timedelta(microseconds=1), base.astimezone(plus_two), base.replace(tzinfo=None),
              datetime(999, 1, 1, tzinfo=timezone.utc), base]
    for value in values:
        assert p.format_timestamp(value) == reference_timestamp(value)
        assert p.format_timestamp(value) == reference_timestamp(value)  # the cached answer
    assert p.format_timestamp(base.astimezone(plus_two)) == p.format_timestamp(base)
