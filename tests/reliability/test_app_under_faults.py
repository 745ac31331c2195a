"""The app's patterns under injected faults give the same results as a clean run (issue 6 item 2).

Each scenario runs twice against the same Azurite: once clean, once with every fault the host can
inject (episodes crashing before their commit, every activity's worker crashing once, every
activity body run twice, every completion delivered twice). Outputs must be identical once the
instance ids are normalised, no instance may be lost, and history must never show a task
scheduled twice.
"""
from __future__ import annotations

import contextlib
import json
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from azure.core.exceptions import ResourceExistsError
from azure.storage.blob import BlobServiceClient

from app_common import names
from devhost.faults import FaultPlan
from devhost.protocol import EventType
from devhost.testing import DurableTestHost

ROOT = Path(__file__).resolve().parents[2]
ACTIVITIES = [value for key, value in vars(names).items() if key.isupper() and isinstance(value, str)
              and value[:1].isupper() and value not in (names.COUNTER, names.APPROVAL_EVENT)]
TOTALS: Counter[str] = Counter()


def _all_faults() -> FaultPlan:
    return FaultPlan(crash_before_commit=3, crash_activity={name: 1 for name in ACTIVITIES},
                     run_activity_twice=set(ACTIVITIES), duplicate_completions=True)


async def _post(env: DurableTestHost, path: str, body: Any) -> dict[str, Any]:
    async with env.request("POST", path, json=body) as response:
        assert response.status == 202, await response.text()
        return await response.json()


def _normalise(value: Any, instance_id: str) -> Any:
    return json.loads(json.dumps(value).replace(instance_id, "<instance>"))


async def _scenarios(env: DurableTestHost, tag: str, blob_service: BlobServiceClient) -> dict[str, Any]:
    """Run every pattern once; returns {scenario: (runtimeStatus, normalised output)}."""
    results: dict[str, Any] = {}
    started: dict[str, str] = {}
    order = {"order_id": f"rel-{tag}", "items": [{"sku": "A1", "quantity": 2, "unit_price": 3.5},
                                                 {"sku": "B2", "quantity": 1, "unit_price": 10}]}
    started["chaining"] = (await _post(env, "/api/orchestrators/chaining", order))["id"]
    failing = {"order_id": f"rel-fail-{tag}", "items": [{"sku": "A1", "quantity": 500, "unit_price": 1}]}
    started["chaining-compensated"] = (await _post(env, "/api/orchestrators/chaining", failing))["id"]
    container = blob_service.get_container_client("input")
    with contextlib.suppress(ResourceExistsError):  # (the app's activities create it too)
        container.create_container()
    for i in range(20):
        container.upload_blob(f"rel-{tag}/{i:02d}.txt", b"x" * (100 + i), overwrite=True)
    started["fan-out"] = (await _post(env, "/api/orchestrators/fan_out_fan_in",
                                      {"container": "input", "prefix": f"rel-{tag}/"}))["id"]
    started["counter"] = (await _post(env, "/api/orchestrators/counter_workflow",
                                      {"key": f"rel-{tag}", "increments": [1, 2, 3, 4]}))["id"]
    started["async-job"] = (await _post(env, "/api/jobs", {"job": "stats", "items": [1, 2, 3, 10]}))["id"]
    jobs = blob_service.get_container_client("jobs")
    with contextlib.suppress(ResourceExistsError):  # (the async job started above may be creating it)
        jobs.create_container()
    jobs.upload_blob(f"rel-{tag}/status", json.dumps({"status": "Completed"}).encode(), overwrite=True)
    started["monitor"] = (await _post(env, f"/api/monitors/rel-{tag}",
                                      {"polling_interval_seconds": 60, "expiry_seconds": 600}))["id"]
    approval = (await _post(env, "/api/approvals", {"request": {"item": "laptop"}, "timeout_hours": 2}))["id"]
    await env.wait_for_custom_status(approval, lambda s: isinstance(s, dict) and s.get("state") == "waiting")
    async with env.request("POST", f"/api/approvals/{approval}", json={"approved": True, "approver": "ann"}) as r:
        assert r.status == 202, await r.text()
    started["approval"] = approval
    for scenario, instance_id in started.items():
        status = await env.wait(instance_id, timeout=60)
        output = status["output"]
        results[scenario] = (status["runtimeStatus"], _normalise(output, instance_id))
        history = await env.history(instance_id)
        scheduled = Counter(e["EventId"] for e in history if e["EventType"] == EventType.TaskScheduled)
        assert all(n == 1 for n in scheduled.values()), (scenario, scheduled)
    return results


async def test_every_pattern_gives_the_same_result_under_faults(azurite):
    tag = uuid.uuid4().hex[:8]
    with BlobServiceClient.from_connection_string(azurite) as blob_service:
        async with DurableTestHost.start_time_skipping(ROOT) as env:
            clean = await _scenarios(env, tag, blob_service)
        faults = _all_faults()
        async with DurableTestHost.start_time_skipping(ROOT, faults=faults) as env:
            faulted = await _scenarios(env, tag, blob_service)
    TOTALS.update(faults.injected)
    print(f"\nfaults injected: {dict(faults.injected)}; instances: {len(clean)} clean + {len(faulted)} faulted; lost: 0")
    assert clean["chaining"][0] == "Completed" and clean["chaining-compensated"][0] == "Failed"
    assert faulted == clean
    assert sum(faults.injected.values()) >= 20
