"""Upload the sample blobs in ``samples/`` to local storage, so the README's fan-out call has data.

    python scripts/seed_samples.py [--connection STR]

``samples/<container>/<blob name>``: each file becomes that blob (``samples/input/2024/05/x.csv``
is blob ``2024/05/x.csv`` in container ``input``). Idempotent: a blob that exists with the same
size is left alone. The connection string is ``--connection``, else ``AzureWebJobsStorage`` from
the environment, else from ``local.settings.json`` (``UseDevelopmentStorage=true``: Azurite).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import BlobServiceClient

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"


def sample_blobs(root: Path = SAMPLES) -> dict[tuple[str, str], Path]:
    """(container, blob name) -> file, for every file under ``root``."""
    blobs = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        container, *parts = path.relative_to(root).parts
        blobs[(container, "/".join(parts))] = path
    return blobs


def connection_string(explicit: str | None) -> str:
    if explicit or os.environ.get("AzureWebJobsStorage"):
        return explicit or os.environ["AzureWebJobsStorage"]
    settings = ROOT / "local.settings.json"
    values = json.loads(settings.read_text()).get("Values", {}) if settings.is_file() else {}
    return values.get("AzureWebJobsStorage") or "UseDevelopmentStorage=true"


def seed(service: BlobServiceClient, blobs: dict[tuple[str, str], Path]) -> int:
    """Upload what is missing or differs in size; returns how many blobs were uploaded."""
    uploaded = 0
    for (container, name), path in blobs.items():
        try:
            service.create_container(container)
        except ResourceExistsError:
            pass
        blob = service.get_blob_client(container, name)
        try:
            if blob.get_blob_properties().size == path.stat().st_size:
                continue
        except ResourceNotFoundError:
            pass
        blob.upload_blob(path.read_bytes(), overwrite=True)
        uploaded += 1
    return uploaded


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connection", help="storage connection string (default: AzureWebJobsStorage)")
    args = parser.parse_args(argv)
    blobs = sample_blobs()
    with BlobServiceClient.from_connection_string(connection_string(args.connection)) as service:
        uploaded = seed(service, blobs)
    folders = sorted({f"{container}/{name.rsplit('/', 1)[0]}/" for container, name in blobs})
    print(f"seed: {len(blobs)} sample blobs in {', '.join(folders)} ({uploaded} uploaded)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
