"""``call_http`` as one built-in activity, and NCRONTAB schedules for timer triggers."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from aiohttp import web

from devhost.cron import Schedule


async def test_s3_2_call_http_runs_one_request_and_returns_the_response(env):
    seen: list[dict] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(await request.json())
        return web.json_response({"pong": True}, status=201)

    app = web.Application()
    app.router.add_post("/target", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        instance_id = await env.start("http_caller", f"http://127.0.0.1:{port}/target")
        status = await env.wait(instance_id)
    finally:
        await runner.cleanup()
    assert status["output"] == {"status": 201, "content": '{"pong": true}'}
    assert seen == [{"a": 1}]


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


@pytest.mark.parametrize("expression", ["* * *", "99 * * * * *", "*/0 * * * * *"])
def test_invalid_schedules_are_rejected(expression):
    with pytest.raises(ValueError):
        Schedule(expression)
