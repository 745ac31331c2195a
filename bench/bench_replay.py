"""Long histories and host cost beyond the SDK floor (issue 13, items 3 and 4).

    python bench/bench_replay.py [--repeat 3] [--length 1000] [--chains 200] [--floor-length 200]
                                 [--no-peer] [--skip-long] [--output PATH]

Part 1, one orchestration calling ``--length`` activities in sequence, on our host (memory
store, defaults) and on the peer (``durabletask``'s in-memory backend), alternating within each
repetition (host first in even repetitions, the peer first in odd ones). Both sides replay the
whole history every episode, so the time per activity grows along the chain; it is reported at
activities 100, 500 and 1000 (the mean gap between the 20 activity runs before that one).

Part 2, host cost beyond the SDK floor. Each orchestrator call the host makes during a workload
is recorded (the function and the exact context JSON), then the same call is made again on the
same inputs with nothing else running ("SDK alone"). Host cost beyond the floor is
``(host process CPU for the workload - activity bodies - SDK-alone CPU) / history events``
(events: every history event handed to the SDK, each episode counting its whole history).
Per repetition, alternating: the host with its SDK patches on, the SDK alone on those inputs
with the patches on and off, then the host with the patches off and the SDK alone on its
inputs (patches off). Workloads: ``--chains`` four-activity chains one after another, and one
chain of ``--floor-length`` activities. "The SDK's calls in the host" is the thread CPU inside
the same calls while the host made them: the part of "beyond" that is the SDK's own code running
slower between the host's other work (cold caches) than back to back.

Every figure is the median and the min over repetitions. Functions return dicts so that
``bench/run.py`` can take them as rows later. Prints a table and writes JSON
(``--output``, default ``bench/out/replay.json``, git-ignored).
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
from typing import Any, Callable

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH / "app"))

from hostside import HostSide, Meter  # noqa: E402
from peer_durabletask import Peer  # noqa: E402

SLOPE_AT = (100, 500, 1000)
SLOPE_WINDOW = 20


def per_activity_ms(marks: list[float], length: int) -> dict[str, float]:
    """Mean gap between consecutive activity runs just before activity k, in ms."""
    out = {}
    for k in SLOPE_AT:
        if k <= len(marks) and k > SLOPE_WINDOW:
            out[str(k)] = (marks[k - 1] - marks[k - 1 - SLOPE_WINDOW]) / SLOPE_WINDOW * 1000
    return out


def med_min(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "runs": values}


# ---------------------------------------------------------------------------
# Part 1: the long chain
# ---------------------------------------------------------------------------


class LongPeer(Peer):
    """The peer with the same long chain: ``step`` records when it runs."""

    def register_extra(self, worker: Any, dt_task: Any) -> None:
        marks: list[float] = []

        def step(ctx: Any, value: int) -> int:
            marks.append(time.perf_counter())
            return value + 1

        def chain_long(ctx: Any, length: int):
            value = 0
            for _ in range(length):
                value = yield ctx.call_activity(step, input=value)
            return value

        self.marks, self.chain_long_fn = marks, chain_long
        worker.add_orchestrator(chain_long)
        worker.add_activity(step)

    def long_chain(self, length: int) -> dict[str, Any]:
        self.marks.clear()
        gc.collect()
        c0, t0 = time.process_time(), time.perf_counter()
        state = self._completed(self.client.schedule_new_orchestration(self.chain_long_fn, input=length), 3600)
        total, cpu = time.perf_counter() - t0, time.process_time() - c0
        assert json.loads(state.serialized_output) == length
        return {"total_s": total, "cpu_s": cpu, "per_activity_ms": per_activity_ms(self.marks, length)}


async def host_long_chain(side: HostSide, length: int) -> dict[str, Any]:
    import benchknobs

    side.activate()
    benchknobs.MARKS.clear()
    gc.collect()
    meter = Meter(side.runtime)
    t0 = time.perf_counter()
    status = await side.finish(await side.start_new("chain_long", length), timeout=3600)
    total = time.perf_counter() - t0
    raw = meter.read()
    assert status["output"] == length, status
    return {"total_s": total, "per_activity_ms": per_activity_ms(benchknobs.MARKS, length),
            "events": raw["events"], "episodes": raw["episodes"], "cpu_s": raw["cpu"], "sdk_cpu_s": raw["sdk"]}


def summarize_long(runs: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"total_s": med_min([r["total_s"] for r in runs]),
                           "cpu_s": med_min([r["cpu_s"] for r in runs])}
    for k in runs[0]["per_activity_ms"]:
        out[f"ms_per_activity_at_{k}"] = med_min([r["per_activity_ms"][k] for r in runs])
    return out


async def long_chain_rows(side: HostSide, peer: LongPeer | None, length: int, repeat: int) -> dict[str, Any]:
    host_runs, peer_runs = [], []
    for rep in range(repeat):
        order = ["host", "peer"] if rep % 2 == 0 else ["peer", "host"]
        for who in order:
            if who == "host":
                host_runs.append(await host_long_chain(side, length))
            elif peer is not None:
                peer_runs.append(peer.long_chain(length))
            print(f"  long chain rep {rep + 1} {who}: "
                  f"{(host_runs if who == 'host' else peer_runs)[-1]['total_s'] if (who == 'host' or peer) else '-'}",
                  file=sys.stderr, flush=True)
    result: dict[str, Any] = {"length": length, "host": summarize_long(host_runs), "host_runs": host_runs}
    if peer_runs:
        result["peer"] = summarize_long(peer_runs)
        result["peer_runs"] = peer_runs
        result["ratio_of_medians"] = result["peer"]["total_s"]["median"] / result["host"]["total_s"]["median"]
        result["ratio_of_mins"] = result["peer"]["total_s"]["min"] / result["host"]["total_s"]["min"]
        result["cpu_ratio_of_medians"] = result["peer"]["cpu_s"]["median"] / result["host"]["cpu_s"]["median"]
    return result


# ---------------------------------------------------------------------------
# Part 2: host cost beyond the SDK floor
# ---------------------------------------------------------------------------


def set_patches(on: bool) -> None:
    """Every SDK patch the host has: the timestamp fast path and ``devhost.sdk_patches``."""
    from devhost import fast_timestamps

    fast_timestamps.configure(on)
    try:
        from devhost import sdk_patches
    except ImportError:  # before the patches existed
        return
    sdk_patches.configure(on)


class Recorder:
    """Wraps the engine's orchestrator call to keep (function, context JSON) of every call, and
    the thread CPU time inside those calls (``sdk_s``)."""

    def __init__(self, side: HostSide) -> None:
        self.calls: list[tuple[Any, str]] = []
        self.sdk_s = 0.0
        engine = side.runtime.engine
        inner = side.runtime._call_orchestrator  # not the bench's CPU-timing wrapper: timed here
        clock = time.thread_time

        def recording(info: Any, context_json: str) -> str:
            self.calls.append((info, context_json))
            t0 = clock()
            try:
                return inner(info, context_json)
            finally:
                self.sdk_s += clock() - t0

        engine.call_orchestrator = recording


def sdk_alone(calls: list[tuple[Any, str]]) -> float:
    """Process CPU seconds of the host's own orchestrator call on the recorded inputs."""
    from devhost.invoke import call_orchestrator

    gc.collect()
    t0 = time.process_time()
    for info, context_json in calls:
        try:
            call_orchestrator(info, context_json)
        except Exception:  # an orchestrator failure embeds its state, as in the host
            pass
    return time.process_time() - t0


async def host_workload(side: HostSide, recorder: Recorder, run: Callable[[], Any]) -> dict[str, Any]:
    recorder.calls, recorder.sdk_s = [], 0.0
    gc.collect()
    meter = Meter(side.runtime)
    await run()
    raw = meter.read()
    return {"cpu_s": raw["cpu"] - raw["body"], "sdk_s": recorder.sdk_s, "events": raw["events"], "calls": recorder.calls}


def workloads(side: HostSide, chains: int, floor_length: int) -> dict[str, Callable[[], Any]]:
    async def chain4() -> None:
        for i in range(chains):
            await side.finish(await side.start_new("chain4", f"f{i}"))

    async def chain_long() -> None:
        await side.finish(await side.start_new("chain_long", floor_length), timeout=3600)

    return {f"{chains} x chain(4), sequential": chain4, f"chain({floor_length})": chain_long}


async def floor_rows(side: HostSide, repeat: int, chains: int, floor_length: int) -> dict[str, Any]:
    recorder = Recorder(side)
    rows: dict[str, Any] = {}
    for name, run in workloads(side, chains, floor_length).items():
        samples: dict[str, list[float]] = {k: [] for k in (
            "host_on_us", "sdk_in_host_on_us", "floor_on_us", "floor_off_us", "beyond_on_us", "host_off_us",
            "beyond_off_us")}
        events = 0
        for rep in range(repeat):
            for patches in ((True, False) if rep % 2 == 0 else (False, True)):
                set_patches(patches)
                host = await host_workload(side, recorder, run)
                events = host["events"]
                per = 1e6 / events
                floor = sdk_alone(host["calls"])
                if patches:
                    samples["host_on_us"].append(host["cpu_s"] * per)
                    samples["sdk_in_host_on_us"].append(host["sdk_s"] * per)
                    samples["floor_on_us"].append(floor * per)
                    samples["beyond_on_us"].append((host["cpu_s"] - floor) * per)
                    set_patches(False)  # the SDK alone and unpatched, on the same inputs
                    samples["floor_off_us"].append(sdk_alone(host["calls"]) * per)
                else:
                    samples["host_off_us"].append(host["cpu_s"] * per)
                    samples["beyond_off_us"].append((host["cpu_s"] - floor) * per)
            print(f"  floor {name} rep {rep + 1}: beyond (patches on) {samples['beyond_on_us'][-1]:.1f} us/event, "
                  f"floor on/off {samples['floor_on_us'][-1]:.1f}/{samples['floor_off_us'][-1]:.1f}",
                  file=sys.stderr, flush=True)
        rows[name] = {"events": events, **{k: med_min(v) for k, v in samples.items()}}
    set_patches(True)
    return rows


# ---------------------------------------------------------------------------


def render(report: dict[str, Any]) -> str:
    def mm(cell: dict[str, float], fmt: str = "{:.3g}") -> str:
        return f"{fmt.format(cell['median'])} / {fmt.format(cell['min'])}"

    lines = []
    long = report.get("long_chain")
    if long:
        lines += [f"## Sequential chain of {long['length']} activities (median / min over "
                  f"{report['repeat']} repetitions)", "",
                  "| metric | durabletask | devhost | ratio (peer/host) |", "|---|---|---|---|"]
        peer = long.get("peer")
        ratio = (f"{long['ratio_of_medians']:.2f}x / {long['ratio_of_mins']:.2f}x" if peer else "-")
        lines.append(f"| total (s) | {mm(peer['total_s']) if peer else '-'} | {mm(long['host']['total_s'])} | {ratio} |")
        cpu_ratio = f"{long['cpu_ratio_of_medians']:.2f}x (medians)" if peer else "-"
        lines.append(f"| process CPU (s) | {mm(peer['cpu_s']) if peer else '-'} | {mm(long['host']['cpu_s'])} | {cpu_ratio} |")
        for key in long["host"]:
            if key.startswith("ms_per_activity_at_"):
                p = mm(peer[key]) if peer and key in peer else "-"
                lines.append(f"| ms per activity at {key.rsplit('_', 1)[1]} | {p} | {mm(long['host'][key])} | - |")
        lines.append("")
    floor = report.get("floor")
    if floor:
        lines += ["## Host cost beyond the SDK floor (CPU us per history event, median / min)", "",
                  "| workload | events | host (patches on) | the SDK's calls in the host, patches on "
                  "| SDK alone, patches on | SDK alone, no patches "
                  "| beyond floor, patches on | host (patches off) | beyond floor, patches off |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for name, row in floor.items():
            in_host = mm(row["sdk_in_host_on_us"]) if "sdk_in_host_on_us" in row else "-"
            lines.append(f"| {name} | {row['events']} | {mm(row['host_on_us'])} | {in_host} | {mm(row['floor_on_us'])} | "
                         f"{mm(row['floor_off_us'])} | **{mm(row['beyond_on_us'])}** | {mm(row['host_off_us'])} | "
                         f"{mm(row['beyond_off_us'])} |")
    return "\n".join(lines)


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    report: dict[str, Any] = {"repeat": args.repeat}
    side = HostSide("memory+fast", "memory", True, args.chains, 10)
    peer = None
    await side.start()
    try:
        if not args.skip_long:
            if not args.no_peer:
                peer = LongPeer(chains=1, fan_out=1)
                peer.start()
            try:
                report["long_chain"] = await long_chain_rows(side, peer, args.length, args.repeat)
            finally:
                if peer is not None:
                    peer.stop()
        if not args.skip_floor:
            report["floor"] = await floor_rows(side, args.repeat, args.chains, args.floor_length)
    finally:
        await side.stop()
    return report


def run_row(args: argparse.Namespace) -> dict[str, Any] | None:
    """Row 10 of ``bench/run.py`` (with ``--heavy``): part 1 on a side and a peer of its own."""
    if not args.heavy:
        return None

    async def run() -> dict[str, Any]:
        side = HostSide("memory+fast", "memory", True, 1, 1)
        peer = None if args.no_peer else LongPeer(chains=1, fan_out=1)
        await side.start()
        if peer is not None:
            peer.start()
        try:
            return await long_chain_rows(side, peer, args.long_chain, args.repeat)
        finally:
            if peer is not None:
                peer.stop()
            await side.stop()

    return asyncio.run(run())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--length", type=int, default=1000, help="activities in the long chain (part 1)")
    parser.add_argument("--chains", type=int, default=200, help="four-activity chains (part 2)")
    parser.add_argument("--floor-length", type=int, default=200, help="activities of the long chain in part 2")
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument("--skip-long", action="store_true", help="part 2 only")
    parser.add_argument("--skip-floor", action="store_true", help="part 1 only")
    parser.add_argument("--output", type=Path, default=BENCH / "out" / "replay.json")
    args = parser.parse_args()
    report = asyncio.run(main_async(args))
    import subprocess

    report["git_commit"] = subprocess.run(["git", "-C", str(BENCH.parent), "rev-parse", "--short", "HEAD"],
                                          capture_output=True, text=True).stdout.strip()
    text = render(report)
    print(text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2, default=str))
    args.output.with_suffix(".md").write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
