"""Aggregator: the Counter entity over HTTP (signals are applied asynchronously) and from an orchestration."""
from __future__ import annotations

import asyncio

import aiohttp
import pytest

from app_common import names
from app_common.payloads.counter import MAX_ABS_AMOUNT
from devhost.protocol import entity_scheduler_id
from devhost.store.base import EntityRecord

from .conftest import all_instances, get_json, post_json


async def add(env, key: str, body: object = None, raw: bytes | None = None) -> int:
    status, _, _ = await post_json(env, f"/api/counters/{key}/add", body, raw=raw)
    return status


async def value_of(env, key: str) -> tuple[int, object]:
    await env.settle()
    status, body, _ = await get_json(env, f"/api/counters/{key}")
    return status, body


async def test_add_add_get(env, unique):
    assert await add(env, unique, 2) == 202
    assert await add(env, unique, 3) == 202
    assert await value_of(env, unique) == (200, {"key": unique, "value": 5})


async def test_adding_zero_and_negatives(env, unique):
    # 0 would be dropped by the client's signal_entity if sent bare; the {"amount": 0} input is not.
    assert await add(env, unique, 0) == 202
    assert await value_of(env, unique) == (200, {"key": unique, "value": 0})
    assert await add(env, unique, -7) == 202
    assert (await value_of(env, unique))[1]["value"] == -7


async def test_reset(env, unique):
    await add(env, unique, 41)
    status, body, _ = await post_json(env, f"/api/counters/{unique}/reset")
    assert status == 202 and body["operation"] == "reset"
    assert await value_of(env, unique) == (200, {"key": unique, "value": 0})


async def test_delete_then_404(env, unique):
    await add(env, unique, 1)
    assert (await value_of(env, unique))[0] == 200
    async with env.request("DELETE", f"/api/counters/{unique}") as resp:
        assert resp.status == 202
    status, body = await value_of(env, unique)
    assert status == 404 and body["error"]
    assert await env.read_entity(names.COUNTER, unique) is None


async def test_never_existed_is_404(env, unique):
    status, body = await value_of(env, unique)
    assert status == 404 and body["error"]


async def test_twenty_concurrent_adds_from_separate_clients(env, unique):
    amounts = list(range(1, 21))

    async def add_with_own_session(amount: int) -> int:
        async with aiohttp.ClientSession(base_url=env.base_url) as session, \
                session.post(f"/api/counters/{unique}/add", json=amount, headers=env.auth_headers) as resp:
            return resp.status

    assert await asyncio.gather(*(add_with_own_session(a) for a in amounts)) == [202] * 20
    assert await value_of(env, unique) == (200, {"key": unique, "value": sum(amounts)})


async def test_bad_bodies_and_keys_are_400(env, unique):
    for raw in (b"true", b"false", b"1.5", b'"3"', b"", b"{not json", b'{"amount": 1}', b"null", b"1e3",
                str(2**53).encode()):
        assert await add(env, unique, raw=raw) == 400, raw
    status, body, _ = await post_json(env, "/api/counters/bad%20key!/add", 1)
    assert status == 400 and body["error"]
    assert (await value_of(env, unique))[0] == 404  # nothing was signalled


async def test_missing_key_is_401(env, unique):
    async with env.request("POST", f"/api/counters/{unique}/add", key=None, json=1) as resp:
        assert resp.status == 401
    async with env.request("GET", f"/api/counters/{unique}", key=None) as resp:
        assert resp.status == 401


async def test_orchestration_signals_then_calls_the_entity(env, unique):
    await add(env, unique, 100)
    await env.settle()
    status, body, _ = await post_json(env, f"/api/orchestrators/{names.COUNTER_WORKFLOW}",
                                      {"key": unique, "increments": [1, 2, 3, 0]})
    assert status == 202

    result = await env.wait(body["id"])

    assert result["runtimeStatus"] == "Completed"
    assert result["output"] == {"key": unique, "signals": 4, "value": 106}
    assert await value_of(env, unique) == (200, {"key": unique, "value": 106})


async def test_workflow_input_is_validated(env):
    for body in ({"key": "k"}, {"key": "k", "increments": [True]}, {"key": "k", "increments": [1.0]},
                 {"key": "", "increments": []}):
        status, payload, _ = await post_json(env, f"/api/orchestrators/{names.COUNTER_WORKFLOW}", body)
        assert status == 400 and payload["error"], body
    assert await all_instances(env) == []


async def plant_state(env, key: str, state_text: str) -> None:
    """A stored state this version never writes: what an older version could leave on Azure (two
    adds of 2^53-1 used to store 2^54-2) or what an unreadable row looks like."""
    entity_id = entity_scheduler_id(names.COUNTER, key)
    await env.host.store.commit_entity_batch(EntityRecord(
        entity_id=entity_id, name=names.COUNTER.lower(), key=key, exists=True, state=state_text,
        last_modified=env.now()), [], [])


async def test_add_that_would_leave_the_safe_range_is_409_and_changes_nothing(env, unique):
    assert await add(env, unique, MAX_ABS_AMOUNT) == 202
    await env.settle()
    for amount in (MAX_ABS_AMOUNT, 1):
        status, body, _ = await post_json(env, f"/api/counters/{unique}/add", amount)
        assert status == 409 and "safe integer range" in body["error"] and body["key"] == unique
    assert await value_of(env, unique) == (200, {"key": unique, "value": MAX_ABS_AMOUNT})
    assert await add(env, unique, -MAX_ABS_AMOUNT) == 202
    assert await value_of(env, unique) == (200, {"key": unique, "value": 0})


async def test_entity_refuses_an_overflowing_add_that_passed_the_api_check(env, unique):
    """Two adds that each passed the route's check (concurrent requests) reach the entity: the
    entity's own check is the authoritative one; the refused add leaves the state untouched and
    the counter stays usable. (The extension keeps the state an out-of-process batch returns,
    ``TaskEntityShim.ExecuteOutOfProcBatch``, so the operation must not set it before failing.)"""
    for _ in range(2):
        await env.signal_entity(names.COUNTER, unique, names.COUNTER_ADD, {"amount": MAX_ABS_AMOUNT})
    assert await value_of(env, unique) == (200, {"key": unique, "value": MAX_ABS_AMOUNT})
    assert await add(env, unique, -1) == 202
    assert await value_of(env, unique) == (200, {"key": unique, "value": MAX_ABS_AMOUNT - 1})


@pytest.mark.parametrize("stored", [str(2**54 - 2), '"seven"', "{not json"])
async def test_a_state_that_fails_to_load_is_reported_and_reset_or_delete_recover_it(env, unique, stored):
    await plant_state(env, unique, stored)
    status, body = await value_of(env, unique)
    assert status == 409 and "reset or delete it" in body["error"] and body["key"] == unique
    assert "Traceback" not in body["error"] and "Exception" not in body["error"]
    status, body, _ = await post_json(env, f"/api/counters/{unique}/add", 1)
    assert status == 409 and "reset or delete it" in body["error"]

    status, _, _ = await post_json(env, f"/api/counters/{unique}/reset")
    assert status == 202
    assert await value_of(env, unique) == (200, {"key": unique, "value": 0})

    await plant_state(env, unique, stored)
    async with env.request("DELETE", f"/api/counters/{unique}") as resp:
        assert resp.status == 202
    assert (await value_of(env, unique))[0] == 404
    assert await add(env, unique, 3) == 202
    assert await value_of(env, unique) == (200, {"key": unique, "value": 3})


async def test_workflow_on_an_unreadable_counter_fails_with_a_clear_error(env, unique):
    await plant_state(env, unique, str(2**54 - 2))
    status, body, _ = await post_json(env, f"/api/orchestrators/{names.COUNTER_WORKFLOW}",
                                      {"key": unique, "increments": [1]})
    assert status == 202
    result = await env.wait(body["id"])
    assert result["runtimeStatus"] == "Failed" and "reset or delete it" in result["output"]


async def test_workflow_adds_that_would_overflow_are_refused_by_the_entity(env, unique):
    """Signals are one-way: the workflow cannot see a refusal, but the entity keeps the value in
    range and ``value`` reports what it holds after the signals."""
    status, body, _ = await post_json(env, f"/api/orchestrators/{names.COUNTER_WORKFLOW}",
                                      {"key": unique, "increments": [MAX_ABS_AMOUNT, MAX_ABS_AMOUNT, -5]})
    assert status == 202
    result = await env.wait(body["id"])
    assert result["output"] == {"key": unique, "signals": 3, "value": MAX_ABS_AMOUNT - 5}
