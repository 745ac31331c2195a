from __future__ import annotations

import pytest

from activities.human_interaction import escalate, process_approval, request_approval
from app_common.payloads.human_interaction import ApprovalDecision
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

    escalated = escalate({"instance_id": unique, "request": request, "timeout_hours": 0.5})
    assert escalated["outcome"] == "escalated" and escalated["note"] == "no decision within 0.5 hours"


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
