"""Monitor activities: CheckJobStatus reads ``{jobId}/status`` in JOBS_CONTAINER, SendAlert writes
``{jobId}/alert`` next to it."""
from __future__ import annotations

import json
from datetime import UTC, datetime

from app_common import blueprints, names, settings, storage
from app_common.payloads.monitor import AlertInput, JobStatusQuery, JobStatusSnapshot
from app_common.registration import activity
from app_common.validation import JsonDict

bp = blueprints.monitor

NOT_FOUND = "NotFound"
UNKNOWN = "Unknown"


def status_blob_name(job_id: str) -> str:
    return f"{job_id}/status"


def alert_blob_name(job_id: str) -> str:
    return f"{job_id}/alert"


def _status_of(content: bytes | None) -> str:
    if content is None:
        return NOT_FOUND
    try:
        document = json.loads(content)
    except ValueError:
        return UNKNOWN  # e.g. caught half-written: poll again rather than fail the monitor
    status = document.get("status") if isinstance(document, dict) else None
    return status if isinstance(status, str) and status else UNKNOWN


@activity(bp, names.CHECK_JOB_STATUS)
def check_job_status(payload: dict) -> JsonDict:
    query = JobStatusQuery.from_json(payload)
    content = storage.download_bytes(settings.jobs_container(), status_blob_name(query.job_id))
    return JobStatusSnapshot(query.job_id, _status_of(content)).to_json()


@activity(bp, names.SEND_ALERT)
def send_alert(payload: dict) -> JsonDict:
    """Stands in for e-mail/Teams/pager: the alert is a blob."""
    alert = AlertInput.from_json(payload)
    container = settings.jobs_container()
    name = alert_blob_name(alert.job_id)
    storage.upload_json(container, name, {**alert.to_json(), "alerted_at": datetime.now(UTC).isoformat()})
    return {"job_id": alert.job_id, "alert_blob": f"{container}/{name}"}
