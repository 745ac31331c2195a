"""Generic starter: ``POST /api/orchestrators/{functionName}``.

The one route that answers with the extension's check-status payload, i.e. management URLs
carrying the system key (terminate, raise any event, purge). Give its caller's key only to
operators. Each startable orchestrator's input is validated before anything is started.
"""
from __future__ import annotations

from typing import Any

import azure.durable_functions as df
import azure.functions as func

from app_common import blueprints, names, settings
from app_common.http import error, read_json
from app_common.payloads import STARTABLE
from app_common.payloads.base import Payload
from app_common.payloads.human_interaction import ApprovalStartRequest
from app_common.registration import client_route
from app_common.validation import JsonDict, ValidationError

# Known, but started only by their own route (singleton id / settings-derived defaults).
OWN_ROUTE = {
    names.MONITOR_JOB_STATUS: "POST /api/monitors/{jobId}",
}


def _orchestrator_input(declared: type[Payload], body: Any) -> JsonDict:
    """The validated input (a missing body is validated as ``{}``)."""
    payload = declared.from_json(body)
    if isinstance(payload, ApprovalStartRequest):  # the default timeout is resolved here, not by the orchestrator
        payload = payload.to_input(settings.approval_timeout_hours())
    return payload.to_json()


@client_route(blueprints.starter, "start_orchestrator", "orchestrators/{functionName}", ["POST"])
async def start_orchestrator(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    name = req.route_params.get("functionName", "")
    declared = STARTABLE.get(name)
    if declared is None:
        if name in OWN_ROUTE:
            return error(404, f"orchestrator '{name}' is started with {OWN_ROUTE[name]}")
        return error(404, f"unknown orchestrator '{name}'; known: {', '.join(sorted(STARTABLE))}")
    try:
        body = read_json(req, optional=True)
        orchestrator_input = _orchestrator_input(declared, {} if body is None else body)
    except ValidationError as exc:
        return error(400, str(exc))
    instance_id = await client.start_new(name, None, orchestrator_input)
    return client.create_check_status_response(req, instance_id)
