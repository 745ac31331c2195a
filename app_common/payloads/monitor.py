"""Monitor: poll a job's status blob until it completes or the monitor expires."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from ..orchestration import utc
from ..validation import SAFE_ID
from .base import Int, Payload, Str, invalid

MAX_POLLING_INTERVAL_SECONDS = 86_400
MAX_EXPIRY_SECONDS = 7 * 86_400
# What CheckJobStatus reports: the blob's status, NotFound (no blob yet) or Unknown (unreadable).
TERMINAL_JOB_STATUSES = ("Completed", "Failed")
JobId = Annotated[Str, Field(max_length=64, pattern=SAFE_ID.pattern)]
PollingInterval = Annotated[Int, Field(ge=1, le=MAX_POLLING_INTERVAL_SECONDS)]
Expiry = Annotated[Int, Field(ge=1, le=MAX_EXPIRY_SECONDS)]
Count = Annotated[Int, Field(ge=0)]
Status = Annotated[Str, Field(max_length=40)]


def _timestamp(value: str) -> str:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        raise invalid("timestamp", "must be an ISO 8601 timestamp") from None
    return value


class MonitorRequest(Payload):
    """Body of ``POST /api/monitors/{jobId}`` (optional; defaults apply)."""

    polling_interval_seconds: PollingInterval = 30
    expiry_seconds: Expiry = 3600


class MonitorInput(Payload):
    """Orchestrator input of ``monitor_job_status``. The first execution gets no ``expires_at``
    and computes it from its own clock; continue-as-new carries it and the counters forward."""

    job_id: JobId
    polling_interval_seconds: PollingInterval
    expiry_seconds: Expiry
    expires_at: Annotated[Str, Field(max_length=40), AfterValidator(_timestamp)] | None = None
    polls: Count = 0
    last_status: Status | None = None
    generation: Count = 0

    @classmethod
    def first(cls, job_id: str, request: MonitorRequest) -> MonitorInput:
        return cls(job_id, request.polling_interval_seconds, request.expiry_seconds)

    def deadline(self) -> datetime | None:
        return utc(datetime.fromisoformat(self.expires_at)) if self.expires_at else None

    def next_generation(self, expires_at: datetime, polls: int, last_status: str | None) -> MonitorInput:
        return replace(self, expires_at=expires_at.isoformat(), polls=polls, last_status=last_status,
                       generation=self.generation + 1)


class JobStatusQuery(Payload):
    """Input of ``CheckJobStatus``."""

    job_id: JobId


class JobStatusSnapshot(Payload):
    """Output of ``CheckJobStatus``."""

    job_id: JobId
    status: Status


class AlertInput(Payload):
    """Input of ``SendAlert``."""

    job_id: JobId
    status: Status
    polls: Count


class MonitorResult(Payload):
    """Output of ``monitor_job_status``: ``outcome`` is completed, job_failed or expired."""

    job_id: JobId
    outcome: Literal["completed", "job_failed", "expired"]
    polls: Count
    last_status: Str | None = None
    alert_blob: Annotated[Str, Field(max_length=1024)] | None = None
