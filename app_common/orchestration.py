"""Small helpers for orchestrator code (pure: no I/O, no clock, no environment)."""
from __future__ import annotations

from datetime import UTC, datetime

import azure.durable_functions as df

# Compensations and alerts should survive a transient storage error.
RETRY = df.RetryOptions(first_retry_interval_in_milliseconds=1000, max_number_of_attempts=3)


def utc(moment: datetime) -> datetime:
    """``current_utc_datetime`` as an aware UTC datetime (comparable with parsed ISO deadlines)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def failure_message(exc: BaseException) -> str:
    """The first line of a task failure: the SDK appends the serialized .NET-style details
    (with the activity's stack trace) after it, which must not leak into outputs."""
    text = str(exc).strip()
    return text.splitlines()[0].strip() if text else type(exc).__name__
