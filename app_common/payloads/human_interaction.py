"""Human interaction: request an approval, wait for a decision or a timeout, then act."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from ..validation import (
    JsonDict,
    ValidationError,
    as_object,
    get_bool,
    get_number,
    get_object,
    get_str,
    loads,
)

INSTANCE_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,256}$")
MAX_TIMEOUT_HOURS = 24 * 365
MAX_REQUEST_BYTES = 8 * 1024  # it travels in every replay and in custom status-sized payloads
OUTCOMES = ("approved", "rejected", "escalated")
MAX_NOTE_LENGTH = 500
# Custom status "state": waiting until decided (approved/rejected) or timed out (escalated).
WAITING = "waiting"


def _outcome(data: JsonDict) -> str:
    outcome = get_str(data, "outcome")
    if outcome not in OUTCOMES:
        raise ValidationError(f"'outcome' must be one of {', '.join(OUTCOMES)}")
    return outcome


def _request_object(data: JsonDict) -> JsonDict:
    request = get_object(data, "request")
    if len(json.dumps(request)) > MAX_REQUEST_BYTES:
        raise ValidationError(f"'request' must be at most {MAX_REQUEST_BYTES} bytes of JSON")
    return request


@dataclass(frozen=True)
class ApprovalStartRequest:
    """Body of ``POST /api/approvals``; ``timeout_hours`` defaults to APPROVAL_TIMEOUT_HOURS."""

    request: JsonDict
    timeout_hours: float | None = None

    @classmethod
    def from_json(cls, data: Any) -> ApprovalStartRequest:
        data = as_object(data, "approval request", ("request", "timeout_hours"))
        return cls(request=_request_object(data),
                   timeout_hours=get_number(data, "timeout_hours", None, minimum=0, exclusive_minimum=True,
                                            maximum=MAX_TIMEOUT_HOURS))

    def to_input(self, default_timeout_hours: float) -> ApprovalInput:
        return ApprovalInput(self.request, self.timeout_hours if self.timeout_hours is not None
                             else default_timeout_hours)


@dataclass(frozen=True)
class ApprovalInput:
    """Orchestrator input of ``approval_workflow`` (the timeout is resolved before it starts)."""

    request: JsonDict
    timeout_hours: float

    @classmethod
    def from_json(cls, data: Any) -> ApprovalInput:
        data = as_object(data, "approval input", ("request", "timeout_hours"))
        return cls(request=_request_object(data),
                   timeout_hours=get_number(data, "timeout_hours", minimum=0, exclusive_minimum=True,
                                            maximum=MAX_TIMEOUT_HOURS))

    def to_json(self) -> JsonDict:
        return {"request": self.request, "timeout_hours": self.timeout_hours}


@dataclass(frozen=True)
class ApprovalDecision:
    """Body of ``POST /api/approvals/{instanceId}`` and the ``ApprovalEvent`` payload."""

    approved: bool
    approver: str | None = None

    @classmethod
    def from_json(cls, data: Any) -> ApprovalDecision:
        data = as_object(data, "decision", ("approved", "approver"))
        return cls(approved=get_bool(data, "approved"), approver=get_str(data, "approver", max_length=200))

    @classmethod
    def from_event(cls, payload: Any) -> ApprovalDecision:
        """Whatever the event carries: ``true``/``false`` (built-in raiseEvent), a decision object
        (raw JSON body), or that object as a JSON *string* (the Python client's ``raise_event``
        double-encodes, SDK issue #295)."""
        if isinstance(payload, str):
            payload = loads(payload)
        if isinstance(payload, bool):
            return cls(approved=payload)
        return cls.from_json(payload)

    def to_json(self) -> JsonDict:
        return {"approved": self.approved, "approver": self.approver}


@dataclass(frozen=True)
class DecisionClaim:
    """What counts for an approval: the first decision, or the timeout (``escalated``). Stored
    create-if-absent as ``approvals/{id}/claim.json``, so exactly one claim exists per instance."""

    outcome: str
    approver: str | None = None

    @classmethod
    def of(cls, decision: ApprovalDecision) -> DecisionClaim:
        return cls("approved" if decision.approved else "rejected", decision.approver)

    @classmethod
    def from_json(cls, data: Any) -> DecisionClaim:
        data = as_object(data, "decision claim", ("outcome", "approver"))
        return cls(outcome=_outcome(data), approver=get_str(data, "approver", None, max_length=200))

    def to_json(self) -> JsonDict:
        return {"outcome": self.outcome, "approver": self.approver}

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


@dataclass(frozen=True)
class ApprovalNotice:
    """Input of ``RequestApproval``."""

    instance_id: str
    request: JsonDict
    expires_at: str

    @classmethod
    def from_json(cls, data: Any) -> ApprovalNotice:
        data = as_object(data, "approval notice", ("instance_id", "request", "expires_at"))
        return cls(instance_id=get_str(data, "instance_id", pattern=INSTANCE_ID),
                   request=_request_object(data), expires_at=get_str(data, "expires_at", max_length=40))

    def to_json(self) -> JsonDict:
        return {"instance_id": self.instance_id, "request": self.request, "expires_at": self.expires_at}


@dataclass(frozen=True)
class DecisionInput:
    """Input of ``ProcessApproval``; ``note`` explains a decision the orchestrator had to infer."""

    instance_id: str
    request: JsonDict
    approved: bool
    approver: str | None
    note: str | None = None

    @classmethod
    def from_json(cls, data: Any) -> DecisionInput:
        data = as_object(data, "decision input", ("instance_id", "request", "approved", "approver", "note"))
        return cls(instance_id=get_str(data, "instance_id", pattern=INSTANCE_ID), request=_request_object(data),
                   approved=get_bool(data, "approved"), approver=get_str(data, "approver", None, max_length=200),
                   note=get_str(data, "note", None, max_length=MAX_NOTE_LENGTH))

    def to_json(self) -> JsonDict:
        return {"instance_id": self.instance_id, "request": self.request, "approved": self.approved,
                "approver": self.approver, "note": self.note}


@dataclass(frozen=True)
class EscalationInput:
    """Input of ``Escalate``."""

    instance_id: str
    request: JsonDict
    timeout_hours: float

    @classmethod
    def from_json(cls, data: Any) -> EscalationInput:
        data = as_object(data, "escalation", ("instance_id", "request", "timeout_hours"))
        return cls(instance_id=get_str(data, "instance_id", pattern=INSTANCE_ID), request=_request_object(data),
                   timeout_hours=get_number(data, "timeout_hours", minimum=0, exclusive_minimum=True))

    def to_json(self) -> JsonDict:
        return {"instance_id": self.instance_id, "request": self.request, "timeout_hours": self.timeout_hours}


@dataclass(frozen=True)
class ApprovalResult:
    """Output of ``ProcessApproval``/``Escalate`` and of ``approval_workflow``."""

    instance_id: str
    outcome: str
    approver: str | None
    record_blob: str
    note: str | None = None

    @classmethod
    def from_json(cls, data: Any) -> ApprovalResult:
        data = as_object(data, "approval result", ("instance_id", "outcome", "approver", "record_blob", "note"))
        return cls(instance_id=get_str(data, "instance_id", pattern=INSTANCE_ID), outcome=_outcome(data),
                   approver=get_str(data, "approver", None, max_length=200),
                   record_blob=get_str(data, "record_blob", max_length=1024),
                   note=get_str(data, "note", None, max_length=MAX_NOTE_LENGTH))

    def to_json(self) -> JsonDict:
        return {"instance_id": self.instance_id, "outcome": self.outcome, "approver": self.approver,
                "record_blob": self.record_blob, "note": self.note}
