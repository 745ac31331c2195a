"""Human interaction: approve, reject, time out (72 h of virtual time), and the 404/409/400/401 cases."""
from __future__ import annotations

import asyncio
from datetime import timedelta

import aiohttp

from app_common import approval_claims, names
from app_common.payloads.human_interaction import DecisionClaim
from app_common.settings import results_container
from devhost.faults import FaultPlan
from devhost.scheduler import RuntimeOptions
from devhost.testing import DurableTestHost
from tests.blobs import read_json_blob

from .conftest import WEBHOOKS, all_instances, assert_no_system_key, get_json, post_json

REQUEST = {"title": "New laptop", "amount": 1800}


def waiting(custom: object) -> bool:
    return isinstance(custom, dict) and custom.get("state") == "waiting"


async def start(env, **extra) -> str:
    status, body, headers = await post_json(env, "/api/approvals", {"request": REQUEST, **extra})
    assert status == 202, body
    assert headers["Location"] == f"/api/approvals/{body['id']}"
    assert_no_system_key(env, status, body, headers)
    await env.wait_for_custom_status(body["id"], waiting)
    return body["id"]


async def test_approve(env, blob_service):
    started_at = env.now()
    instance_id = await start(env)

    status, body, headers = await post_json(env, f"/api/approvals/{instance_id}",
                                            {"approved": True, "approver": "alice"})
    assert status == 202
    assert_no_system_key(env, status, body, headers)
    result = await env.wait(instance_id)

    assert result["output"]["outcome"] == "approved" and result["output"]["approver"] == "alice"
    # The timer was cancelled: completing did not have to skip the 72 hours.
    assert env.now() - started_at < timedelta(hours=1)
    record = read_json_blob(blob_service, results_container(), f"approvals/{instance_id}/decision.json")
    assert record["approved"] is True and record["request"] == REQUEST
    assert read_json_blob(blob_service, results_container(), f"approvals/{instance_id}/request.json")["request"] == REQUEST
    status, body, _ = await get_json(env, f"/api/approvals/{instance_id}")
    assert status == 200 and body["runtimeStatus"] == "Completed" and body["state"] == "approved"


async def test_reject(env):
    instance_id = await start(env, timeout_hours=1)
    status, _, _ = await post_json(env, f"/api/approvals/{instance_id}", {"approved": False, "approver": "bob"})
    assert status == 202
    result = await env.wait(instance_id)
    assert result["output"]["outcome"] == "rejected" and result["output"]["approver"] == "bob"


async def test_timeout_escalates_after_72_hours_of_virtual_time(env, blob_service):
    started_at = env.now()
    instance_id = await start(env)  # no timeout_hours: APPROVAL_TIMEOUT_HOURS, default 72

    result = await env.wait(instance_id)

    assert env.now() - started_at >= timedelta(hours=72)
    assert env.clock.skipped > timedelta(hours=72) - timedelta(minutes=1)  # skipped, not waited
    assert result["output"]["outcome"] == "escalated" and result["output"]["note"] == "no decision within 72 hours"
    assert read_json_blob(blob_service, results_container(), f"approvals/{instance_id}/escalation.json")["timeout_hours"] == 72
    status, body, _ = await post_json(env, f"/api/approvals/{instance_id}", {"approved": True, "approver": "late"})
    assert status == 409 and body["status"] == "Completed"


async def test_duplicate_decision_is_409(env):
    instance_id = await start(env)
    status, _, _ = await post_json(env, f"/api/approvals/{instance_id}", {"approved": True, "approver": "alice"})
    assert status == 202
    await env.wait_for_custom_status(instance_id, lambda s: not waiting(s))  # decided, possibly still running

    status, body, _ = await post_json(env, f"/api/approvals/{instance_id}", {"approved": False, "approver": "eve"})
    assert status == 409 and body["state"] == "approved"
    result = await env.wait(instance_id)
    assert result["output"]["approver"] == "alice"


async def test_unknown_instance_is_404(env, unique):
    status, body, _ = await post_json(env, f"/api/approvals/{unique}", {"approved": True, "approver": "a"})
    assert status == 404 and body["error"]
    # An instance of another orchestrator is not an approval.
    other = await env.start(names.FAN_OUT_FAN_IN, {"container": f"none-{unique}"})
    await env.wait(other)
    status, _, _ = await post_json(env, f"/api/approvals/{other}", {"approved": True, "approver": "a"})
    assert status == 404
    status, _, _ = await get_json(env, f"/api/approvals/{unique}")
    assert status == 404


async def test_bad_bodies_are_400(env):
    instance_id = await start(env)
    for body in ({"approved": "yes", "approver": "a"}, {"approved": 1, "approver": "a"}, {"approved": True},
                 {"approver": "a"}, {"approved": True, "approver": ""}, True, None):
        status, payload, _ = await post_json(env, f"/api/approvals/{instance_id}",
                                             raw=b"" if body is None else None, body=body)
        assert status == 400 and payload["error"], body
    status, _, _ = await post_json(env, f"/api/approvals/{instance_id}", raw=b"{oops")
    assert status == 400
    assert waiting((await env.status(instance_id))["customStatus"])  # nothing was delivered
    for body in ({"request": "not an object"}, {"request": {}, "timeout_hours": 0}, {"request": {}, "timeout_hours": True},
                 {"timeout_hours": 1}, {"request": {}, "extra": 1}):
        status, payload, _ = await post_json(env, "/api/approvals", body)
        assert status == 400 and payload["error"], body
    assert len(await all_instances(env)) == 1


async def test_missing_key_is_401(env):
    instance_id = await start(env)
    for method, path in (("POST", "/api/approvals"), ("POST", f"/api/approvals/{instance_id}"),
                         ("GET", f"/api/approvals/{instance_id}")):
        async with env.request(method, path, key=None, json={"approved": True, "approver": "x"}) as resp:
            assert resp.status == 401
        async with env.request(method, path, key="wrong-key", json={"approved": True, "approver": "x"}) as resp:
            assert resp.status == 401


async def test_builtin_raise_event_with_body_true_approves(env):
    instance_id = await start(env)
    async with env.request("POST", f"{WEBHOOKS}/instances/{instance_id}/raiseEvent/{names.APPROVAL_EVENT}",
                           key="system", data=b"true", headers={"Content-Type": "application/json"}) as resp:
        assert resp.status == 202
    result = await env.wait(instance_id)
    assert result["output"]["outcome"] == "approved" and result["output"]["approver"] is None


async def test_event_as_object_or_double_encoded_string(env):
    first = await start(env)
    await env.raise_event(first, names.APPROVAL_EVENT, {"approved": False, "approver": "raw-object"})
    second = await start(env)
    # What the Python client's raise_event delivers (SDK issue #295): the JSON text as a string.
    await env.raise_event(second, names.APPROVAL_EVENT, '{"approved": true, "approver": "as-string"}')
    assert (await env.wait(first))["output"]["outcome"] == "rejected"
    assert (await env.wait(second))["output"]["approver"] == "as-string"


async def test_unreadable_event_is_treated_as_rejection(env):
    instance_id = await start(env)
    await env.raise_event(instance_id, names.APPROVAL_EVENT, "maybe?")
    result = await env.wait(instance_id)
    assert result["output"]["outcome"] == "rejected" and "unreadable decision" in result["output"]["note"]


# ---------------------------------------------------------------- decision contract (issue 12 item 5)
async def decide(env, instance_id: str, approver: str, approved: bool = True, *, own_session: bool = False):
    body = {"approved": approved, "approver": approver}
    if not own_session:
        return await post_json(env, f"/api/approvals/{instance_id}", body)
    async with aiohttp.ClientSession(base_url=env.base_url) as session, \
            session.post(f"/api/approvals/{instance_id}", json=body, headers=env.auth_headers) as resp:
        return resp.status, await resp.json(), dict(resp.headers)


async def test_second_decision_right_after_the_first_is_409_and_names_the_one_that_counted(env):
    instance_id = await start(env)
    assert (await decide(env, instance_id, "alice"))[0] == 202
    status, body, _ = await decide(env, instance_id, "eve", approved=False)  # before the orchestrator ran

    assert status == 409 and body["error"]
    assert body.get("decision", {"outcome": body["state"]})["outcome"] == "approved"
    result = await env.wait(instance_id)
    assert result["output"]["approver"] == "alice" and result["output"]["note"] is None


async def test_concurrent_decisions_exactly_one_counts_and_the_others_get_409(env):
    instance_id = await start(env)
    approvers = [f"approver-{i}" for i in range(6)]

    answers = await asyncio.gather(*(decide(env, instance_id, a, approved=i % 2 == 0, own_session=True)
                                     for i, a in enumerate(approvers)))

    accepted = [approvers[i] for i, (status, _, _) in enumerate(answers) if status == 202]
    assert len(accepted) == 1, answers
    assert sorted(status for status, _, _ in answers) == [202] + [409] * 5
    for status, body, _ in answers:
        if status == 409:
            assert body["error"] and body.get("decision", {}).get("approver", accepted[0]) == accepted[0]
    result = await env.wait(instance_id)
    assert result["output"]["approver"] == accepted[0] and result["output"]["note"] is None


async def test_decision_before_the_orchestrator_first_runs_is_accepted_and_applied(azurite):
    """On Azure a start can take seconds. The extension accepts an event for a Pending instance
    (``DurableClient.cs``: ``IsOrchestrationRunning`` is Running, Suspended, Pending or
    ContinuedAsNew) and the SDK's ``wait_for_external_event`` takes an already-received event, so
    an early decision is accepted, not refused. Here the first episode keeps crashing before its
    commit (the instance stays Pending) until the decision has been delivered."""
    faults = FaultPlan(crash_before_commit=10**9)
    async with DurableTestHost.start_time_skipping(".", faults=faults,
                                                   options=RuntimeOptions(poison_attempts=10**9)) as env:
        status, body, _ = await post_json(env, "/api/approvals", {"request": REQUEST})
        instance_id = body["id"]
        assert (await env.status(instance_id))["runtimeStatus"] == "Pending"

        status, body, _ = await decide(env, instance_id, "early-bird")
        assert status == 202, body
        assert (await env.status(instance_id))["runtimeStatus"] == "Pending"
        faults.crash_before_commit = 0

        result = await env.wait(instance_id)
        assert result["output"]["outcome"] == "approved" and result["output"]["approver"] == "early-bird"


async def test_a_claimed_decision_whose_delivery_was_cut_off_is_delivered_by_the_next_request(env):
    """The route claims, then raises the event; if it dies in between (Azure recycles workers),
    the next decision request finds the claim, answers 409 naming it, and delivers it."""
    instance_id = await start(env)
    approval_claims.claim(instance_id, DecisionClaim("rejected", "alice"))  # the cut-off request

    status, body, _ = await decide(env, instance_id, "bob")
    assert status == 409 and body["decision"] == {"outcome": "rejected", "approver": "alice"}
    result = await env.wait(instance_id)
    assert result["output"]["outcome"] == "rejected" and result["output"]["approver"] == "alice"


async def test_a_decision_that_loses_to_the_timeout_is_recorded_as_superseded(env, blob_service):
    """A decision claimed as the timer fired (its event arrives after the orchestrator chose the
    timeout) does not disappear: Escalate finds its claim and records it."""
    instance_id = await start(env, timeout_hours=1)
    approval_claims.claim(instance_id, DecisionClaim("approved", "late-larry"))  # never delivered in time

    result = await env.wait(instance_id)

    assert result["output"]["outcome"] == "escalated"
    assert "superseded: a decision (approved by late-larry)" in result["output"]["note"]
    record = read_json_blob(blob_service, results_container(), f"approvals/{instance_id}/escalation.json")
    assert record["superseded"] == {"outcome": "approved", "approver": "late-larry"}
    status, body, _ = await decide(env, instance_id, "anyone")
    assert status == 409 and body["status"] == "Completed"
