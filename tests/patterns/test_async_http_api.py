"""Async HTTP API: 202 + Location/Retry-After while running, 200 when done, mapped failures."""
from __future__ import annotations

from app_common import names
from app_common.settings import jobs_container
from tests.blobs import read_json_blob

from .conftest import all_instances, assert_no_system_key, get_json, post_json


async def test_job_is_202_while_running_then_200_with_output(env, blob_service):
    status, body, headers = await post_json(env, "/api/jobs", {"job": "stats", "items": [1, 2, 3, 4.5],
                                                               "duration_seconds": 600})
    assert status == 202
    job_id = body["id"]
    assert headers["Location"] == f"/api/jobs/{job_id}" == body["statusUri"]
    assert int(headers["Retry-After"]) > 0
    assert_no_system_key(env, status, body, headers)

    await env.wait_for_status(job_id, "Running")  # sitting on its 10-minute timer: time is not skipped
    status, body, headers = await get_json(env, f"/api/jobs/{job_id}")
    assert status == 202 and body["status"] == "Running"
    assert headers["Location"] == f"/api/jobs/{job_id}" and int(headers["Retry-After"]) > 0
    assert_no_system_key(env, status, body, headers)

    await env.wait(job_id)
    status, body, headers = await get_json(env, headers["Location"])
    assert status == 200
    assert body == {"id": job_id, "status": "Completed", "output": {
        "job": "stats", "count": 4, "total": 10.5, "mean": 2.625, "minimum": 1, "maximum": 4.5}}
    assert_no_system_key(env, status, body, headers)
    published = read_json_blob(blob_service, jobs_container(), f"{job_id}/status")
    assert published["status"] == "Completed" and published["result"] == body["output"]


async def test_failed_job_maps_to_500_with_the_reason(env, blob_service):
    status, body, _ = await post_json(env, "/api/jobs", {"job": "doomed", "items": [1], "simulate_failure": True})
    assert status == 202
    job_id = body["id"]
    await env.wait(job_id)

    status, body, headers = await get_json(env, f"/api/jobs/{job_id}")

    assert status == 500
    assert body["status"] == "Failed" and body["id"] == job_id
    assert "simulated failure requested by the input" in body["error"] and "Traceback" not in body["error"]
    assert_no_system_key(env, status, body, headers)
    published = read_json_blob(blob_service, jobs_container(), f"{job_id}/status")
    assert published["status"] == "Failed" and "simulated failure" in published["error"]


async def test_unknown_job_and_other_instances_are_404(env, unique):
    status, body, _ = await get_json(env, f"/api/jobs/{unique}")
    assert status == 404 and body["error"]
    # An instance of another orchestrator is not a job.
    other = await env.start(names.FAN_OUT_FAN_IN, {"container": f"none-{unique}", "prefix": ""})
    await env.wait(other)
    status, _, _ = await get_json(env, f"/api/jobs/{other}")
    assert status == 404


async def test_bad_job_bodies_are_400_and_start_nothing(env):
    for raw in (b"{not json", b"", b"[1, 2]", b'{"job": "x", "items": [1, NaN]}',
                b'{"job": "x", "items": [true]}', b'{"job": "x"}', b'{"job": 3, "items": []}',
                b'{"job": "x", "items": [], "simulate_failure": 1}', b'{"job": "x", "items": [], "duration_seconds": -1}'):
        status, body, headers = await post_json(env, "/api/jobs", raw=raw)
        assert status == 400, raw
        assert body["error"]
        assert_no_system_key(env, status, body, headers)
    assert await all_instances(env) == []


async def test_routes_require_the_function_key(env):
    async with env.request("POST", "/api/jobs", key=None, json={"job": "x", "items": []}) as resp:
        assert resp.status == 401
    async with env.request("GET", "/api/jobs/abc", key=None) as resp:
        assert resp.status == 401
