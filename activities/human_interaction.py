"""Human-interaction activities. Each stands in for a notification (e-mail, Teams) and leaves a
record blob under ``approvals/{instanceId}/`` in RESULTS_CONTAINER."""
from __future__ import annotations

from app_common import approval_claims, blueprints, names, settings, storage
from app_common.payloads.human_interaction import (
    ApprovalNotice,
    ApprovalResult,
    DecisionClaim,
    DecisionInput,
    EscalationInput,
    with_superseded,
)
from app_common.registration import activity
from app_common.validation import JsonDict

bp = blueprints.human_interaction


def _write(instance_id: str, kind: str, document: JsonDict) -> str:
    container = settings.results_container()
    name = approval_claims.record_name(instance_id, kind)
    storage.upload_json(container, name, document)
    return f"{container}/{name}"


def _settle(instance_id: str, applied: DecisionClaim) -> DecisionClaim | None:
    """Claim the outcome being applied; the decision that claimed first, if it is another one
    (it got a 202 and did not count: the caller records it as superseded)."""
    counted = approval_claims.claim(instance_id, applied)
    return counted if counted is not None and counted != applied else None


@activity(bp, names.REQUEST_APPROVAL)
def request_approval(payload: dict) -> JsonDict:
    notice = ApprovalNotice.from_json(payload)
    return {"request_blob": _write(notice.instance_id, "request", notice.to_json())}


@activity(bp, names.PROCESS_APPROVAL)
def process_approval(payload: dict) -> JsonDict:
    decision = DecisionInput.from_json(payload)
    outcome = "approved" if decision.approved else "rejected"
    superseded = _settle(decision.instance_id, DecisionClaim(outcome, decision.approver))
    blob = _write(decision.instance_id, "decision", {**decision.to_json(), "outcome": outcome,
                                                     "superseded": superseded and superseded.to_json()})
    return ApprovalResult(decision.instance_id, outcome, decision.approver, blob,
                          with_superseded(decision.note, superseded)).to_json()


@activity(bp, names.ESCALATE)
def escalate(payload: dict) -> JsonDict:
    escalation = EscalationInput.from_json(payload)
    superseded = _settle(escalation.instance_id, DecisionClaim("escalated"))
    blob = _write(escalation.instance_id, "escalation", {**escalation.to_json(),
                                                         "superseded": superseded and superseded.to_json()})
    note = with_superseded(f"no decision within {escalation.timeout_hours:g} hours", superseded)
    return ApprovalResult(escalation.instance_id, "escalated", None, blob, note).to_json()
