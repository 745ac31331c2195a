"""Fan-in under machine load (issue 13, item 5): one fan-out/fan-in, several runs, episodes and time.

    python bench/bench_fanin.py [--fan-out 10000] [--runs 5] [--loaders 2]

Starts ``--loaders`` processes that spin a core each (``while True: pass``), runs the bench
app's ``fan`` orchestrator ``--runs`` times on one warm host (memory store, fast timestamps,
``bench/hostside.py``), prints the orchestrator episodes and wall time of each run, then stops
the loaders it started (by pid). The target: at most 3 episodes in every run.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

from hostside import HostSide  # noqa: E402


async def runs(fan_out: int, count: int) -> list[dict[str, float]]:
    side = HostSide("memory+fast", "memory", True, chains=1, fan_out=fan_out)
    await side.start()
    try:
        out = []
        for _ in range(count):
            row = await side.fan_out()
            out.append({"episodes": row["episodes"], "total_s": row["total_s"]})
            print(f"fan-out of {fan_out}: {row['episodes']} episodes, {row['total_s']:.2f} s", flush=True)
        return out
    finally:
        await side.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fan-out", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--loaders", type=int, default=2, help="processes spinning a core each (0: none)")
    parser.add_argument("--output", type=Path, help="write the runs as JSON here")
    args = parser.parse_args()
    import logging

    logging.getLogger().setLevel(logging.ERROR)
    loaders = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.loaders)]
    try:
        time.sleep(0.5 if loaders else 0)
        results = asyncio.run(runs(args.fan_out, args.runs))
    finally:
        for process in loaders:  # only what this script started
            process.kill()
            process.wait()
    print(f"episodes: {[r['episodes'] for r in results]} (max {max(r['episodes'] for r in results)}); "
          f"seconds: {[round(r['total_s'], 2) for r in results]}")
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps({"fan_out": args.fan_out, "loaders": args.loaders, "runs": results}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
