"""The Azure store (Azurite) against the in-memory store: throughput, storage requests per
orchestration, and starts served over HTTP.

    python bench/bench_store.py [--count 100] [--concurrency 20] [--repeat 3] [--warmup 1]
                                [--count-chains 20] [--served 1000] [--clients 100] [--client-timeout 10]
                                [--skip throughput,requests,served]

1. Throughput: the recovery test app's 4-activity ``chain`` in-process (``DurableTestHost``,
   virtual clock), ``--count`` orchestrations ``--concurrency`` at a time, memory and Azurite
   alternating within each of ``--repeat`` repetitions (a fresh task hub each); min and median.
   ``--warmup`` repetitions run first, the same way, and are printed but not counted: Azurite is
   a Node.js process whose first few thousand requests run before V8 has optimized its code
   (a cold first repetition measured 33-39/s where the later ones ran 43-60/s, docs/storage.md).
2. Storage requests per chain: ``--count-chains`` chains on Azurite with every request counted
   (``bench/storage_requests.py``: real requests, by operation and store method). The waiter's
   status reads (``get_instance (status)``, one per change of the instance) are shown apart.
3. Served starts: ``python -m devhost`` on the Azure store (a subprocess, ``tests/host/recovery/
   hostproc.py``), ``--served`` starts posted by ``--clients`` concurrent HTTP clients with a
   ``--client-timeout``: starts/s, p50/p99 latency, client timeouts, and instances that exist in
   storage although their client never got the answer.

Starts a throw-away Azurite unless ``DEVHOST_TEST_STORAGE`` names a running one. Not a test: the
figures depend on the machine; docs/storage.md records runs.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Awaitable, Callable


ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "bench"))

from served import client_burst  # noqa: E402
from bench.storage_requests import RequestCounter  # noqa: E402
from devhost.store.azure import AzureStore  # noqa: E402
from devhost.store.base import InstanceQuery  # noqa: E402
from devhost.store.memory import MemoryStore  # noqa: E402
from devhost.testing import DurableTestHost  # noqa: E402
from tests.host.recovery.hostproc import MASTER_KEY, HostProcess  # noqa: E402

APP = ROOT / "tests" / "host" / "recovery" / "app"


async def run(store: Any, count: int, concurrency: int,
              before: Callable[[], None] = lambda: None) -> tuple[float, float]:
    """Returns (orchestrations/s, median seconds per orchestration); ``before`` runs after the warm-up."""
    async with DurableTestHost.start_time_skipping(APP, store=store) as env:
        warm = await env.start("chain", 0)
        await env.wait(warm, timeout=60)
        before()
        gate = asyncio.Semaphore(concurrency)
        latencies: list[float] = []

        async def one(i: int) -> None:
            async with gate:
                t0 = time.perf_counter()
                instance_id = await env.start("chain", i)
                status = await env.wait(instance_id, timeout=300)
                assert status["output"] == i + 4, status
                latencies.append(time.perf_counter() - t0)

        t0 = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(count)))
        elapsed = time.perf_counter() - t0
    return count / elapsed, statistics.median(latencies)


async def drop_hub(connection: str, hub: str) -> None:
    cleanup = AzureStore(connection, hub)
    await cleanup.open()
    await cleanup.delete_task_hub()
    await cleanup.close()


async def on_fresh_hub(connection: str, body: Callable[[AzureStore], Awaitable[Any]], prefix: str = "bench") -> Any:
    hub = prefix + uuid.uuid4().hex[:8]
    try:
        return await body(AzureStore(connection, hub))
    finally:
        await drop_hub(connection, hub)


def summary(values: list[float], scale: float = 1.0, digits: int = 1) -> str:
    return f"min {min(values) * scale:.{digits}f} / median {statistics.median(values) * scale:.{digits}f}"


async def throughput(connection: str, args: argparse.Namespace) -> None:
    rows: dict[str, list[tuple[float, float]]] = {"memory": [], "azure": []}
    warm: list[str] = []
    for rep in range(args.warmup + args.repeat):
        memory = await run(MemoryStore(), args.count, args.concurrency)
        azure = await on_fresh_hub(connection, lambda s: run(s, args.count, args.concurrency))
        if rep < args.warmup:
            warm.append(f"memory {memory[0]:.1f}/s, azure {azure[0]:.1f}/s")
        else:
            rows["memory"].append(memory)
            rows["azure"].append(azure)
    print(f"throughput: 4-activity chain, {args.count} orchestrations, {args.concurrency} at a time, "
          f"{args.repeat} alternating repetitions after {args.warmup} uncounted warm-up")
    if warm:
        print(f"  warm-up (not counted): {'; '.join(warm)}")
    for name, label in (("memory", "memory store "), ("azure", "azure (Azurite)")):
        rates, p50s = [r for r, _ in rows[name]], [p for _, p in rows[name]]
        print(f"  {label}: orchestrations/s {summary(rates)}; median latency ms {summary(p50s, 1000, 0)}")
    ratios = [m[0] / a[0] for m, a in zip(rows["memory"], rows["azure"])]
    print(f"  ratio memory/azure per repetition: {', '.join(f'{r:.1f}x' for r in ratios)}")


async def requests_per_chain(connection: str, args: argparse.Namespace) -> None:
    counter = RequestCounter()
    cpu: list[float] = []

    def before() -> None:
        counter.reset()
        cpu.append(time.process_time())

    async def body(store: AzureStore) -> None:
        counter.install(store)
        await run(store, args.count_chains, args.concurrency, before=before)
        cpu.append(time.process_time())

    await on_fresh_hub(connection, body)
    waiter = counter.by_method.get("get_instance (status)", 0)
    n = args.count_chains
    print(f"storage requests per 4-activity chain ({n} chains, {args.concurrency} at a time, Azurite): "
          f"{(counter.total - waiter) / n:.1f} by the host, plus {waiter / n:.1f} status reads by the waiter")
    print("\n".join(counter.report(per=n)))
    print(f"  this process's CPU (host, store, bench): {(cpu[1] - cpu[0]) / counter.total * 1000:.2f} ms per request")


async def served_starts(connection: str, args: argparse.Namespace) -> None:
    async def body(store: AzureStore) -> None:
        folder = Path(tempfile.mkdtemp(prefix="devhost-served-"))
        proc = HostProcess(connection, store.task_hub, folder, folder / "host.log",
                           settings={"DEVHOST_LEASE_SECONDS": "15", "DEVHOST_POLL_SECONDS": "0.5"})
        await proc.start()
        try:
            figures = await client_burst(f"{proc.base_url}/api/start/chain", {"x-functions-key": MASTER_KEY},
                                         lambda i: i, args.served, args.clients, args.client_timeout)
        finally:
            proc.stop()
        await store.open()
        try:
            created = await all_instance_ids(store)
        finally:
            await store.close()
        unknown = len(created - set(figures["instance_ids"]))
        print(f"served starts: {args.served} POST /api/start/chain from {args.clients} concurrent clients, "
              f"client timeout {args.client_timeout:g} s, python -m devhost on Azurite")
        print(f"  starts/s {figures['starts_per_s']:.1f} (answered in {figures['total_s']:.1f} s); latency p50 "
              f"{figures['p50_ms']:.0f} ms, p99 {figures['p99_ms']:.0f} ms, max {figures['max_ms']:.0f} ms"
              if figures["answered"] else "  no start was answered")
        print(f"  client timeouts {figures['client_timeouts']}, other errors {figures['errors']}; "
              f"instances in storage {len(created)}, of which the client never learned {unknown}")

    await on_fresh_hub(connection, body, prefix="served")


async def all_instance_ids(store: AzureStore) -> set[str]:
    ids: set[str] = set()
    token = None
    while True:
        rows, token = await store.query_instances(InstanceQuery(continuation=token))
        ids.update(r.instance_id for r in rows)
        if token is None:
            return ids


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1, help="uncounted throughput repetitions run first")
    parser.add_argument("--count-chains", type=int, default=20)
    parser.add_argument("--served", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--client-timeout", type=float, default=10.0)
    parser.add_argument("--skip", default="", help="comma-separated: throughput, requests, served")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    skip = set(filter(None, args.skip.split(",")))

    import azurite as azurite_tool

    with azurite_tool.external_or_temporary(os.environ.get(azurite_tool.EXTERNAL_STORAGE_ENV)) as connection:
        if "requests" not in skip:
            await requests_per_chain(connection, args)
        if "throughput" not in skip:
            await throughput(connection, args)
        if "served" not in skip:
            await served_starts(connection, args)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
