"""The SDK alone, with the host's SDK patches on and off: CPU us per history event.

    python bench/bench_sdk_patches.py [--length 300] [--repeat 5] [--repeat-off 1] [--record PATH]

Runs one chain of ``--length`` activities on the host (memory store) recording every orchestrator
call (function and exact context JSON), then makes the same calls again, in episode order as the
host made them, with every patch on (``devhost/sdk_patches/`` and ``devhost/fast_timestamps.py``)
and with none, alternating. Reported: process CPU per history event handed to the SDK (each call
counting its whole history), min and median over repetitions, and whether both gave the same
output for every call. ``--record PATH`` keeps the recorded calls (JSON); ``--replay PATH`` times
those instead of recording, e.g. in another checkout (this file copied into its ``bench/``) to
compare two versions of the patches on the same inputs, alternating runs of the two.
"""
from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH / "app"))


async def record(length: int) -> list[str]:
    from bench_replay import Recorder
    from hostside import HostSide

    side = HostSide("memory+fast", "memory", True, 1, 1)
    await side.start()
    try:
        recorder = Recorder(side)
        side.activate()
        status = await side.finish(await side.start_new("chain_long", length), timeout=3600)
        assert status["output"] == length, status
        return [context for _, context in recorder.calls]
    finally:
        await side.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--length", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=5, help="passes with the patches on")
    parser.add_argument("--repeat-off", type=int, default=1, help="passes with them off (slow)")
    parser.add_argument("--record", type=Path, help="keep the recorded calls here")
    parser.add_argument("--replay", type=Path, help="time these recorded calls instead of recording")
    args = parser.parse_args()
    contexts = json.loads(args.replay.read_text()) if args.replay else asyncio.run(record(args.length))
    if args.record:
        args.record.write_text(json.dumps(contexts))

    from devhost import fast_timestamps, sdk_patches
    from devhost.app_index import load_app
    from devhost.invoke import call_orchestrator

    info = load_app(BENCH / "app").find("orchestrator", "chain_long")
    events = sum(len(json.loads(context)["history"]) for context in contexts)
    passes = {"on": args.repeat, "off": args.repeat_off}
    samples: dict[str, list[float]] = {mode: [] for mode in passes}
    outputs: dict[str, list[Any]] = {}
    for rep in range(max(passes.values())):
        for mode in (("on", "off") if rep % 2 == 0 else ("off", "on")):
            if rep >= passes[mode]:
                continue
            fast_timestamps.configure(mode == "on")
            sdk_patches.configure(mode == "on")
            gc.collect()
            t0 = time.process_time()
            outputs[mode] = [call_orchestrator(info, context) for context in contexts]
            samples[mode].append((time.process_time() - t0) / events * 1e6)
    sdk_patches.configure(True)
    fast_timestamps.configure(True)
    print(f"{len(contexts)} calls, {events} history events handed to the SDK")
    for mode, values in samples.items():
        print(f"patches {mode}: min {min(values):.2f} us/event, median {statistics.median(values):.2f} "
              f"({len(values)} passes)")
    print("same output for every call:", outputs["on"] == outputs["off"])
    return 0 if outputs["on"] == outputs["off"] else 1


if __name__ == "__main__":
    sys.exit(main())
