"""Orchestrations/s of a 4-activity chain on the Azurite store vs the in-memory store.

    python bench/bench_store.py [--count 100] [--concurrency 20]

Runs the recovery test app's ``chain`` orchestrator in-process (``DurableTestHost``, real HTTP
server, virtual clock) once per store and prints the throughput of each and their ratio.
Starts a throw-away Azurite unless ``DEVHOST_TEST_STORAGE`` names a running one. Not a test:
the figures depend on the machine; docs/storage.md records a run.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import logging
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

from devhost.store.azure import AzureStore  # noqa: E402
from devhost.store.memory import MemoryStore  # noqa: E402
from devhost.testing import DurableTestHost  # noqa: E402

APP = ROOT / "tests" / "host" / "recovery" / "app"


async def run(store, count: int, concurrency: int) -> tuple[float, float]:
    """Returns (orchestrations/s, median seconds per orchestration)."""
    async with DurableTestHost.start_time_skipping(APP, store=store) as env:
        warm = await env.start("chain", 0)
        await env.wait(warm, timeout=60)
        gate = asyncio.Semaphore(concurrency)
        latencies: list[float] = []

        async def one(i: int) -> None:
            async with gate:
                t0 = time.perf_counter()
                instance_id = await env.start("chain", i)
                status = await env.wait(instance_id, timeout=120)
                assert status["output"] == i + 4, status
                latencies.append(time.perf_counter() - t0)

        t0 = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(count)))
        elapsed = time.perf_counter() - t0
    latencies.sort()
    return count / elapsed, latencies[len(latencies) // 2]


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    import azurite as azurite_tool

    with azurite_tool.external_or_temporary(os.environ.get(azurite_tool.EXTERNAL_STORAGE_ENV)) as connection:
        memory_rate, memory_p50 = await run(MemoryStore(), args.count, args.concurrency)
        hub = "bench" + uuid.uuid4().hex[:8]
        azure = AzureStore(connection, hub)
        azure_rate, azure_p50 = await run(azure, args.count, args.concurrency)
        cleanup = AzureStore(connection, hub)
        await cleanup.open()
        await cleanup.delete_task_hub()
        await cleanup.close()
    print(f"4-activity chain, {args.count} orchestrations, {args.concurrency} at a time")
    print(f"  memory store : {memory_rate:8.1f} orchestrations/s  (median {memory_p50 * 1000:6.1f} ms each)")
    print(f"  azure store  : {azure_rate:8.1f} orchestrations/s  (median {azure_p50 * 1000:6.1f} ms each, Azurite)")
    print(f"  ratio        : memory is {memory_rate / azure_rate:.1f}x faster")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
