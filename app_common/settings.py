"""The one place the app reads its settings (``tests/infra`` checks infra sets each of them).

Read at call time, never at import, and never from an orchestrator (replays must not depend
on the environment): routes and activities call these functions.
"""
from __future__ import annotations

import math
import os

APPROVAL_TIMEOUT_HOURS = "APPROVAL_TIMEOUT_HOURS"
RESULTS_CONTAINER = "RESULTS_CONTAINER"
JOBS_CONTAINER = "JOBS_CONTAINER"
INPUT_CONTAINER = "INPUT_CONTAINER"
# Local: a connection string (``UseDevelopmentStorage=true`` = Azurite). Azure: unset, the
# identity-based ``AzureWebJobsStorage__*`` settings are used instead.
STORAGE_CONNECTION = "AzureWebJobsStorage"
STORAGE_BLOB_SERVICE_URI = "AzureWebJobsStorage__blobServiceUri"

DEFAULT_APPROVAL_TIMEOUT_HOURS = 72.0


class SettingsError(RuntimeError):
    """A setting is present but unusable: a deployment problem, not a caller's mistake."""


def _setting(name: str) -> str | None:
    value = os.environ.get(name)
    return value.strip() if value and value.strip() else None


def approval_timeout_hours() -> float:
    raw = _setting(APPROVAL_TIMEOUT_HOURS)
    if raw is None:
        return DEFAULT_APPROVAL_TIMEOUT_HOURS
    try:
        hours = float(raw)
    except ValueError:
        raise SettingsError(f"{APPROVAL_TIMEOUT_HOURS} must be a number of hours, got {raw!r}") from None
    if not math.isfinite(hours) or hours <= 0:
        raise SettingsError(f"{APPROVAL_TIMEOUT_HOURS} must be positive, got {raw!r}")
    return hours


def results_container() -> str:
    return _setting(RESULTS_CONTAINER) or "results"


def jobs_container() -> str:
    return _setting(JOBS_CONTAINER) or "jobs"


def input_container() -> str:
    return _setting(INPUT_CONTAINER) or "input"


def storage_connection_string() -> str | None:
    return _setting(STORAGE_CONNECTION)


def blob_service_uri() -> str | None:
    return _setting(STORAGE_BLOB_SERVICE_URI)
