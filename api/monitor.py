"""Monitor routes: ``POST /api/monitors/{jobId}`` starts the singleton ``monitor-{jobId}``
(409 while one is active), ``GET /api/monitors/{jobId}`` reports its progress."""
from __future__ import annotations

import azure.durable_functions as df
import azure.functions as func

from app_common import blueprints, names
from app_common.http import API_PREFIX, accepted, error, json_response, read_json
from app_common.payloads.monitor import MonitorInput, MonitorRequest
from app_common.registration import client_route
from app_common.validation import SAFE_ID, ValidationError

bp = blueprints.monitor

ACTIVE = frozenset({"Pending", "Running", "ContinuedAsNew", "Suspended"})


def monitor_instance_id(job_id: str) -> str:
    return f"monitor-{job_id}"


def monitor_location(job_id: str) -> str:
    return f"{API_PREFIX}/monitors/{job_id}"


async def _active_status(client: df.DurableOrchestrationClient, instance_id: str) -> str | None:
    status = await client.get_status(instance_id)
    runtime_status = status.runtime_status.value if status and status.runtime_status else None
    return runtime_status if runtime_status in ACTIVE else None


@client_route(bp, "start_monitor", "monitors/{jobId}", ["POST"])
async def start_monitor(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    job_id = req.route_params.get("jobId", "")
    if not SAFE_ID.fullmatch(job_id):
        return error(400, f"invalid job id (allowed: {SAFE_ID.pattern})")
    try:
        body = read_json(req, optional=True)
        request = MonitorRequest.from_json({} if body is None else body)
    except ValidationError as exc:
        return error(400, str(exc))
    instance_id = monitor_instance_id(job_id)
    if active := await _active_status(client, instance_id):
        return error(409, f"a monitor for job '{job_id}' is already {active}", id=instance_id)
    try:
        await client.start_new(names.MONITOR_JOB_STATUS, instance_id, MonitorInput.first(job_id, request).to_json())
    except Exception:
        # Lost a race with a concurrent start: the host refuses to replace an active instance.
        if active := await _active_status(client, instance_id):
            return error(409, f"a monitor for job '{job_id}' is already {active}", id=instance_id)
        raise
    return accepted({"id": instance_id, "job_id": job_id, "statusUri": monitor_location(job_id)},
                    monitor_location(job_id))


@client_route(bp, "get_monitor", "monitors/{jobId}", ["GET"])
async def get_monitor(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    job_id = req.route_params.get("jobId", "")
    status = await client.get_status(monitor_instance_id(job_id)) if SAFE_ID.fullmatch(job_id) else None
    if not status:
        return error(404, f"no monitor for job '{job_id}'")
    return json_response({"id": status.instance_id, "job_id": job_id,
                          "runtimeStatus": status.runtime_status.value if status.runtime_status else None,
                          "customStatus": status.custom_status, "output": status.output})
