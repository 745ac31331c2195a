"""Async HTTP API: a job computed in the background, polled at /api/jobs/{id}."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ..validation import SAFE_ID
from .base import Bool, Int, JsonObject, Payload, Str, number

MAX_ITEMS = 10_000
MAX_ABS_ITEM = 1e300  # the total of MAX_ITEMS items stays a finite number
MAX_DURATION_SECONDS = 86_400
JobName = Annotated[Str, Field(max_length=100)]
Item = number(ge=-MAX_ABS_ITEM, le=MAX_ABS_ITEM)
Statistic = number()


class JobInput(Payload):
    """Body of ``POST /api/jobs``, orchestrator input of ``async_job`` and input of ``RunJob``.
    ``duration_seconds`` stands in for a long computation (a durable timer before the work);
    ``simulate_failure`` makes RunJob fail deterministically (demos and tests of the error path)."""

    job: JobName
    items: Annotated[list[Item], Field(max_length=MAX_ITEMS)]
    duration_seconds: Annotated[Int, Field(ge=0, le=MAX_DURATION_SECONDS)] = 0
    simulate_failure: Bool = False


class JobResult(Payload):
    """Output of ``RunJob`` and of the ``async_job`` orchestration."""

    job: JobName
    count: Annotated[Int, Field(ge=0)]
    total: Statistic
    mean: Statistic | None = None
    minimum: Statistic | None = None
    maximum: Statistic | None = None


class JobStatusUpdate(Payload):
    """Input of ``PublishJobStatus``; also the content of the status blob ``{job_id}/status`` in
    JOBS_CONTAINER, which ``monitor_job_status`` watches."""

    job_id: Annotated[Str, Field(max_length=64, pattern=SAFE_ID.pattern)]
    status: Literal["Running", "Completed", "Failed"]
    result: JsonObject | None = None
    error: Annotated[Str, Field(max_length=2000)] | None = None
