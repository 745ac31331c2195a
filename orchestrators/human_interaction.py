"""Human interaction: RequestApproval, then a durable timer raced against ApprovalEvent.
Custom status ``state`` (waiting -> approved | rejected | escalated) is what the approval route
checks before raising the event."""
from __future__ import annotations

from collections.abc import Generator
from datetime import timedelta
from typing import Any

import azure.durable_functions as df

from app_common import blueprints, names
from app_common.orchestration import utc
from app_common.payloads.human_interaction import (
    WAITING,
    ApprovalDecision,
    ApprovalInput,
    ApprovalNotice,
    ApprovalResult,
    DecisionInput,
    EscalationInput,
)
from app_common.registration import orchestrator
from app_common.validation import JsonDict, ValidationError


@orchestrator(blueprints.human_interaction, names.APPROVAL_WORKFLOW)
def approval_workflow(context: df.DurableOrchestrationContext) -> Generator[Any, Any, JsonDict]:
    approval = ApprovalInput.from_json(context.get_input())
    instance_id = context.instance_id
    expires_at = utc(context.current_utc_datetime) + timedelta(hours=approval.timeout_hours)
    # Set before RequestApproval runs: an early decision is buffered by the SDK until the wait below.
    context.set_custom_status({"state": WAITING, "expires_at": expires_at.isoformat()})
    yield context.call_activity(names.REQUEST_APPROVAL,
                                ApprovalNotice(instance_id, approval.request, expires_at.isoformat()).to_json())

    timeout = context.create_timer(expires_at)
    decision_event = context.wait_for_external_event(names.APPROVAL_EVENT)
    winner = yield context.task_any([decision_event, timeout])

    if winner == decision_event:
        timeout.cancel()  # otherwise the instance stays Running until the timer fires
        try:
            decision, note = ApprovalDecision.from_event(decision_event.result), None
        except ValidationError as exc:
            # Only the system-key raiseEvent API can send this; fail safe.
            decision, note = ApprovalDecision(approved=False), f"unreadable decision ({exc}): treated as rejected"
        context.set_custom_status({"state": "approved" if decision.approved else "rejected",
                                   "approver": decision.approver})
        result = yield context.call_activity(names.PROCESS_APPROVAL, DecisionInput(
            instance_id, approval.request, decision.approved, decision.approver, note).to_json())
    else:
        context.set_custom_status({"state": "escalated"})
        result = yield context.call_activity(names.ESCALATE, EscalationInput(
            instance_id, approval.request, approval.timeout_hours).to_json())
    return ApprovalResult.from_json(result).to_json()
