"""Activity executions of one fan-out shared by two host processes on one task hub.

    python bench/bench_two_hosts.py [--items 1000] [--hosts 2] [--lease-seconds 15] [--poll-seconds 0.5]

Starts real ``python -m devhost`` processes (the recovery tests' app, ``tests/host/recovery``)
on one fresh Azurite task hub, starts the ``fanout`` orchestrator on the first one and counts the
executions each activity recorded (a marker file per run, named after the item and the process).
Nothing fails on purpose, so every item must run exactly once: prints executions, duplicates,
the share of each process and the wall time. Starts a throw-away Azurite unless
``DEVHOST_TEST_STORAGE`` names a running one. Exit status 1 when an item ran twice or never.
docs/storage.md ("Several host processes on one storage") records a run.
"""
from __future__ import annotations

import argparse
import asyncio
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
from devhost.store.azure import AzureStore  # noqa: E402
from tests.host.recovery.hostproc import HostProcess, executions  # noqa: E402


async def measure(connection: str, items: int, hosts: int, settings: dict[str, str], timeout: float,
                  folder: Path) -> int:
    hub = "two" + uuid.uuid4().hex[:10]
    markers = folder / "markers"
    markers.mkdir(parents=True)
    procs = [HostProcess(connection, hub, markers, folder / f"host{i}.log", settings=settings)
             for i in range(hosts)]
    try:
        await asyncio.gather(*(proc.start() for proc in procs))
        t0 = time.perf_counter()
        instance_id = await procs[0].start_orchestration("fanout", {"n": items})
        status = await procs[0].wait_for(instance_id, timeout=timeout)
        wall = time.perf_counter() - t0
        pids = {proc.process.pid: i for i, proc in enumerate(procs) if proc.process is not None}
    finally:
        for proc in procs:
            proc.stop()
        store = AzureStore(connection, hub)
        await store.open()
        await store.delete_task_hub()
        await store.close()
    runs = executions(markers, "work")
    per_item = Counter(key for key, _ in runs)
    per_host = Counter(pids.get(pid, -1) for _, pid in runs)
    duplicates = sum(count - 1 for count in per_item.values())
    missing = items - len(per_item)
    expected = {"count": items, "sum": sum(i * i for i in range(items))}
    print(f"fan-out of {items} activities on {hosts} host processes sharing one task hub "
          f"(lease {settings['DEVHOST_LEASE_SECONDS']} s, poll {settings['DEVHOST_POLL_SECONDS']} s)")
    print(f"  status      : {status['runtimeStatus']}, output {'correct' if status['output'] == expected else 'WRONG'}")
    print(f"  executions  : {len(runs)}")
    print(f"  duplicates  : {duplicates} (items run more than once: {sum(1 for c in per_item.values() if c > 1)})")
    print(f"  never run   : {missing}")
    print(f"  per process : " + ", ".join(f"host{i} {per_host[i]}" for i in range(hosts)))
    print(f"  wall time   : {wall:.1f} s (start request to Completed)")
    ok = status["output"] == expected and duplicates == 0 and missing == 0
    return 0 if ok else 1


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--hosts", type=int, default=2)
    parser.add_argument("--lease-seconds", default="15", help="DEVHOST_LEASE_SECONDS of the hosts")
    parser.add_argument("--poll-seconds", default="0.5", help="DEVHOST_POLL_SECONDS of the hosts")
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--keep", metavar="DIR", help="write the host logs and markers to DIR (kept)")
    args = parser.parse_args(argv)
    settings = {"DEVHOST_LEASE_SECONDS": args.lease_seconds, "DEVHOST_POLL_SECONDS": args.poll_seconds}

    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="devhost-two-hosts-"))
    try:
        with azurite_tool.external_or_temporary() as connection:
            return await measure(connection, args.items, args.hosts, settings, args.timeout, folder)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)

if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
