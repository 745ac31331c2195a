"""Fan-out/fan-in: list blobs, process each in parallel, aggregate into a summary blob.
Only names and small stats cross durable boundaries, never blob contents."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..validation import JsonDict, as_object, check_str, get_int, get_list, get_str

CONTAINER = re.compile(r"^(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
MAX_PREFIX = 512
MAX_BLOBS = 5000


@dataclass(frozen=True)
class FanOutInput:
    """Orchestrator input of ``fan_out_fan_in`` and input of ``ListBlobs``.
    ``container`` None means INPUT_CONTAINER (resolved by ListBlobs, not by the orchestrator)."""

    container: str | None = None
    prefix: str = ""

    @classmethod
    def from_json(cls, data: Any) -> FanOutInput:
        data = as_object(data, "fan-out input", ("container", "prefix"))
        return cls(
            container=get_str(data, "container", None, pattern=CONTAINER, max_length=63),
            prefix=get_str(data, "prefix", "", max_length=MAX_PREFIX, allow_empty=True),
        )

    def to_json(self) -> JsonDict:
        return {"container": self.container, "prefix": self.prefix}


@dataclass(frozen=True)
class BlobListing:
    """Output of ``ListBlobs``."""

    container: str
    names: tuple[str, ...]

    @classmethod
    def from_json(cls, data: Any) -> BlobListing:
        data = as_object(data, "blob listing", ("container", "names"))
        return cls(
            container=get_str(data, "container", pattern=CONTAINER, max_length=63),
            names=tuple(check_str(n, "names[]", max_length=1024)
                        for n in get_list(data, "names", max_items=MAX_BLOBS)),
        )

    def to_json(self) -> JsonDict:
        return {"container": self.container, "names": list(self.names)}


@dataclass(frozen=True)
class ProcessBlobInput:
    container: str
    name: str

    @classmethod
    def from_json(cls, data: Any) -> ProcessBlobInput:
        data = as_object(data, "process-blob input", ("container", "name"))
        return cls(container=get_str(data, "container", pattern=CONTAINER, max_length=63),
                   name=get_str(data, "name", max_length=1024))

    def to_json(self) -> JsonDict:
        return {"container": self.container, "name": self.name}


@dataclass(frozen=True)
class BlobStats:
    """Output of ``ProcessBlob``."""

    name: str
    size: int
    sha256: str

    @classmethod
    def from_json(cls, data: Any, what: str = "blob stats") -> BlobStats:
        data = as_object(data, what, ("name", "size", "sha256"))
        return cls(name=get_str(data, "name", max_length=1024), size=get_int(data, "size", minimum=0),
                   sha256=get_str(data, "sha256", pattern=SHA256_HEX))

    def to_json(self) -> JsonDict:
        return {"name": self.name, "size": self.size, "sha256": self.sha256}


@dataclass(frozen=True)
class SummaryInput:
    """Input of ``WriteSummary``."""

    instance_id: str
    container: str
    prefix: str
    blobs: tuple[BlobStats, ...]

    @classmethod
    def from_json(cls, data: Any) -> SummaryInput:
        data = as_object(data, "summary input", ("instance_id", "container", "prefix", "blobs"))
        return cls(
            instance_id=get_str(data, "instance_id", pattern=re.compile(r"^[A-Za-z0-9_.:-]{1,256}$")),
            container=get_str(data, "container", pattern=CONTAINER, max_length=63),
            prefix=get_str(data, "prefix", max_length=MAX_PREFIX, allow_empty=True),
            blobs=tuple(BlobStats.from_json(b, f"blobs[{i}]")
                        for i, b in enumerate(get_list(data, "blobs", max_items=MAX_BLOBS))),
        )

    def to_json(self) -> JsonDict:
        return {"instance_id": self.instance_id, "container": self.container, "prefix": self.prefix,
                "blobs": [b.to_json() for b in self.blobs]}


@dataclass(frozen=True)
class FanOutSummary:
    """Output of ``WriteSummary`` and of the ``fan_out_fan_in`` orchestration."""

    container: str
    prefix: str
    blob_count: int
    total_bytes: int
    summary_blob: str

    @classmethod
    def from_json(cls, data: Any) -> FanOutSummary:
        data = as_object(data, "summary", ("container", "prefix", "blob_count", "total_bytes", "summary_blob"))
        return cls(
            container=get_str(data, "container", pattern=CONTAINER, max_length=63),
            prefix=get_str(data, "prefix", max_length=MAX_PREFIX, allow_empty=True),
            blob_count=get_int(data, "blob_count", minimum=0),
            total_bytes=get_int(data, "total_bytes", minimum=0),
            summary_blob=get_str(data, "summary_blob", max_length=1024),
        )

    def to_json(self) -> JsonDict:
        return {"container": self.container, "prefix": self.prefix, "blob_count": self.blob_count,
                "total_bytes": self.total_bytes, "summary_blob": self.summary_blob}
