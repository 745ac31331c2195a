"""Human-interaction activities. Each stands in for a notification (e-mail, Teams) and leaves a
record blob under ``approvals/{instanceId}/`` in RESULTS_CONTAINER."""
from __future__ import annotations

from app_common import blueprints, names, settings, storage
from app_common.payloads.human_interaction import ApprovalNotice, ApprovalResult, DecisionInput, EscalationInput
from app_common.registration import activity
from app_common.validation import JsonDict

bp = blueprints.human_interaction


def record_name(instance_id: str, kind: str) -> str:
    return f"approvals/{instance_id}/{kind}.json"


def _write(instance_id: str, kind: str, document: JsonDict) -> str:
    container = settings.results_container()
    name = record_name(instance_id, kind)
    storage.upload_json(container, name, document)
    return f"{container}/{name}"


@activity(bp, names.REQUEST_APPROVAL)
def request_approval(payload: dict) -> JsonDict:
    notice = ApprovalNotice.from_json(payload)
    return {"request_blob": _write(notice.instance_id, "request", notice.to_json())}


@activity(bp, names.PROCESS_APPROVAL)
def process_approval(payload: dict) -> JsonDict:
    decision = DecisionInput.from_json(payload)
    outcome = "approved" if decision.approved else "rejected"
    blob = _write(decision.instance_id, "decision", {**decision.to_json(), "outcome": outcome})
    return ApprovalResult(decision.instance_id, outcome, decision.approver, blob, decision.note).to_json()


@activity(bp, names.ESCALATE)
def escalate(payload: dict) -> JsonDict:
    escalation = EscalationInput.from_json(payload)
    blob = _write(escalation.instance_id, "escalation", escalation.to_json())
    note = f"no decision within {escalation.timeout_hours:g} hours"
    return ApprovalResult(escalation.instance_id, "escalated", None, blob, note).to_json()
