from __future__ import annotations

import pytest

from activities.async_http_api import JobFailedError, publish_job_status, run_job
from app_common.settings import jobs_container
from app_common.validation import ValidationError
from tests.blobs import read_json_blob


def test_run_job_statistics():
    assert run_job({"job": "j", "items": [3, 1, 2]}) == {"job": "j", "count": 3, "total": 6, "mean": 2.0,
                                                          "minimum": 1, "maximum": 3}
    assert run_job({"job": "empty", "items": []}) == {"job": "empty", "count": 0, "total": 0, "mean": None,
                                                       "minimum": None, "maximum": None}


def test_run_job_simulated_failure():
    with pytest.raises(JobFailedError, match="simulated failure"):
        run_job({"job": "j", "items": [1], "simulate_failure": True})


def test_publish_job_status_writes_the_status_blob(blob_service, unique):
    update = {"job_id": unique, "status": "Completed", "result": {"count": 1}, "error": None}
    assert publish_job_status(update) == update
    assert read_json_blob(blob_service, jobs_container(), f"{unique}/status") == update
    with pytest.raises(ValidationError, match="'status' must be one of"):
        publish_job_status({**update, "status": "Done"})
