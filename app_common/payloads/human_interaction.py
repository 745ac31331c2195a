"""Human interaction: request an approval, wait for a decision or a timeout, then act."""
from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field

from ..validation import JsonDict, loads
from .base import Bool, JsonObject, Payload, Str, invalid, number

MAX_TIMEOUT_HOURS = 24 * 365
MAX_REQUEST_BYTES = 8 * 1024  # it travels in every replay and in custom status-sized payloads
MAX_NOTE_LENGTH = 500
# Custom status "state": waiting until decided (approved/rejected) or timed out (escalated).
WAITING = "waiting"


def _small(request: JsonDict) -> JsonDict:
    if len(json.dumps(request)) > MAX_REQUEST_BYTES:
        raise invalid("too_large", f"must be at most {MAX_REQUEST_BYTES} bytes of JSON")
    return request


Request = Annotated[JsonObject, AfterValidator(_small),
                    Field(description=f"any JSON object, at most {MAX_REQUEST_BYTES} bytes serialized")]
TimeoutHours = number(gt=0, le=MAX_TIMEOUT_HOURS)
Hours = number(gt=0)
InstanceId = Annotated[Str, Field(pattern=r"^[A-Za-z0-9_.:-]{1,256}$")]
Approver = Annotated[Str, Field(max_length=200)]
Outcome = Literal["approved", "rejected", "escalated"]
Note = Annotated[Str, Field(max_length=MAX_NOTE_LENGTH)]
BlobPath = Annotated[Str, Field(max_length=1024)]


class ApprovalStartRequest(Payload):
    """Body of ``POST /api/approvals``; ``timeout_hours`` defaults to APPROVAL_TIMEOUT_HOURS."""

    request: Request
    timeout_hours: TimeoutHours | None = None

    def to_input(self, default_timeout_hours: float) -> ApprovalInput:
        return ApprovalInput(self.request, self.timeout_hours if self.timeout_hours is not None
                             else default_timeout_hours)


class ApprovalInput(Payload):
    """Orchestrator input of ``approval_workflow`` (the timeout is resolved before it starts)."""

    request: Request
    timeout_hours: TimeoutHours


class ApprovalDecision(Payload):
    """The ``ApprovalEvent`` payload as the orchestrator reads it (a bare bool has no approver)."""

    approved: Bool
    approver: Approver | None = None

    @classmethod
    def from_event(cls, payload: Any) -> ApprovalDecision:
        """Whatever the event carries: ``true``/``false`` (built-in raiseEvent), a decision object
        (raw JSON body), or that object as a JSON *string* (the Python client's ``raise_event``
        double-encodes, SDK issue #295)."""
        if isinstance(payload, str):
            payload = loads(payload)
        if isinstance(payload, bool):
            return cls(approved=payload)
        decision = ApprovalDecisionRequest.from_json(payload)
        return cls(decision.approved, decision.approver)


class ApprovalDecisionRequest(ApprovalDecision):
    """Body of ``POST /api/approvals/{instanceId}``: both fields required."""

    approver: Approver = Field()  # no default: without it the base class's None would be inherited


class DecisionClaim(Payload):
    """What counts for an approval: the first decision, or the timeout (``escalated``). Stored
    create-if-absent as ``approvals/{id}/claim.json``, so exactly one claim exists per instance."""

    outcome: Outcome
    approver: Approver | None = None

    @classmethod
    def of(cls, decision: ApprovalDecision) -> DecisionClaim:
        return cls("approved" if decision.approved else "rejected", decision.approver)

    def decision(self) -> ApprovalDecision | None:
        return None if self.outcome == "escalated" else ApprovalDecision(self.outcome == "approved", self.approver)

    def describe(self) -> str:
        if self.outcome == "escalated":
            return "the approval timed out"
        return f"{self.outcome} by {self.approver}" if self.approver else self.outcome


def with_superseded(note: str | None, superseded: DecisionClaim | None) -> str | None:
    """``note`` plus, if a decision that got a 2xx was not the one applied, what it was."""
    if superseded is None:
        return note
    text = f"superseded: a decision ({superseded.describe()}) accepted at the same moment did not count"
    return (f"{note}; {text}" if note else text)[:MAX_NOTE_LENGTH]


class ApprovalNotice(Payload):
    """Input of ``RequestApproval``."""

    instance_id: InstanceId
    request: Request
    expires_at: Annotated[Str, Field(max_length=40)]


class DecisionInput(Payload):
    """Input of ``ProcessApproval``; ``note`` explains a decision the orchestrator had to infer."""

    instance_id: InstanceId
    request: Request
    approved: Bool
    approver: Approver | None = None
    note: Note | None = None


class EscalationInput(Payload):
    """Input of ``Escalate``."""

    instance_id: InstanceId
    request: Request
    timeout_hours: Hours


class ApprovalResult(Payload):
    """Output of ``ProcessApproval``/``Escalate`` and of ``approval_workflow``."""

    instance_id: InstanceId
    outcome: Outcome
    approver: Approver | None
    record_blob: BlobPath
    note: Note | None = None
