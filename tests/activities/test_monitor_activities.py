from __future__ import annotations

from activities.monitor import check_job_status, send_alert
from app_common.settings import jobs_container
from tests.blobs import read_json_blob


def put(blob_service, name: str, data: bytes) -> None:
    container = blob_service.get_container_client(jobs_container())
    if not container.exists():
        container.create_container()
    container.upload_blob(name, data, overwrite=True)


def test_check_job_status(blob_service, unique):
    assert check_job_status({"job_id": unique}) == {"job_id": unique, "status": "NotFound"}
    put(blob_service, f"{unique}/status", b'{"status": "Running", "progress": 40}')
    assert check_job_status({"job_id": unique})["status"] == "Running"
    put(blob_service, f"{unique}/status", b"half-writ")
    assert check_job_status({"job_id": unique})["status"] == "Unknown"
    put(blob_service, f"{unique}/status", b'["Completed"]')
    assert check_job_status({"job_id": unique})["status"] == "Unknown"


def test_send_alert_writes_the_alert_blob(blob_service, unique):
    result = send_alert({"job_id": unique, "status": "Completed", "polls": 4})
    assert result == {"job_id": unique, "alert_blob": f"{jobs_container()}/{unique}/alert"}
    alert = read_json_blob(blob_service, jobs_container(), f"{unique}/alert")
    assert alert["status"] == "Completed" and alert["polls"] == 4 and alert["alerted_at"]
