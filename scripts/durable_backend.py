#!/usr/bin/env python3
"""Switch the *packaged* host.json to the Durable Task Scheduler backend.

azd runs this as the `api` service's prepackage hook (``apply``) and postpackage
hook (``restore``), so the zip that azd deploys carries the backend chosen with
``azd env set DURABLE_BACKEND ...`` while the checked-in host.json, which local
development uses, stays on Azure Storage.

    python scripts/durable_backend.py apply     # rewrite host.json if DURABLE_BACKEND=DurableTaskScheduler
    python scripts/durable_backend.py restore   # put the original host.json back
    python scripts/durable_backend.py show      # print the host.json that would be packaged

Standard library only.
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import sys
from pathlib import Path

AZURE_STORAGE = "AzureStorage"
SCHEDULER = "DurableTaskScheduler"
CONNECTION_SETTING = "DURABLE_TASK_SCHEDULER_CONNECTION_STRING"

ROOT = Path(__file__).resolve().parent.parent
HOST_JSON = ROOT / "host.json"
BACKUP = ROOT / ".azure" / "durable_backend" / "host.json.orig"


def backend_from_env(environ=os.environ) -> str:
    value = (environ.get("DURABLE_BACKEND") or AZURE_STORAGE).strip()
    if value not in (AZURE_STORAGE, SCHEDULER):
        raise SystemExit(f"DURABLE_BACKEND must be {AZURE_STORAGE} or {SCHEDULER}, got {value!r}")
    return value


def to_scheduler_host_json(host: dict) -> dict:
    """Return a copy of host.json configured for the Durable Task Scheduler.

    The Azure Storage provider options (e.g. maxQueuePollingInterval) are dropped:
    they do not apply to the azureManaged provider. hubName is kept, so the task
    hub is still TASK_HUB_NAME, which infra also uses as the scheduler's task hub.
    """
    result = copy.deepcopy(host)
    durable = result.setdefault("extensions", {}).setdefault("durableTask", {})
    durable["storageProvider"] = {"type": "azureManaged", "connectionStringName": CONNECTION_SETTING}
    return result


def restore() -> bool:
    if not BACKUP.exists():
        return False
    shutil.copyfile(BACKUP, HOST_JSON)
    BACKUP.unlink()
    return True


def apply(backend: str) -> None:
    # A previous run that never reached postpackage left a rewritten host.json behind.
    if restore():
        print("durable_backend: restored host.json left over from an earlier run")
    if backend == AZURE_STORAGE:
        print("durable_backend: DURABLE_BACKEND=AzureStorage, host.json packaged unchanged")
        return
    host = json.loads(HOST_JSON.read_text(encoding="utf-8"))
    BACKUP.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(HOST_JSON, BACKUP)
    HOST_JSON.write_text(json.dumps(to_scheduler_host_json(host), indent=2) + "\n", encoding="utf-8")
    print(f"durable_backend: host.json switched to azureManaged ({CONNECTION_SETTING}); "
          "postpackage restores it")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["apply", "restore", "show"])
    args = parser.parse_args(argv)
    if args.action == "apply":
        apply(backend_from_env())
    elif args.action == "restore":
        print("durable_backend: host.json restored" if restore() else "durable_backend: nothing to restore")
    else:
        host = json.loads(HOST_JSON.read_text(encoding="utf-8"))
        if backend_from_env() == SCHEDULER:
            host = to_scheduler_host_json(host)
        json.dump(host, sys.stdout, indent=2)
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
