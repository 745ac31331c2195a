"""Approval routes: ``POST /api/approvals`` starts ``approval_workflow``; ``POST
/api/approvals/{instanceId}`` delivers a decision (202; 404 unknown; 409 not waiting, i.e.
already decided, timed out or finished); ``GET /api/approvals/{instanceId}`` reports it."""
from __future__ import annotations

from typing import Any

import azure.durable_functions as df
import azure.functions as func

from app_common import blueprints, names, settings
from app_common.http import API_PREFIX, accepted, error, json_response, looks_like_id, read_json
from app_common.payloads.human_interaction import WAITING, ApprovalDecision, ApprovalStartRequest
from app_common.registration import client_route
from app_common.validation import ValidationError

bp = blueprints.human_interaction


def approval_location(instance_id: str) -> str:
    return f"{API_PREFIX}/approvals/{instance_id}"


async def _approval_status(client: df.DurableOrchestrationClient, instance_id: str) -> Any:
    status = await client.get_status(instance_id) if looks_like_id(instance_id) else None
    if not status or (status.name or "").lower() != names.APPROVAL_WORKFLOW:
        return None
    return status


def _state(status: Any) -> str | None:
    custom = status.custom_status
    return custom.get("state") if isinstance(custom, dict) else None


def _not_waiting(status: Any) -> func.HttpResponse | None:
    runtime_status = status.runtime_status.value if status.runtime_status else "Pending"
    state = _state(status)
    if runtime_status not in ("Running", "Pending") or state != WAITING:
        return error(409, f"approval is not waiting for a decision (status {runtime_status}, state {state})",
                     status=runtime_status, state=state)
    return None


@client_route(bp, "start_approval", "approvals", ["POST"])
async def start_approval(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    try:
        request = ApprovalStartRequest.from_json(read_json(req))
    except ValidationError as exc:
        return error(400, str(exc))
    approval = request.to_input(settings.approval_timeout_hours())
    instance_id = await client.start_new(names.APPROVAL_WORKFLOW, None, approval.to_json())
    location = approval_location(instance_id)
    return accepted({"id": instance_id, "timeout_hours": approval.timeout_hours, "statusUri": location,
                     "decisionUri": location}, location)


@client_route(bp, "decide_approval", "approvals/{instanceId}", ["POST"])
async def decide_approval(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    instance_id = req.route_params.get("instanceId", "")
    try:
        decision = ApprovalDecision.from_json(read_json(req))
    except ValidationError as exc:
        return error(400, str(exc))
    status = await _approval_status(client, instance_id)
    if status is None:
        return error(404, f"no approval '{instance_id}'")
    if conflict := _not_waiting(status):
        return conflict
    try:
        await client.raise_event(instance_id, names.APPROVAL_EVENT, decision.to_json())
    except Exception:
        # The instance finished between the check and the event (the host answers 410).
        status = await _approval_status(client, instance_id)
        if status is None:
            return error(404, f"no approval '{instance_id}'")
        if conflict := _not_waiting(status):
            return conflict
        raise
    return accepted({"id": instance_id, "delivered": decision.to_json()}, approval_location(instance_id))


@client_route(bp, "get_approval", "approvals/{instanceId}", ["GET"])
async def get_approval(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    instance_id = req.route_params.get("instanceId", "")
    status = await _approval_status(client, instance_id)
    if status is None:
        return error(404, f"no approval '{instance_id}'")
    return json_response({"id": instance_id, "runtimeStatus": status.runtime_status.value if status.runtime_status
                          else None, "state": _state(status), "customStatus": status.custom_status,
                          "output": status.output})
