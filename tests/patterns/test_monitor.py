"""Monitor: alerts when the status blob flips to Completed, expires otherwise, bounded history."""
from __future__ import annotations

import json
from datetime import timedelta

from app_common.settings import jobs_container
from orchestrators.monitor import POLLS_PER_EXECUTION
from tests.blobs import read_json_blob

from .conftest import all_instances, get_json, post_json


def write_status(blob_service, job_id: str, status: str) -> None:
    container = blob_service.get_container_client(jobs_container())
    if not container.exists():
        container.create_container()
    container.upload_blob(f"{job_id}/status", json.dumps({"status": status}), overwrite=True)


async def test_monitor_alerts_when_the_job_completes(env, blob_service, unique):
    job_id = f"job-{unique}"
    write_status(blob_service, job_id, "Running")
    status, body, headers = await post_json(env, f"/api/monitors/{job_id}",
                                            {"polling_interval_seconds": 30, "expiry_seconds": 3600})
    assert status == 202 and body["id"] == f"monitor-{job_id}"
    assert headers["Location"] == f"/api/monitors/{job_id}"

    await env.wait_for_custom_status(body["id"], lambda s: s and s["polls"] >= 1 and s["last_status"] == "Running")
    write_status(blob_service, job_id, "Completed")
    result = await env.wait(body["id"])

    assert result["runtimeStatus"] == "Completed"
    assert result["output"]["outcome"] == "completed" and result["output"]["last_status"] == "Completed"
    assert result["output"]["alert_blob"] == f"{jobs_container()}/{job_id}/alert"
    alert = read_json_blob(blob_service, jobs_container(), f"{job_id}/alert")
    assert alert["job_id"] == job_id and alert["status"] == "Completed"
    status, progress, _ = await get_json(env, f"/api/monitors/{job_id}")
    assert status == 200 and progress["runtimeStatus"] == "Completed" and progress["customStatus"]["phase"] == "done"


async def test_monitor_expires_with_bounded_history(env, blob_service, unique):
    job_id = f"job-{unique}"  # no status blob, ever
    started_at = env.now()
    status, body, _ = await post_json(env, f"/api/monitors/{job_id}",
                                      {"polling_interval_seconds": 30, "expiry_seconds": 3600})
    assert status == 202

    result = await env.wait(body["id"], timeout=60)

    assert result["runtimeStatus"] == "Completed"
    assert result["output"] == {"job_id": job_id, "outcome": "expired", "polls": 3600 // 30 + 1,
                                "last_status": "NotFound", "alert_blob": None}
    assert env.now() - started_at >= timedelta(seconds=3600)
    assert result["customStatus"]["generation"] == (3600 // 30) // POLLS_PER_EXECUTION
    # 121 polls in one execution would be ~600 history events; continue-as-new keeps each small.
    history = await env.history(body["id"])
    assert 0 < len(history) <= 8 * POLLS_PER_EXECUTION, len(history)
    assert not blob_service.get_blob_client(jobs_container(), f"{job_id}/alert").exists()


async def test_second_start_while_running_is_409(env, unique):
    job_id = f"job-{unique}"
    status, first, _ = await post_json(env, f"/api/monitors/{job_id}", {"expiry_seconds": 120})
    assert status == 202
    await env.wait_for_status(first["id"], "Running")

    status, body, _ = await post_json(env, f"/api/monitors/{job_id}")
    assert status == 409 and "already" in body["error"]

    await env.wait(first["id"])  # expires; a new monitor for the same job may start again
    status, _, _ = await post_json(env, f"/api/monitors/{job_id}", {"expiry_seconds": 60})
    assert status == 202


async def test_monitor_watches_a_job_started_through_the_async_api(env, blob_service):
    status, job, _ = await post_json(env, "/api/jobs", {"job": "watched", "items": [2, 4], "duration_seconds": 300})
    assert status == 202
    status, monitor, _ = await post_json(env, f"/api/monitors/{job['id']}", {"polling_interval_seconds": 60})
    assert status == 202

    result = await env.wait(monitor["id"])

    assert result["output"]["outcome"] == "completed" and result["output"]["polls"] >= 5
    assert read_json_blob(blob_service, jobs_container(), f"{job['id']}/alert")["status"] == "Completed"


async def test_bad_requests_are_400_and_unknown_is_404(env, unique):
    for body in ({"polling_interval_seconds": 0}, {"polling_interval_seconds": True}, {"expiry_seconds": 1.5},
                 {"expiry_seconds": "60"}, {"interval": 5}, [1]):
        status, payload, _ = await post_json(env, f"/api/monitors/job-{unique}", body)
        assert status == 400 and payload["error"], body
    status, _, _ = await post_json(env, "/api/monitors/bad%20id!", {})
    assert status == 400
    assert await all_instances(env) == []
    status, payload, _ = await get_json(env, f"/api/monitors/job-{unique}")
    assert status == 404 and payload["error"]
