"""A chain's next step in the activity's own task, on and off, side by side (issue 13, item 4).

    python bench/bench_chain_step.py [--chains 200] [--repeat 12]

When an activity's result is all its instance waits for, the host runs the next episode in the
activity's task (``Runtime._continue_with``) instead of dispatching it to a new task on a later
pass of the event loop. One warm host (memory store, the default options) runs ``--chains``
four-activity chains one after another per repetition, with the continuation on, then off
(``_continue_with`` replaced by a no-op, so every episode is dispatched as before), the order
alternating between repetitions. Prints process CPU per chain and per history event, median and
min for each side, and their ratio. docs/benchmarks.md, "Issue 13, sixth session", records runs.
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))


async def dispatched(target: str) -> None:
    """``_continue_with`` off: the routed result is left to the dispatch, as before it existed."""
    return None


async def main_async(args: argparse.Namespace) -> dict[str, list[float]]:
    from bench_floor_parts import med_min
    from hostside import HostSide

    side = HostSide("memory+fast", "memory", True, 1, 10)
    await side.start()
    runtime = side.runtime
    continued = runtime._continue_with
    cpu: dict[str, list[float]] = {"on": [], "off": []}
    events: dict[str, int] = {"on": 0, "off": 0}
    try:
        for i in range(args.chains):  # warm-up, not counted
            await side.finish(await side.start_new("chain4", f"warm{i}"))
        for rep in range(args.repeat):
            for side_name in (("on", "off") if rep % 2 == 0 else ("off", "on")):
                runtime._continue_with = continued if side_name == "on" else dispatched
                replayed = runtime.stats.events_replayed
                t0 = time.process_time()
                for i in range(args.chains):
                    await side.finish(await side.start_new("chain4", f"r{rep}-{side_name}-{i}"))
                cpu[side_name].append((time.process_time() - t0) / args.chains * 1e6)
                events[side_name] = (runtime.stats.events_replayed - replayed) // args.chains
    finally:
        runtime._continue_with = continued
        await side.stop()
    assert events["on"] == events["off"], events  # the same episodes and histories either way
    for side_name, label in (("on", "next step in the activity's task"), ("off", "every episode dispatched")):
        print(f"{label}: {med_min(cpu[side_name], events['on'])} (median / min)")
    on, off = cpu["on"], cpu["off"]
    print(f"off / on: {statistics.median(off) / statistics.median(on):.3f} (medians), "
          f"{min(off) / min(on):.3f} (mins); {events['on']} history events per chain")
    return cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chains", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=12)
    asyncio.run(main_async(parser.parse_args()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
