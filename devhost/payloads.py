"""Payload size guards (issue 6).

Azure Storage moves queue messages above ~45 KB into blobs (slower, more storage calls), and
very large payloads make every replay slow. The host warns above 45 KB and refuses payloads
above 1 MiB with a message that says what to do instead. Custom status is capped at 16 KB, as
the extension does.
"""
from __future__ import annotations

import logging

log = logging.getLogger("devhost")

WARN_BYTES = 45 * 1024
LIMIT_BYTES = 1024 * 1024
CUSTOM_STATUS_LIMIT_BYTES = 16 * 1024
_warned: set[tuple[str, str]] = set()


class PayloadTooLarge(ValueError):
    pass


def size_of(text: str | None) -> int:
    if not text:
        return 0
    if len(text) * 4 <= WARN_BYTES:  # cannot exceed the warning size: skip the encode
        return len(text)
    return len(text.encode("utf-8"))


def check(kind: str, name: str, text: str | None, limit: int = LIMIT_BYTES) -> None:
    """Raise ``PayloadTooLarge`` above ``limit``; log a warning (once per kind/name) above 45 KB."""
    size = size_of(text)
    if size > limit:
        raise PayloadTooLarge(
            f"The {kind} of '{name}' is {size:,} bytes, above the {limit:,}-byte limit for durable "
            "payloads. Store the data in a blob (or another store) and pass its name or URL instead."
        )
    if size > WARN_BYTES and (kind, name) not in _warned:
        _warned.add((kind, name))
        log.warning("The %s of '%s' is %s bytes: above 45 KB, Azure Storage moves it to a blob on every "
                    "send; consider passing a blob reference instead.", kind, name, f"{size:,}")
