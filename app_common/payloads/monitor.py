"""Monitor: poll a job's status blob until it completes or the monitor expires."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from ..orchestration import utc
from ..validation import SAFE_ID, JsonDict, ValidationError, as_object, get_int, get_str

MAX_POLLING_INTERVAL_SECONDS = 86_400
MAX_EXPIRY_SECONDS = 7 * 86_400
# What CheckJobStatus reports: the blob's status, NotFound (no blob yet) or Unknown (unreadable).
TERMINAL_JOB_STATUSES = ("Completed", "Failed")
OUTCOMES = ("completed", "job_failed", "expired")


@dataclass(frozen=True)
class MonitorRequest:
    """Body of ``POST /api/monitors/{jobId}`` (optional; defaults apply)."""

    polling_interval_seconds: int = 30
    expiry_seconds: int = 3600

    @classmethod
    def from_json(cls, data: Any) -> MonitorRequest:
        data = as_object(data, "monitor request", ("polling_interval_seconds", "expiry_seconds"))
        return cls(
            polling_interval_seconds=get_int(data, "polling_interval_seconds", 30, minimum=1,
                                             maximum=MAX_POLLING_INTERVAL_SECONDS),
            expiry_seconds=get_int(data, "expiry_seconds", 3600, minimum=1, maximum=MAX_EXPIRY_SECONDS),
        )

    def to_json(self) -> JsonDict:
        return {"polling_interval_seconds": self.polling_interval_seconds, "expiry_seconds": self.expiry_seconds}


@dataclass(frozen=True)
class MonitorInput:
    """Orchestrator input of ``monitor_job_status``. The first execution gets no ``expires_at``
    and computes it from its own clock; continue-as-new carries it and the counters forward."""

    job_id: str
    polling_interval_seconds: int
    expiry_seconds: int
    expires_at: str | None = None
    polls: int = 0
    last_status: str | None = None
    generation: int = 0

    @classmethod
    def first(cls, job_id: str, request: MonitorRequest) -> MonitorInput:
        return cls(job_id, request.polling_interval_seconds, request.expiry_seconds)

    @classmethod
    def from_json(cls, data: Any) -> MonitorInput:
        data = as_object(data, "monitor input", ("job_id", "polling_interval_seconds", "expiry_seconds",
                                                 "expires_at", "polls", "last_status", "generation"))
        expires_at = get_str(data, "expires_at", None, max_length=40)
        if expires_at is not None:
            try:
                datetime.fromisoformat(expires_at)
            except ValueError:
                raise ValidationError("'expires_at' must be an ISO 8601 timestamp") from None
        return cls(
            job_id=get_str(data, "job_id", pattern=SAFE_ID, max_length=64),
            polling_interval_seconds=get_int(data, "polling_interval_seconds", minimum=1,
                                             maximum=MAX_POLLING_INTERVAL_SECONDS),
            expiry_seconds=get_int(data, "expiry_seconds", minimum=1, maximum=MAX_EXPIRY_SECONDS),
            expires_at=expires_at,
            polls=get_int(data, "polls", 0, minimum=0),
            last_status=get_str(data, "last_status", None, max_length=40),
            generation=get_int(data, "generation", 0, minimum=0),
        )

    def deadline(self) -> datetime | None:
        return utc(datetime.fromisoformat(self.expires_at)) if self.expires_at else None

    def next_generation(self, expires_at: datetime, polls: int, last_status: str | None) -> MonitorInput:
        return replace(self, expires_at=expires_at.isoformat(), polls=polls, last_status=last_status,
                       generation=self.generation + 1)

    def to_json(self) -> JsonDict:
        return {"job_id": self.job_id, "polling_interval_seconds": self.polling_interval_seconds,
                "expiry_seconds": self.expiry_seconds, "expires_at": self.expires_at, "polls": self.polls,
                "last_status": self.last_status, "generation": self.generation}


@dataclass(frozen=True)
class JobStatusQuery:
    """Input of ``CheckJobStatus``."""

    job_id: str

    @classmethod
    def from_json(cls, data: Any) -> JobStatusQuery:
        data = as_object(data, "job status query", ("job_id",))
        return cls(job_id=get_str(data, "job_id", pattern=SAFE_ID, max_length=64))

    def to_json(self) -> JsonDict:
        return {"job_id": self.job_id}


@dataclass(frozen=True)
class JobStatusSnapshot:
    """Output of ``CheckJobStatus``."""

    job_id: str
    status: str

    @classmethod
    def from_json(cls, data: Any) -> JobStatusSnapshot:
        data = as_object(data, "job status snapshot", ("job_id", "status"))
        return cls(job_id=get_str(data, "job_id", pattern=SAFE_ID, max_length=64),
                   status=get_str(data, "status", max_length=40))

    def to_json(self) -> JsonDict:
        return {"job_id": self.job_id, "status": self.status}


@dataclass(frozen=True)
class AlertInput:
    """Input of ``SendAlert``."""

    job_id: str
    status: str
    polls: int

    @classmethod
    def from_json(cls, data: Any) -> AlertInput:
        data = as_object(data, "alert", ("job_id", "status", "polls"))
        return cls(job_id=get_str(data, "job_id", pattern=SAFE_ID, max_length=64),
                   status=get_str(data, "status", max_length=40), polls=get_int(data, "polls", minimum=0))

    def to_json(self) -> JsonDict:
        return {"job_id": self.job_id, "status": self.status, "polls": self.polls}


@dataclass(frozen=True)
class MonitorResult:
    """Output of ``monitor_job_status``: ``outcome`` is completed, job_failed or expired."""

    job_id: str
    outcome: str
    polls: int
    last_status: str | None
    alert_blob: str | None = None

    @classmethod
    def from_json(cls, data: Any) -> MonitorResult:
        data = as_object(data, "monitor result", ("job_id", "outcome", "polls", "last_status", "alert_blob"))
        outcome = get_str(data, "outcome")
        if outcome not in OUTCOMES:
            raise ValidationError(f"'outcome' must be one of {', '.join(OUTCOMES)}")
        return cls(job_id=get_str(data, "job_id", pattern=SAFE_ID, max_length=64), outcome=outcome,
                   polls=get_int(data, "polls", minimum=0), last_status=get_str(data, "last_status", None),
                   alert_blob=get_str(data, "alert_blob", None, max_length=1024))

    def to_json(self) -> JsonDict:
        return {"job_id": self.job_id, "outcome": self.outcome, "polls": self.polls,
                "last_status": self.last_status, "alert_blob": self.alert_blob}
