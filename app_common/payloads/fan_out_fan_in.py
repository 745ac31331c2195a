"""Fan-out/fan-in: list blobs, process each in parallel, aggregate into a summary blob.
Only names and small stats cross durable boundaries, never blob contents."""
from __future__ import annotations

from typing import Annotated

from pydantic import Field

from .base import Int, Payload, Str

MAX_PREFIX = 512
MAX_BLOBS = 5000
Container = Annotated[Str, Field(max_length=63, pattern=r"^(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")]
Prefix = Annotated[Str, Field(min_length=0, max_length=MAX_PREFIX)]
BlobName = Annotated[Str, Field(max_length=1024)]
Count = Annotated[Int, Field(ge=0)]


class FanOutInput(Payload):
    """Orchestrator input of ``fan_out_fan_in`` and input of ``ListBlobs``.
    ``container`` None means INPUT_CONTAINER (resolved by ListBlobs, not by the orchestrator)."""

    container: Container | None = None
    prefix: Prefix = ""


class BlobListing(Payload):
    """Output of ``ListBlobs``."""

    container: Container
    names: Annotated[list[BlobName], Field(max_length=MAX_BLOBS)]


class ProcessBlobInput(Payload):
    container: Container
    name: BlobName


class BlobStats(Payload):
    """Output of ``ProcessBlob``."""

    name: BlobName
    size: Count
    sha256: Annotated[Str, Field(pattern=r"^[0-9a-f]{64}$")]


class SummaryInput(Payload):
    """Input of ``WriteSummary``."""

    instance_id: Annotated[Str, Field(pattern=r"^[A-Za-z0-9_.:-]{1,256}$")]
    container: Container
    prefix: Prefix
    blobs: Annotated[list[BlobStats], Field(max_length=MAX_BLOBS)]


class FanOutSummary(Payload):
    """Output of ``WriteSummary`` and of the ``fan_out_fan_in`` orchestration."""

    container: Container
    prefix: Prefix
    blob_count: Count
    total_bytes: Count
    summary_blob: BlobName
