"""The Azure store's table transactions with and without ``batch_codec`` (docs/storage.md).

    python bench/bench_batch_codec.py [--repeat 4] [--count 100] [--concurrency 20]

Runs ``bench_store.py``'s throughput workload (the recovery app's 4-activity chain, in-process,
on Azurite) with the fast transactions on and off, alternating (on first in even repetitions),
a fresh task hub each; prints orchestrations/s and this process's CPU per orchestration, min and
median, and the ratios. Starts a throw-away Azurite unless ``DEVHOST_TEST_STORAGE`` names one.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH.parent / "tools"))
sys.path.insert(0, str(BENCH))

import azurite  # noqa: E402
from bench_store import run  # noqa: E402
from devhost.store.azure import AzureStore  # noqa: E402


async def main_async(connection: str, args: argparse.Namespace) -> None:
    rates: dict[bool, list[float]] = {True: [], False: []}
    cpu: dict[bool, list[float]] = {True: [], False: []}
    for rep in range(args.repeat):
        for fast in ((True, False) if rep % 2 == 0 else (False, True)):
            store = AzureStore(connection, "cdc" + uuid.uuid4().hex[:10])
            store.fast_batch = fast
            c0 = time.process_time()
            rate, _ = await run(store, args.count, args.concurrency)
            cpu[fast].append((time.process_time() - c0) / (args.count + 1) * 1000)  # (+1: the warm-up)
            rates[fast].append(rate)
            print(f"repetition {rep + 1} fast={fast}: {rate:.2f} orchestrations/s, "
                  f"{cpu[fast][-1]:.0f} ms CPU per orchestration", flush=True)
    for fast in (True, False):
        print(f"fast={fast}: orchestrations/s min {min(rates[fast]):.2f} / median {statistics.median(rates[fast]):.2f};"
              f" CPU per orchestration median {statistics.median(cpu[fast]):.0f} ms")
    print(f"ratio on/off: medians {statistics.median(rates[True]) / statistics.median(rates[False]):.2f}, "
          f"mins {min(rates[True]) / min(rates[False]):.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=4)
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()
    with azurite.external_or_temporary(os.environ.get(azurite.EXTERNAL_STORAGE_ENV)) as connection:
        asyncio.run(main_async(connection, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
