"""Activity executions of one fan-out shared by two host processes on one task hub.

    python bench/bench_two_hosts.py [--app recovery|main] [--items 1000] [--hosts 2]
                                    [--lease-seconds 15] [--poll-seconds 0.5] [--slots N] [--keep DIR]

Starts real ``python -m devhost`` processes on one fresh Azurite task hub, starts one fan-out
on the first and counts the activity executions of every process. Nothing fails on purpose, so
every item must run exactly once. ``--app recovery`` (default): the recovery tests' ``fanout``
(``tests/host/recovery``), whose activities record each run (item and process) in a marker
file. ``--app main``: this repository's app, ``fan_out_fan_in`` over as many uploaded blobs
(one ``ProcessBlob`` each), executions counted from the hosts' invocation log lines. Prints
executions, duplicates, each process's share and the wall time; exit status 1 when an item ran
twice or never. Starts a throw-away Azurite unless ``DEVHOST_TEST_STORAGE`` names a running one.
docs/storage.md ("Several host processes on one storage") records a run.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

import azurite as azurite_tool  # noqa: E402
from azure.storage.blob.aio import BlobServiceClient  # noqa: E402

from devhost.store.azure import AzureStore  # noqa: E402
from tests.host.recovery.hostproc import HostProcess, executions  # noqa: E402


async def run_recovery_fanout(procs: list[HostProcess], items: int, folder: Path,
                              timeout: float) -> tuple[bool, list[tuple[str, int]]]:
    """The recovery app's ``fanout``: (output correct, (item, pid) of every execution)."""
    instance_id = await procs[0].start_orchestration("fanout", {"n": items})
    status = await procs[0].wait_for(instance_id, timeout=timeout)
    expected = {"count": items, "sum": sum(i * i for i in range(items))}
    return status["output"] == expected, executions(folder / "markers", "work")


async def run_main_fanout(procs: list[HostProcess], items: int, connection: str,
                          timeout: float) -> tuple[bool, list[tuple[str, int]]]:
    """The app's ``fan_out_fan_in`` over ``items`` blobs: (output correct, ("?", pid) per ProcessBlob run)."""
    container = "bench-" + uuid.uuid4().hex[:12]
    async with BlobServiceClient.from_connection_string(connection) as service:
        client = await service.create_container(container)
        gate = asyncio.Semaphore(32)

        async def upload(i: int) -> None:
            async with gate:
                await client.upload_blob(f"item-{i:05d}.txt", f"blob {i}\n".encode())

        await asyncio.gather(*(upload(i) for i in range(items)))
        try:
            code, started = await procs[0].call("POST", "/api/orchestrators/fan_out_fan_in",
                                                {"container": container, "prefix": ""})
            assert code == 202, (code, started)
            status = await procs[0].wait_for(started["id"], timeout=timeout)
        finally:
            await client.delete_container()
    runs = [("?", proc.process.pid) for proc in procs if proc.process is not None
            for line in proc.log().splitlines() if " activity " in line and " ProcessBlob " in line]
    output = status.get("output") or {}
    return status["runtimeStatus"] == "Completed" and output.get("blob_count") == items, runs


async def measure(connection: str, args: argparse.Namespace, folder: Path) -> int:
    hub = "two" + uuid.uuid4().hex[:10]
    settings = {"DEVHOST_LEASE_SECONDS": args.lease_seconds, "DEVHOST_POLL_SECONDS": args.poll_seconds,
                "TASK_HUB_NAME": hub}
    if args.slots:
        settings["AzureFunctionsJobHost__extensions__durableTask__maxConcurrentActivityFunctions"] = str(args.slots)
    (folder / "markers").mkdir(parents=True)
    procs = [HostProcess(connection, hub, folder / "markers", folder / f"host{i}.log", settings=settings,
                         app=ROOT if args.app == "main" else HostProcess.app) for i in range(args.hosts)]
    try:
        await asyncio.gather(*(proc.start() for proc in procs))
        pids = {proc.process.pid: i for i, proc in enumerate(procs) if proc.process is not None}
        t0 = time.perf_counter()
        if args.app == "main":
            correct, runs = await run_main_fanout(procs, args.items, connection, args.timeout)
        else:
            correct, runs = await run_recovery_fanout(procs, args.items, folder, args.timeout)
        wall = time.perf_counter() - t0
    finally:
        for proc in procs:
            proc.stop()
        store = AzureStore(connection, hub)
        await store.open()
        await store.delete_task_hub()
        await store.close()
    per_host = Counter(pids.get(pid, -1) for _, pid in runs)
    duplicates = len(runs) - args.items
    print(f"fan-out of {args.items} activities ({args.app} app) on {args.hosts} host processes sharing one "
          f"task hub (lease {args.lease_seconds} s, poll {args.poll_seconds} s, slots {args.slots or 'default'})")
    print(f"  output      : {'correct' if correct else 'WRONG'}")
    print(f"  executions  : {len(runs)}")
    if args.app == "recovery":
        per_item = Counter(key for key, _ in runs)
        print(f"  items run more than once: {sum(1 for c in per_item.values() if c > 1)}, "
              f"never: {args.items - len(per_item)}")
    print(f"  duplicates  : {duplicates}")
    print("  per process : " + ", ".join(f"host{i} {per_host[i]}" for i in range(args.hosts)))
    print(f"  wall time   : {wall:.1f} s (start request to Completed)")
    return 0 if correct and duplicates == 0 else 1


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app", choices=["recovery", "main"], default="recovery")
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--hosts", type=int, default=2)
    parser.add_argument("--lease-seconds", default="15", help="DEVHOST_LEASE_SECONDS of the hosts")
    parser.add_argument("--poll-seconds", default="0.5", help="DEVHOST_POLL_SECONDS of the hosts")
    parser.add_argument("--slots", type=int, help="maxConcurrentActivityFunctions of each host (default: the host's)")
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--keep", metavar="DIR", help="write the host logs (and markers) to DIR and keep them")
    args = parser.parse_args(argv)
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="devhost-two-hosts-"))
    try:
        with azurite_tool.external_or_temporary(os.environ.get(azurite_tool.EXTERNAL_STORAGE_ENV)) as connection:
            return await measure(connection, args, folder)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
