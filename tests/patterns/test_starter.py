"""The generic starter: validated inputs, 404 for names it does not start, check-status payload."""
from __future__ import annotations

import json

from app_common import names

from .conftest import WEBHOOKS, all_instances, post_json


async def test_unknown_orchestrator_is_404_and_creates_nothing(env):
    for name in ("nope", "Chaining", names.RUN_JOB, names.COUNTER):
        status, body, _ = await post_json(env, f"/api/orchestrators/{name}", {"order_id": "x"})
        assert status == 404 and name in body["error"], name
    assert await all_instances(env) == []


async def test_monitor_is_only_started_by_its_own_route(env):
    status, body, _ = await post_json(env, f"/api/orchestrators/{names.MONITOR_JOB_STATUS}", {})
    assert status == 404 and "/api/monitors/" in body["error"]
    assert await all_instances(env) == []


async def test_check_status_payload_has_management_urls(env):
    status, body, headers = await post_json(env, f"/api/orchestrators/{names.APPROVAL_WORKFLOW}",
                                            {"request": {"title": "x"}, "timeout_hours": 2})
    assert status == 202
    assert headers["Location"] == body["statusQueryGetUri"]
    assert f"{WEBHOOKS}/instances/{body['id']}" in body["statusQueryGetUri"]
    assert "{eventName}" in body["sendEventPostUri"]
    assert env.keys.system in body["terminatePostUri"]  # why only operators should hold this route's key
    started = await env.status(body["id"])
    # The input of a Python-started instance reads back as JSON text (spec 3.5).
    assert started["name"] == names.APPROVAL_WORKFLOW
    assert json.loads(started["input"]) == {"request": {"title": "x"}, "timeout_hours": 2}


async def test_default_approval_timeout_is_filled_in_by_the_route(env):
    status, body, _ = await post_json(env, f"/api/orchestrators/{names.APPROVAL_WORKFLOW}", {"request": {}})
    assert status == 202
    assert json.loads((await env.status(body["id"]))["input"])["timeout_hours"] == 72


async def test_malformed_json_and_missing_body(env):
    status, body, _ = await post_json(env, f"/api/orchestrators/{names.CHAINING}", raw=b'{"order_id": ')
    assert status == 400 and "malformed JSON" in body["error"]
    status, body, _ = await post_json(env, f"/api/orchestrators/{names.CHAINING}")  # no body: {} is validated
    assert status == 400 and "missing field" in body["error"]
    assert await all_instances(env) == []


async def test_requires_the_function_key(env):
    status, _, _ = await post_json(env, f"/api/orchestrators/{names.CHAINING}", {}, key=None)
    assert status == 401
