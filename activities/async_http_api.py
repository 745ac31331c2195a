"""Async HTTP API activities: RunJob (the work) and PublishJobStatus (the job's status blob)."""
from __future__ import annotations

from app_common import blueprints, names, settings, storage
from app_common.payloads.async_http_api import JobInput, JobResult, JobStatusUpdate
from app_common.registration import activity
from app_common.validation import JsonDict

bp = blueprints.async_http_api


class JobFailedError(RuntimeError):
    pass


def status_blob_name(job_id: str) -> str:
    return f"{job_id}/status"


@activity(bp, names.RUN_JOB)
def run_job(payload: dict) -> JsonDict:
    job = JobInput.from_json(payload)
    if job.simulate_failure:
        raise JobFailedError(f"job '{job.job}' failed: simulated failure requested by the input")
    items = job.items
    total = sum(items)
    return JobResult(job=job.job, count=len(items), total=total, mean=total / len(items) if items else None,
                     minimum=min(items, default=None), maximum=max(items, default=None)).to_json()


@activity(bp, names.PUBLISH_JOB_STATUS)
def publish_job_status(payload: dict) -> JsonDict:
    update = JobStatusUpdate.from_json(payload)
    storage.upload_json(settings.jobs_container(), status_blob_name(update.job_id), update.to_json())
    return update.to_json()
