"""Approval routes: ``POST /api/approvals`` starts ``approval_workflow``; ``POST
/api/approvals/{instanceId}`` delivers a decision; ``GET /api/approvals/{instanceId}`` reports it.

Decision contract (docs/patterns.md, "Human interaction: decision contract"): 202 when the
instance is Pending or Running and nothing has counted yet — even before the orchestrator waits:
the extension accepts events for Pending instances (``DurableClient.IsOrchestrationRunning``) and
the SDK hands an already-received event to ``wait_for_external_event``; 409 once
a decision or the timeout has counted, or when the instance is finished or suspended; 404
unknown. Decisions are serialized by a create-if-absent claim (``app_common/approval_claims.py``)
taken before the event is raised, so of concurrent decisions exactly one gets the 202."""
from __future__ import annotations

import asyncio
from typing import Any

import azure.durable_functions as df
import azure.functions as func

from app_common import approval_claims, blueprints, names, settings
from app_common.http import API_PREFIX, accepted, error, json_response, looks_like_id, read_json
from app_common.payloads.human_interaction import (
    WAITING,
    ApprovalDecision,
    ApprovalDecisionRequest,
    ApprovalStartRequest,
    DecisionClaim,
)
from app_common.registration import client_route
from app_common.validation import ValidationError

bp = blueprints.human_interaction
_OPEN = ("Pending", "Running")


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


def _runtime_status(status: Any) -> str:
    return status.runtime_status.value if status.runtime_status else "Pending"


def _still_open(status: Any) -> bool:
    """No outcome published yet: not started, starting (no custom status yet) or waiting."""
    return _runtime_status(status) in _OPEN and _state(status) in (None, WAITING)


def _conflict(status: Any, message: str | None = None, **extra: Any) -> func.HttpResponse:
    runtime_status, state = _runtime_status(status), _state(status)
    return error(409, message or f"approval is not waiting for a decision (status {runtime_status}, state {state})",
                 status=runtime_status, state=state, **extra)


async def _raise(client: df.DurableOrchestrationClient, instance_id: str, decision: ApprovalDecision) -> bool:
    """Raise ``ApprovalEvent``; False if that failed (the client raises a plain Exception for the
    extension's 404/410 and for transport errors: the caller re-reads the status to tell them apart)."""
    try:
        await client.raise_event(instance_id, names.APPROVAL_EVENT, decision.to_json())
        return True
    except Exception:
        return False


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
        decision = ApprovalDecisionRequest.from_json(read_json(req))
    except ValidationError as exc:
        return error(400, str(exc))
    status = await _approval_status(client, instance_id)
    if status is None:
        return error(404, f"no approval '{instance_id}'")
    if not _still_open(status):
        return _conflict(status)
    counted = await asyncio.to_thread(approval_claims.claim, instance_id, DecisionClaim.of(decision))
    if counted is not None:
        claimed = counted.decision()
        if claimed is not None:
            # Deliver the claimed decision again: heals a claim whose first delivery was cut off
            # (the orchestrator uses the first ApprovalEvent; an identical second one is ignored).
            await _raise(client, instance_id, claimed)
        return _conflict(status, f"a decision already counted: {counted.describe()}", decision=counted.to_json())
    if not await _raise(client, instance_id, decision):
        await asyncio.to_thread(approval_claims.release, instance_id)
        status = await _approval_status(client, instance_id)
        if status is None:
            return error(404, f"no approval '{instance_id}'")
        if _still_open(status):
            return error(503, "the decision could not be delivered and did not count; try again")
        return _conflict(status)
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
