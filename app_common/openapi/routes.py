"""Every ``/api`` route in one table: method, path, request body, responses (status -> schema).

Request bodies are the payload declarations the routes validate with; response bodies are
declared here as TypedDicts (the routes build them as plain dicts). ``tests/api`` checks this
table against the routes the app really registers, and real answers against these schemas.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

from typing_extensions import NotRequired, TypedDict  # pydantic reads TypedDicts from here on Python < 3.12

from ..payloads import STARTABLE
from ..payloads.async_http_api import JobInput, JobResult
from ..payloads.counter import Amount
from ..payloads.human_interaction import ApprovalDecision, ApprovalDecisionRequest, ApprovalResult, ApprovalStartRequest
from ..payloads.monitor import MonitorRequest, MonitorResult


class ErrorBody(TypedDict):
    """Every 4xx/5xx: ``error`` says what is wrong (never the value sent); some add context."""

    error: str
    status: NotRequired[str]
    id: NotRequired[str]
    key: NotRequired[str]
    state: NotRequired[str | None]
    decision: NotRequired[dict[str, Any]]


class CheckStatusResponse(TypedDict):
    """The extension's management URLs; they carry the system key (give this route to operators only)."""

    id: str
    statusQueryGetUri: str
    sendEventPostUri: str
    terminatePostUri: str
    purgeHistoryDeleteUri: str
    rewindPostUri: NotRequired[str]
    restartPostUri: NotRequired[str]
    suspendPostUri: NotRequired[str]
    resumePostUri: NotRequired[str]


class JobAccepted(TypedDict):
    id: str
    status: str
    statusUri: str


class JobCompleted(TypedDict):
    id: str
    status: str
    output: JobResult


class MonitorStarted(TypedDict):
    id: str
    job_id: str
    statusUri: str


class MonitorStatus(TypedDict):
    id: str
    job_id: str
    runtimeStatus: str | None
    customStatus: dict[str, Any] | None
    output: MonitorResult | None


class ApprovalStarted(TypedDict):
    id: str
    timeout_hours: float
    statusUri: str
    decisionUri: str


class DecisionDelivered(TypedDict):
    id: str
    delivered: ApprovalDecision


class ApprovalStatus(TypedDict):
    id: str
    runtimeStatus: str | None
    state: str | None
    customStatus: dict[str, Any] | None
    output: ApprovalResult | None


class CounterSignalled(TypedDict):
    key: str
    operation: str
    amount: NotRequired[int]


class CounterValue(TypedDict):
    key: str
    value: int


StartableInput = Union[tuple(STARTABLE.values())]  # noqa: UP007 (built from the table)
BAD_REQUEST = (400, "malformed JSON, wrong types, missing or unknown fields; nothing is started", ErrorBody)


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # under /api, as registered
    function: str  # the registered function name: the operationId
    summary: str
    responses: tuple[tuple[int, str, Any], ...]  # (status, description, body schema)
    body: Any = None  # a payload declaration, or None for no body
    body_required: bool = True
    body_description: str = ""
    tags: tuple[str, ...] = field(default=())


ROUTES: tuple[Route, ...] = (
    Route("POST", "orchestrators/{functionName}", "start_orchestrator",
          "Start chaining, fan_out_fan_in, async_job, approval_workflow or counter_workflow (operators only)",
          ((202, "started; the body carries the management URLs (system key)", CheckStatusResponse), BAD_REQUEST,
           (404, "unknown orchestrator, or one started by its own route", ErrorBody)),
          StartableInput, body_required=False, tags=("starter",),
          body_description="the input of the orchestrator named in the path: " + ", ".join(
              f"{name} -> {declared.__name__}" for name, declared in STARTABLE.items()) + " (no body: {})"),
    Route("POST", "jobs", "start_job", "Start a job",
          ((202, "started: poll Location", JobAccepted), BAD_REQUEST), JobInput, tags=("async_http_api",)),
    Route("GET", "jobs/{jobId}", "get_job", "A job's status or result",
          ((200, "completed", JobCompleted), (202, "pending or running: poll Location again", JobAccepted),
           (404, "no such job", ErrorBody), (410, "terminated or canceled", ErrorBody),
           (500, "the job failed (the request itself was fine)", ErrorBody)), tags=("async_http_api",)),
    Route("POST", "monitors/{jobId}", "start_monitor", "Start the singleton monitor of a job",
          ((202, "started", MonitorStarted), BAD_REQUEST, (409, "a monitor of this job is active", ErrorBody)),
          MonitorRequest, body_required=False, tags=("monitor",)),
    Route("GET", "monitors/{jobId}", "get_monitor", "A monitor's progress",
          ((200, "the monitor's status", MonitorStatus), (404, "no monitor for this job", ErrorBody)),
          tags=("monitor",)),
    Route("POST", "approvals", "start_approval", "Request an approval",
          ((202, "started", ApprovalStarted), BAD_REQUEST), ApprovalStartRequest, tags=("human_interaction",)),
    Route("POST", "approvals/{instanceId}", "decide_approval", "Decide an approval (first decision counts)",
          ((202, "claimed and delivered", DecisionDelivered), BAD_REQUEST, (404, "no such approval", ErrorBody),
           (409, "a decision or the timeout already counted, or the approval is over", ErrorBody),
           (503, "the decision could not be delivered and did not count; try again", ErrorBody)),
          ApprovalDecisionRequest, tags=("human_interaction",)),
    Route("GET", "approvals/{instanceId}", "get_approval", "An approval's state and outcome",
          ((200, "the approval's status", ApprovalStatus), (404, "no such approval", ErrorBody)),
          tags=("human_interaction",)),
    Route("POST", "counters/{key}/add", "counter_add", "Add to a counter (a signal, applied asynchronously)",
          ((202, "signalled", CounterSignalled), (400, "bad key, or the body is not a safe integer", ErrorBody),
           (409, "the value would leave ±(2^53-1), or the stored state is unreadable", ErrorBody)),
          Amount, tags=("counter",)),
    Route("POST", "counters/{key}/reset", "counter_reset", "Reset a counter to 0 (a signal)",
          ((202, "signalled", CounterSignalled), (400, "bad key", ErrorBody)), tags=("counter",)),
    Route("DELETE", "counters/{key}", "counter_delete", "Delete a counter (a signal)",
          ((202, "signalled", CounterSignalled), (400, "bad key", ErrorBody)), tags=("counter",)),
    Route("GET", "counters/{key}", "counter_get", "A counter's value",
          ((200, "the value", CounterValue), (400, "bad key", ErrorBody), (404, "no such counter", ErrorBody),
           (409, "the stored state is not a safe integer: reset or delete it", ErrorBody)), tags=("counter",)),
)
