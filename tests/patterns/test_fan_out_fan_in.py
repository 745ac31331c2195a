"""Fan-out/fan-in over real blobs in Azurite: count, total bytes and the summary blob."""
from __future__ import annotations

import hashlib
import random
from concurrent.futures import ThreadPoolExecutor

import pytest

from app_common import names
from app_common.settings import input_container, results_container
from tests.blobs import read_json_blob

from .conftest import all_instances, post_json

START = f"/api/orchestrators/{names.FAN_OUT_FAN_IN}"


def upload_blobs(blob_service, container: str, prefix: str, count: int, seed: int) -> dict[str, bytes]:
    rng = random.Random(seed)
    blobs = {f"{prefix}{i:04d}.bin": rng.randbytes(rng.randint(0, 2048)) for i in range(count)}
    container_client = blob_service.get_container_client(container)
    if not container_client.exists():
        container_client.create_container()
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda item: container_client.upload_blob(item[0], item[1], overwrite=True), blobs.items()))
    return blobs


@pytest.mark.parametrize("count", [0, 3, 300])
async def test_fan_out_over_blobs_aggregates_count_and_bytes(env, blob_service, unique, count):
    container, prefix = f"fanout-{unique}", f"batch-{count}/"
    blobs = upload_blobs(blob_service, container, prefix, count, seed=count)
    upload_blobs(blob_service, container, "elsewhere/", 2, seed=99)  # outside the prefix: ignored

    status, body, _ = await post_json(env, START, {"container": container, "prefix": prefix})
    assert status == 202
    result = await env.wait(body["id"], timeout=60)

    assert result["runtimeStatus"] == "Completed", result
    expected_bytes = sum(len(data) for data in blobs.values())
    summary_blob = f"summaries/{body['id']}.json"
    assert result["output"] == {"container": container, "prefix": prefix, "blob_count": count,
                                "total_bytes": expected_bytes,
                                "summary_blob": f"{results_container()}/{summary_blob}"}
    summary = read_json_blob(blob_service, results_container(), summary_blob)
    assert summary["blob_count"] == count and summary["total_bytes"] == expected_bytes
    assert summary["instance_id"] == body["id"]
    assert {b["name"]: (b["size"], b["sha256"]) for b in summary["blobs"]} == {
        name: (len(data), hashlib.sha256(data).hexdigest()) for name, data in blobs.items()}


async def test_container_defaults_to_input_container(env, blob_service, unique):
    prefix = f"default-{unique}/"
    blobs = upload_blobs(blob_service, input_container(), prefix, 3, seed=1)

    instance_id = await env.start(names.FAN_OUT_FAN_IN, {"prefix": prefix})
    result = await env.wait(instance_id)

    assert result["output"]["container"] == input_container()
    assert result["output"]["blob_count"] == 3
    assert result["output"]["total_bytes"] == sum(len(d) for d in blobs.values())


async def test_missing_container_counts_as_no_blobs(env, unique):
    instance_id = await env.start(names.FAN_OUT_FAN_IN, {"container": f"absent-{unique}", "prefix": ""})
    result = await env.wait(instance_id)
    assert result["runtimeStatus"] == "Completed"
    assert (result["output"]["blob_count"], result["output"]["total_bytes"]) == (0, 0)


@pytest.mark.parametrize("body", [
    {"container": "Bad_Name", "prefix": ""},
    {"container": 5, "prefix": ""},
    {"container": "ok-name", "prefix": None},
    {"container": "ok-name", "prefix": "", "recursive": True},
])
async def test_invalid_input_is_rejected(env, body):
    status, payload, _ = await post_json(env, START, body)
    assert status == 400 and payload["error"]
    assert await all_instances(env) == []
