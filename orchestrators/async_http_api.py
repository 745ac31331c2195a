"""Async HTTP API: the background work behind POST /api/jobs. It publishes its progress to the
job's status blob, so ``monitor_job_status`` can watch a job started here."""
from __future__ import annotations

from collections.abc import Generator
from datetime import timedelta
from typing import Any

import azure.durable_functions as df

from app_common import blueprints, names
from app_common.orchestration import RETRY, failure_message
from app_common.payloads.async_http_api import JobInput, JobResult, JobStatusUpdate
from app_common.registration import orchestrator
from app_common.validation import JsonDict


class JobFailedError(Exception):
    pass


@orchestrator(blueprints.async_http_api, names.ASYNC_JOB)
def async_job(context: df.DurableOrchestrationContext) -> Generator[Any, Any, JsonDict]:
    job = JobInput.from_json(context.get_input())
    job_id = context.instance_id
    yield context.call_activity_with_retry(names.PUBLISH_JOB_STATUS, RETRY,
                                           JobStatusUpdate(job_id, "Running").to_json())
    if job.duration_seconds:
        yield context.create_timer(context.current_utc_datetime + timedelta(seconds=job.duration_seconds))
    try:
        result = JobResult.from_json((yield context.call_activity(names.RUN_JOB, job.to_json())))
    except Exception as exc:  # noqa: BLE001 - the SDK raises a bare Exception for a failed task
        message = failure_message(exc)
        yield context.call_activity_with_retry(names.PUBLISH_JOB_STATUS, RETRY,
                                               JobStatusUpdate(job_id, "Failed", error=message).to_json())
        raise JobFailedError(message) from None
    yield context.call_activity_with_retry(names.PUBLISH_JOB_STATUS, RETRY,
                                           JobStatusUpdate(job_id, "Completed", result.to_json()).to_json())
    return result.to_json()
