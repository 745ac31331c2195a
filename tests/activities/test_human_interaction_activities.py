from __future__ import annotations

import pytest

from activities.human_interaction import escalate, process_approval, request_approval
from app_common import approval_claims
from app_common.payloads.human_interaction import ApprovalDecision, DecisionClaim
from app_common.settings import results_container
from app_common.validation import ValidationError
from tests.blobs import read_json_blob


def test_request_process_and_escalate_leave_records(blob_service, unique):
    request = {"title": "t"}
    notice = request_approval({"instance_id": unique, "request": request, "expires_at": "2030-01-01T00:00:00+00:00"})
    assert read_json_blob(blob_service, results_container(), f"approvals/{unique}/request.json")["request"] == request
    assert notice == {"request_blob": f"{results_container()}/approvals/{unique}/request.json"}

    decided = process_approval({"instance_id": unique, "request": request, "approved": False, "approver": "bob"})
    assert decided["outcome"] == "rejected" and decided["approver"] == "bob"
    assert read_json_blob(blob_service, results_container(), f"approvals/{unique}/decision.json")["outcome"] == "rejected"

    escalated = escalate({"instance_id": f"{unique}-t", "request": request, "timeout_hours": 0.5})
    assert escalated["outcome"] == "escalated" and escalated["note"] == "no decision within 0.5 hours"


def test_each_outcome_claims_once_and_records_a_decision_it_superseded(blob_service, unique):
    """A decision the route accepted (its claim) that the orchestrator did not apply — the timer
    won, or another event came first — is recorded as superseded by the activity that applies
    the outcome; a retried activity (at-least-once) finds its own claim and records nothing."""
    request = {"title": "t"}
    assert approval_claims.claim(unique, DecisionClaim("approved", "alice")) is None  # the route's claim
    escalated = escalate({"instance_id": unique, "request": request, "timeout_hours": 1})
    assert escalated["note"] == ("no decision within 1 hours; superseded: a decision (approved by alice) "
                                 "accepted at the same moment did not count")
    record = read_json_blob(blob_service, results_container(), f"approvals/{unique}/escalation.json")
    assert record["superseded"] == {"outcome": "approved", "approver": "alice"}

    other = f"{unique}-2"
    decided = {"instance_id": other, "request": request, "approved": True, "approver": "carol"}
    assert process_approval(decided)["note"] is None and process_approval(decided)["note"] is None  # retried
    assert approval_claims.claim(other, DecisionClaim("rejected", "dave")) == DecisionClaim("approved", "carol")


@pytest.mark.parametrize("payload, expected", [
    (True, ApprovalDecision(True)),
    (False, ApprovalDecision(False)),
    ({"approved": True, "approver": "a"}, ApprovalDecision(True, "a")),
    ('{"approved": false, "approver": "b"}', ApprovalDecision(False, "b")),  # SDK issue #295
    ("true", ApprovalDecision(True)),
])
def test_decision_from_any_event_payload(payload, expected):
    assert ApprovalDecision.from_event(payload) == expected


@pytest.mark.parametrize("payload", [None, 1, "yes", {"approved": 1, "approver": "a"}, ["true"]])
def test_unreadable_event_payloads(payload):
    with pytest.raises(ValidationError):
        ApprovalDecision.from_event(payload)
