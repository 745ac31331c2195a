"""Monitor: poll the job's status blob on a durable timer until it is Completed/Failed (alert)
or the monitor expires. Every POLLS_PER_EXECUTION polls it continues as new, carrying the
deadline and counters in its input, so its history stays bounded however long it runs."""
from __future__ import annotations

from collections.abc import Generator
from datetime import timedelta
from typing import Any

import azure.durable_functions as df

from app_common import blueprints, names
from app_common.orchestration import RETRY, utc
from app_common.payloads.monitor import (
    TERMINAL_JOB_STATUSES,
    AlertInput,
    JobStatusQuery,
    JobStatusSnapshot,
    MonitorInput,
    MonitorResult,
)
from app_common.registration import orchestrator
from app_common.validation import JsonDict

POLLS_PER_EXECUTION = 10


@orchestrator(blueprints.monitor, names.MONITOR_JOB_STATUS)
def monitor_job_status(context: df.DurableOrchestrationContext) -> Generator[Any, Any, JsonDict | None]:
    state = MonitorInput.from_json(context.get_input())
    now = utc(context.current_utc_datetime)
    expires_at = state.deadline() or now + timedelta(seconds=state.expiry_seconds)
    polls, last_status = state.polls, state.last_status

    def progress(phase: str) -> dict[str, Any]:
        return {"phase": phase, "job_id": state.job_id, "polls": polls, "last_status": last_status,
                "expires_at": expires_at.isoformat(), "generation": state.generation}

    for _ in range(POLLS_PER_EXECUTION):
        snapshot = JobStatusSnapshot.from_json(
            (yield context.call_activity(names.CHECK_JOB_STATUS, JobStatusQuery(state.job_id).to_json())))
        polls, last_status = polls + 1, snapshot.status
        if snapshot.status in TERMINAL_JOB_STATUSES:
            context.set_custom_status(progress("alerting"))
            alert = yield context.call_activity_with_retry(
                names.SEND_ALERT, RETRY, AlertInput(state.job_id, snapshot.status, polls).to_json())
            context.set_custom_status(progress("done"))
            outcome = "completed" if snapshot.status == "Completed" else "job_failed"
            return MonitorResult(state.job_id, outcome, polls, last_status, alert["alert_blob"]).to_json()
        if now >= expires_at:
            context.set_custom_status(progress("expired"))
            return MonitorResult(state.job_id, "expired", polls, last_status).to_json()
        context.set_custom_status(progress("waiting"))
        yield context.create_timer(min(now + timedelta(seconds=state.polling_interval_seconds), expires_at))
        now = utc(context.current_utc_datetime)
    context.continue_as_new(state.next_generation(expires_at, polls, last_status).to_json())
    return None
