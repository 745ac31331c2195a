"""Async HTTP API: a job computed in the background, polled at /api/jobs/{id}."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..validation import (
    SAFE_ID,
    JsonDict,
    ValidationError,
    as_object,
    check_number,
    get_bool,
    get_int,
    get_list,
    get_number,
    get_object,
    get_str,
)

MAX_ITEMS = 10_000
MAX_ABS_ITEM = 1e300  # the total of MAX_ITEMS items stays a finite number
MAX_DURATION_SECONDS = 86_400
JOB_STATUSES = ("Running", "Completed", "Failed")


@dataclass(frozen=True)
class JobInput:
    """Body of ``POST /api/jobs``, orchestrator input of ``async_job`` and input of ``RunJob``.
    ``duration_seconds`` stands in for a long computation (a durable timer before the work);
    ``simulate_failure`` makes RunJob fail deterministically (demos and tests of the error path)."""

    job: str
    items: tuple[float | int, ...]
    duration_seconds: int = 0
    simulate_failure: bool = False

    @classmethod
    def from_json(cls, data: Any) -> JobInput:
        data = as_object(data, "job", ("job", "items", "duration_seconds", "simulate_failure"))
        return cls(
            job=get_str(data, "job", max_length=100),
            items=tuple(check_number(x, f"items[{i}]", -MAX_ABS_ITEM, MAX_ABS_ITEM)
                        for i, x in enumerate(get_list(data, "items", max_items=MAX_ITEMS))),
            duration_seconds=get_int(data, "duration_seconds", 0, minimum=0, maximum=MAX_DURATION_SECONDS),
            simulate_failure=get_bool(data, "simulate_failure", False),
        )

    def to_json(self) -> JsonDict:
        return {"job": self.job, "items": list(self.items), "duration_seconds": self.duration_seconds,
                "simulate_failure": self.simulate_failure}


@dataclass(frozen=True)
class JobResult:
    """Output of ``RunJob`` and of the ``async_job`` orchestration."""

    job: str
    count: int
    total: float | int
    mean: float | None
    minimum: float | int | None
    maximum: float | int | None

    @classmethod
    def from_json(cls, data: Any) -> JobResult:
        data = as_object(data, "job result", ("job", "count", "total", "mean", "minimum", "maximum"))
        return cls(
            job=get_str(data, "job", max_length=100),
            count=get_int(data, "count", minimum=0),
            total=get_number(data, "total"),
            mean=get_number(data, "mean", None),
            minimum=get_number(data, "minimum", None),
            maximum=get_number(data, "maximum", None),
        )

    def to_json(self) -> JsonDict:
        return {"job": self.job, "count": self.count, "total": self.total, "mean": self.mean,
                "minimum": self.minimum, "maximum": self.maximum}


@dataclass(frozen=True)
class JobStatusUpdate:
    """Input of ``PublishJobStatus``; also the content of the status blob ``{job_id}/status`` in
    JOBS_CONTAINER, which ``monitor_job_status`` watches."""

    job_id: str
    status: str
    result: JsonDict | None = None
    error: str | None = None

    @classmethod
    def from_json(cls, data: Any) -> JobStatusUpdate:
        data = as_object(data, "job status", ("job_id", "status", "result", "error"))
        status = get_str(data, "status")
        if status not in JOB_STATUSES:
            raise ValidationError(f"'status' must be one of {', '.join(JOB_STATUSES)}")
        return cls(
            job_id=get_str(data, "job_id", pattern=SAFE_ID, max_length=64),
            status=status,
            result=get_object(data, "result", None),
            error=get_str(data, "error", None, max_length=2000),
        )

    def to_json(self) -> JsonDict:
        return {"job_id": self.job_id, "status": self.status, "result": self.result, "error": self.error}
