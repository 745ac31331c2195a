"""Fan-out/fan-in activities: ListBlobs, ProcessBlob (one per blob), WriteSummary."""
from __future__ import annotations

import hashlib

from app_common import blueprints, names, settings, storage
from app_common.payloads.fan_out_fan_in import (
    MAX_BLOBS,
    BlobListing,
    BlobStats,
    FanOutInput,
    FanOutSummary,
    ProcessBlobInput,
    SummaryInput,
)
from app_common.registration import activity
from app_common.validation import JsonDict

bp = blueprints.fan_out_fan_in


class TooManyBlobsError(ValueError):
    pass


def summary_name(instance_id: str) -> str:
    return f"summaries/{instance_id}.json"


@activity(bp, names.LIST_BLOBS)
def list_blobs(payload: dict) -> JsonDict:
    request = FanOutInput.from_json(payload)
    container = request.container or settings.input_container()
    found = storage.list_blob_names(container, request.prefix)
    if len(found) > MAX_BLOBS:
        raise TooManyBlobsError(f"{len(found)} blobs under '{request.prefix}' (at most {MAX_BLOBS}); "
                                "use a narrower prefix")
    return BlobListing(container, tuple(found)).to_json()


@activity(bp, names.PROCESS_BLOB)
def process_blob(payload: dict) -> JsonDict:
    """Streams the blob once: its size and SHA-256."""
    request = ProcessBlobInput.from_json(payload)
    digest = hashlib.sha256()
    size = 0
    for chunk in storage.iter_blob_chunks(request.container, request.name):
        digest.update(chunk)
        size += len(chunk)
    return BlobStats(request.name, size, digest.hexdigest()).to_json()


@activity(bp, names.WRITE_SUMMARY)
def write_summary(payload: dict) -> JsonDict:
    request = SummaryInput.from_json(payload)
    results_container = settings.results_container()
    name = summary_name(request.instance_id)
    summary = FanOutSummary(request.container, request.prefix, len(request.blobs),
                            sum(b.size for b in request.blobs), f"{results_container}/{name}")
    storage.upload_json(results_container, name, {**summary.to_json(), "instance_id": request.instance_id,
                                                  "blobs": [b.to_json() for b in request.blobs]})
    return summary.to_json()
