"""Async HTTP API routes: ``POST /api/jobs`` and ``GET /api/jobs/{id}``.

Status codes of GET: 202 while Pending/Running (with Location and Retry-After), 200 with the
output when Completed, 500 ``{"error", "status": "Failed"}`` when the job failed, 410 when it
was terminated or canceled, 404 for an id that is not a job. No management URLs, no keys.
"""
from __future__ import annotations

import azure.durable_functions as df
import azure.functions as func

from app_common import blueprints, names
from app_common.http import API_PREFIX, accepted, error, json_response, looks_like_id, read_json
from app_common.payloads.async_http_api import JobInput
from app_common.registration import client_route
from app_common.validation import ValidationError

bp = blueprints.async_http_api


def job_location(job_id: str) -> str:
    return f"{API_PREFIX}/jobs/{job_id}"


@client_route(bp, "start_job", "jobs", ["POST"])
async def start_job(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    try:
        job = JobInput.from_json(read_json(req))
    except ValidationError as exc:
        return error(400, str(exc))
    job_id = await client.start_new(names.ASYNC_JOB, None, job.to_json())
    return accepted({"id": job_id, "status": "Pending", "statusUri": job_location(job_id)}, job_location(job_id))


@client_route(bp, "get_job", "jobs/{jobId}", ["GET"])
async def get_job(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    job_id = req.route_params.get("jobId", "")
    status = await client.get_status(job_id) if looks_like_id(job_id) else None
    if not status or (status.name or "").lower() != names.ASYNC_JOB:
        return error(404, f"no job '{job_id}'")
    runtime_status = status.runtime_status.value if status.runtime_status else "Pending"
    if runtime_status == "Completed":
        return json_response({"id": job_id, "status": runtime_status, "output": status.output})
    if runtime_status == "Failed":
        reason = str(status.output or "job failed").splitlines()[0]
        return error(500, reason, status=runtime_status, id=job_id)
    if runtime_status in ("Terminated", "Canceled"):
        return error(410, f"job was {runtime_status.lower()}", status=runtime_status, id=job_id)
    return accepted({"id": job_id, "status": runtime_status, "statusUri": job_location(job_id)},
                    job_location(job_id))
