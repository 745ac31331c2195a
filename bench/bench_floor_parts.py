"""Two parts of the short-chain cost beyond the SDK floor that are not the host's own code (issue 13, item 4).

    python bench/bench_floor_parts.py [--chains 500] [--repeat 3]

1. The bare mechanics of a four-activity chain: per chain, five empty asyncio tasks (the first
   episode's, then one per activity, in which the next episode runs) and four empty hops through
   the host's ``FunctionPool`` / ``run_in_pool`` (the worker runs ``def`` activities on its thread
   pool, so the host does too). Nothing else runs.
2. The SDK's own calls on cooled caches: ``--chains`` four-activity chains are run through the
   host while every orchestrator call is recorded; then the recorded calls are made again back to
   back ("SDK alone", the floor of ``bench_replay.py``) and again with a 400-element JSON round
   trip between calls (standing in for the host's work between two episodes).

Process or thread CPU per chain, and per history event (as many as part 2's chains handed the
SDK: 50 per chain), median and min over ``--repeat`` repetitions, the two ways of part 2
alternating. docs/benchmarks.md, "Issue 13,
fifth session", records runs.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

_JUNK = [{f"k{i}": [i, str(i), {"x": i}]} for i in range(400)]


def med_min(values: list[float], events_per_chain: float) -> str:
    median, least = statistics.median(values), min(values)
    return (f"{median:.0f} / {least:.0f} us per chain "
            f"({median / events_per_chain:.1f} / {least / events_per_chain:.1f} us per event)")


async def bare_mechanics(chains: int) -> float:
    """Process CPU microseconds per chain of tasks and pool hops alone."""
    from devhost.function_pool import FunctionPool
    from devhost.invoke import run_in_pool

    pool = FunctionPool(4, "bench-mechanics")

    async def episode() -> None:
        return None

    async def activity() -> int:
        return await run_in_pool(pool, int, {})

    try:
        t0 = time.process_time()
        for _ in range(chains):
            await asyncio.create_task(episode())
            for _ in range(4):
                await asyncio.create_task(activity())  # (the next episode runs in this task)
        return (time.process_time() - t0) / chains * 1e6
    finally:
        pool.shutdown()


async def recorded_calls(chains: int) -> tuple[list[tuple[object, str]], float]:
    """The orchestrator calls of ``chains`` four-activity chains, and history events per chain."""
    from bench_replay import Recorder
    from hostside import HostSide

    side = HostSide("memory+fast", "memory", True, 1, 10)
    await side.start()
    try:
        recorder = Recorder(side)
        events = side.runtime.stats.events_replayed
        for i in range(chains):
            await side.finish(await side.start_new("chain4", f"c{i}"))
        return recorder.calls, (side.runtime.stats.events_replayed - events) / chains
    finally:
        await side.stop()


def sdk_calls(calls: list[tuple[object, str]], chains: int, cooled: bool) -> float:
    """Thread CPU microseconds per chain inside the SDK's calls, back to back or cooled between."""
    from devhost.invoke import call_orchestrator

    total = 0.0
    for info, context_json in calls:
        if cooled:
            json.loads(json.dumps(_JUNK))
        t0 = time.thread_time()
        call_orchestrator(info, context_json)
        total += time.thread_time() - t0
    return total / chains * 1e6


async def main_async(args: argparse.Namespace) -> None:
    calls, events = await recorded_calls(args.chains)
    mechanics = [await bare_mechanics(args.chains * 6) for _ in range(args.repeat)]  # (cheap: more chains)
    print(f"bare mechanics (5 empty tasks + 4 empty pool hops per chain): {med_min(mechanics, events)}")
    alone: list[float] = []
    cooled: list[float] = []
    for rep in range(args.repeat):
        for cool in ((False, True) if rep % 2 == 0 else (True, False)):
            (cooled if cool else alone).append(sdk_calls(calls, args.chains, cool))
    print(f"the SDK's calls back to back (the floor): {med_min(alone, events)}")
    print(f"the SDK's calls, a JSON round trip between: {med_min(cooled, events)}")
    print(f"  cooled - back to back: {statistics.median(cooled) - statistics.median(alone):.0f} us per chain (medians)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chains", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main_async(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
