"""``call_http`` as one built-in activity, and NCRONTAB schedules for timer triggers."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from aiohttp import web

from devhost.cron import Schedule
from tests.host.history import event_types
from tests.host.http_target import serving


async def call_http_against(env, respond) -> tuple[dict, list[dict]]:
    """Run ``http_caller`` against a local endpoint answering with ``respond()``; the
    instance's final status and the request bodies the endpoint saw."""
    seen: list[dict] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(await request.json())
        return respond()

    async with serving(handler) as url:
        instance_id = await env.start("http_caller", url)
        status = await env.wait(instance_id)
    return status, seen


async def test_s3_2_call_http_runs_one_request_and_returns_the_response(env):
    status, seen = await call_http_against(env, lambda: web.json_response({"pong": True}, status=201))
    assert status["output"] == {"status": 201, "content": '{"pong": true}'}
    assert seen == [{"a": 1}]


async def test_a_202_with_location_comes_back_as_it_is(env):
    """SDK 1.x sends no ``asynchronousPatternEnabled`` in the CallHttp action, and the extension
    follows 202 + ``Location`` only for requests marked with it (a maintainer on
    Azure/azure-functions-durable-js#284: the extension "requires that durable-http-requests that
    support polling be marked with a particular boolean flag"; the Python SDK's polling is still
    the open Azure/azure-functions-durable-python#380). So on Azure the orchestrator gets the 202
    itself: one request, no timer, no second activity."""
    status, seen = await call_http_against(env, lambda: web.json_response(
        {"id": "op-1"}, status=202, headers={"Location": "http://127.0.0.1:9/status", "Retry-After": "1"}))
    assert status["output"] == {"status": 202, "content": '{"id": "op-1"}'}
    assert seen == [{"a": 1}]
    history = await env.history(status["instanceId"])
    assert event_types(history).count("TaskScheduled") == 1
    assert "TimerCreated" not in event_types(history)


@pytest.mark.parametrize("expression, after, expected", [
    ("*/5 * * * * *", "2026-01-01T00:00:03", "2026-01-01T00:00:05"),
    ("0 */15 * * * *", "2026-01-01T00:14:59", "2026-01-01T00:15:00"),
    ("0 30 9 * * 1-5", "2026-01-02T10:00:00", "2026-01-05T09:30:00"),  # Friday -> Monday
    ("0 0 0 1 * *", "2026-01-31T12:00:00", "2026-02-01T00:00:00"),
    ("0 0 12 * * sun", "2026-01-01T00:00:00", "2026-01-04T12:00:00"),
    ("*/10 * * * *", "2026-01-01T00:01:00", "2026-01-01T00:10:00"),  # 5-field CRON
    ("00:05:00", "2026-01-01T00:00:00", "2026-01-01T00:05:00"),  # TimeSpan schedule
])
def test_schedule_next_occurrence(expression, after, expected):
    moment = datetime.fromisoformat(after).replace(tzinfo=timezone.utc)
    assert Schedule(expression).next_after(moment) == datetime.fromisoformat(expected).replace(tzinfo=timezone.utc)


# (NCrontab turns a step below 1 into 1, CrontabField.Accumulate: "if (interval < 1) interval = 1",
# so "*/0" is valid; tests/host/test_timer_fidelity.py)
@pytest.mark.parametrize("expression", ["* * *", "99 * * * * *", "* * * * * 7"])
def test_invalid_schedules_are_rejected(expression):
    with pytest.raises(ValueError):
        Schedule(expression)
