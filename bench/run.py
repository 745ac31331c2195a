"""Benchmarks: the local durable host (devhost) beside durabletask's in-memory backend.

    python bench/run.py [--repeat 3] [--chains 200] [--fan-out 1000] [--no-azure] [--no-peer]

One process runs the same workloads on
  * our host, in process, through the facade (``devhost.host.DurableHost``: ``start_new`` and
    ``wait``; no HTTP), on the memory store with and without the timestamp fast path
    (``RuntimeOptions.fast_timestamps``), and on the Azure Storage store against Azurite when
    ``devhost.store.azure.AzureStore`` and Azurite are available;
  * the peer, ``durabletask``'s ``InMemoryOrchestrationBackend`` (worker and client over
    loopback gRPC, real-time timers), see ``bench/peer_durabletask.py``.

Rows: (1) N four-activity chains one at a time, (2) N chains started at once, (3) one fan-out/
fan-in of M activities, (4) a 72-hour timer (virtual time for us; the peer sleeps real time, so
it gets a bounded wait and is reported as "never"), (5) host overhead per history event.

Each timed row runs ``--repeat`` times on a warm host/worker; the median is reported. Prints a
table and writes ``bench/out/latest.json`` (git-ignored; ``--output PATH``). The last line is
``min_speedup_vs_durabletask: X``: the smallest peer/host ratio over rows 1-3 (totals, and p50
and p95 of row 1), for the default configuration (memory store, fast timestamps on).
"""
from __future__ import annotations

import argparse
import asyncio
import gc
import importlib.metadata
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
APP = BENCH / "app"
DEFAULT_OUTPUT = BENCH / "out" / "latest.json"  # committed figures: bench/results/, only with --output
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------

def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(q * (len(ordered) - 1)))))
    return ordered[index]


def version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def machine() -> dict[str, Any]:
    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, timeout=5).stdout.strip() or None
    except Exception:
        commit = None
    cpu = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
        "implementation": platform.python_implementation(), "platform": platform.platform(),
        "git_commit": commit,
        "packages": {name: version(name) for name in (
            "azure-functions", "azure-functions-durable", "python-dateutil", "durabletask", "grpcio",
            "protobuf", "aiohttp", "azure-data-tables", "azure-storage-blob")},
    }


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Median of each numeric field over repeated runs (the list of raw totals is kept)."""
    out: dict[str, Any] = {}
    for key in runs[0]:
        values = [r[key] for r in runs]
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            out[key] = statistics.median(values)
        else:
            out[key] = values[0]
    if "total_s" in runs[0]:
        out["runs_total_s"] = [r["total_s"] for r in runs]
    return out


# ---------------------------------------------------------------------------
# our host
# ---------------------------------------------------------------------------

SDK_CPU = [0.0]  # thread CPU seconds inside the SDK's orchestrator call (see measure_sdk_cpu)


def measure_sdk_cpu(runtime: Any) -> None:
    """Wrap the engine's orchestrator call to add its thread CPU time to ``SDK_CPU``.

    ``stats.sdk_seconds`` is wall time around the same call; on a shared machine wall time
    includes time the process was not running, so CPU is subtracted from CPU.
    """
    call = runtime.engine.call_orchestrator

    def timed(info: Any, context_json: str) -> str:
        t0 = time.thread_time()
        try:
            return call(info, context_json)
        finally:
            SDK_CPU[0] += time.thread_time() - t0

    runtime.engine.call_orchestrator = timed


class Meter:
    """Host overhead over a stretch of work: process CPU time (all threads: scheduler loop,
    activity thread pool, store, engine, shim, facade, asyncio, GC) minus the CPU time inside
    the SDK's orchestrator call (``SDK_CPU``; the wall-clock ``stats.sdk_seconds`` is kept too)
    minus the CPU time inside activity bodies, divided by the history events the SDK was handed
    (``stats.events_replayed``: each episode counts its whole history)."""

    def __init__(self, runtime: Any) -> None:
        import benchknobs

        self.knobs = benchknobs
        self.stats = runtime.stats
        self.sdk_cpu = SDK_CPU[0]
        self.cpu = time.process_time()
        self.loop_cpu = time.thread_time()  # constructed and read on the event-loop thread
        self.wall = time.perf_counter()
        self.sdk = self.stats.sdk_seconds
        self.episode = self.stats.episode_seconds
        self.events = self.stats.events_replayed
        self.episodes = self.stats.episodes
        self.body = benchknobs.ACTIVITY_BODY_SECONDS

    def read(self) -> dict[str, Any]:
        cpu = time.process_time() - self.cpu
        loop_cpu = time.thread_time() - self.loop_cpu
        wall = time.perf_counter() - self.wall
        sdk_wall = self.stats.sdk_seconds - self.sdk
        sdk = SDK_CPU[0] - self.sdk_cpu  # CPU time of the same calls: the machine may be shared
        episode = self.stats.episode_seconds - self.episode
        events = self.stats.events_replayed - self.events
        body = self.knobs.ACTIVITY_BODY_SECONDS - self.body
        host = cpu - sdk - body
        per = (lambda seconds: seconds / events * 1e6) if events else (lambda seconds: None)
        return {
            "wall_s": wall, "cpu_s": cpu, "loop_thread_cpu_s": loop_cpu, "worker_threads_cpu_s": cpu - loop_cpu,
            "sdk_s": sdk, "sdk_wall_s": sdk_wall, "activity_body_s": body, "host_cpu_s": host,
            "events": events, "episodes": self.stats.episodes - self.episodes,
            "host_us_per_event": per(host),
            # the loop thread alone: scheduler, engine, shim, store, facade, asyncio, GC
            "loop_host_us_per_event": per(loop_cpu - sdk),
            # the invoker's thread pool (sync activities), bodies excluded
            "worker_threads_us_per_event": per(cpu - loop_cpu - body),
            "episode_minus_sdk_us_per_event": (episode - sdk_wall) / events * 1e6 if events else None,
            "sdk_us_per_event": sdk / events * 1e6 if events else None,
        }


async def host_rows(store_kind: str, fast: bool, args: argparse.Namespace, connection: str | None = None
                    ) -> dict[str, Any]:
    from azure.functions._durable_functions import df_dumps

    from devhost.app_index import load_app
    from devhost.clock import VirtualClock
    from devhost.config import load_config
    from devhost.engine import compact
    from devhost.host import DurableHost, HostSettings
    from devhost.scheduler import RuntimeOptions
    from devhost.store.memory import MemoryStore

    config = load_config(APP)
    index = load_app(APP)
    if store_kind == "memory":
        store: Any = MemoryStore()
        hub = config.task_hub
    else:
        from devhost.store.azure import AzureStore

        hub = f"Bench{os.getpid()}{'F' if fast else 'S'}"
        store = AzureStore(connection, hub)
    clock = VirtualClock()
    host = DurableHost(index, store, clock, options=RuntimeOptions(fast_timestamps=fast),
                       settings=HostSettings(task_hub=hub))
    await host.start()
    runtime = host.runtime
    measure_sdk_cpu(runtime)
    chains = args.chains if store_kind == "memory" else args.azure_chains
    fan_out = args.fan_out if store_kind == "memory" else args.azure_fan_out
    seq = 0

    async def start(name: str, value: Any = None) -> str:
        nonlocal seq
        seq += 1
        text = compact(df_dumps(value)) if value is not None else None
        return await host.start_new(name, f"{name}-{seq}", text)

    async def finish(instance_id: str, timeout: float = 300.0) -> dict[str, Any]:
        status = await host.wait(instance_id, timeout)
        assert status["runtimeStatus"] == "Completed", status
        return status

    rows: dict[str, list[dict[str, Any]]] = {"chain_sequential": [], "chain_parallel": [], "fan_out": []}
    overall: Meter | None = None
    try:
        await finish(await start("chain4", "warm"))  # warm-up: imports, first SDK calls
        await finish(await start("fan", 10))
        gc.collect()
        overall = Meter(runtime)
        for _ in range(args.repeat):
            # 1. one at a time
            meter = Meter(runtime)
            latencies = []
            t0 = time.perf_counter()
            for i in range(chains):
                s = time.perf_counter()
                status = await finish(await start("chain4", f"c{i}"))
                latencies.append(time.perf_counter() - s)
            total = time.perf_counter() - t0
            assert status["output"] == [f"Hello c{chains - 1}!", "Hello Tokyo!", "Hello Seattle!", "Hello London!"]
            rows["chain_sequential"].append({"total_s": total, "p50_ms": statistics.median(latencies) * 1000,
                                             "p95_ms": pct(latencies, 0.95) * 1000, "count": chains,
                                             **_prefixed(meter.read())})
            # 2. all at once
            meter = Meter(runtime)
            t0 = time.perf_counter()
            ids = [await start("chain4", f"p{i}") for i in range(chains)]
            for instance_id in ids:
                await finish(instance_id)
            rows["chain_parallel"].append({"total_s": time.perf_counter() - t0, "count": chains,
                                           **_prefixed(meter.read())})
            # 3. fan-out/fan-in
            meter = Meter(runtime)
            t0 = time.perf_counter()
            instance_id = await start("fan", fan_out)
            status = await finish(instance_id)
            total = time.perf_counter() - t0
            assert status["output"] == sum(i * i for i in range(fan_out)), status
            rows["fan_out"].append({"total_s": total, "activities": fan_out,
                                    "episodes": runtime.stats.episodes_by_instance[instance_id],
                                    **_prefixed(meter.read())})
        overhead = overall.read()
        # 5b. the same sequential chains with async activities (awaited on the loop, no thread hop)
        async_runs = []
        for _ in range(args.repeat):
            meter = Meter(runtime)
            for i in range(chains):
                await finish(await start("chain4_async", f"a{i}"))
            async_runs.append(meter.read())
        overhead["async_activities"] = median_of(async_runs)
        # 4. 72-hour timer under virtual time
        timer_runs = []
        for _ in range(args.repeat):
            before = clock.now()
            t0 = time.perf_counter()
            instance_id = await start("sleeper72")
            status = await finish(instance_id, timeout=10)
            timer_runs.append({"wall_ms": (time.perf_counter() - t0) * 1000, "finished": True,
                               "virtual_hours": (clock.now() - before).total_seconds() / 3600,
                               "episodes": runtime.stats.episodes_by_instance[instance_id]})
    finally:
        await host.stop()
    result: dict[str, Any] = {name: median_of(runs) for name, runs in rows.items()}
    result["fan_out"]["episodes_max"] = max(r["episodes"] for r in rows["fan_out"])
    result["timer_72h"] = median_of(timer_runs)
    result["overhead"] = overhead
    return result


def _prefixed(meter: dict[str, Any]) -> dict[str, Any]:
    return {"host_us_per_event": meter["host_us_per_event"], "events": meter["events"],
            "episodes_total": meter["episodes"], "sdk_s": meter["sdk_s"], "host_cpu_s": meter["host_cpu_s"]}


def azure_available() -> tuple[bool, str]:
    try:
        from devhost.store.azure import AzureStore  # noqa: F401
    except Exception as exc:
        return False, f"devhost.store.azure.AzureStore not importable ({type(exc).__name__}: {exc})"
    try:
        sys.path.insert(0, str(ROOT / "tools"))
        import azurite  # type: ignore

        azurite.azurite_binary()
    except Exception as exc:
        return False, f"Azurite not available via tools/azurite.py ({exc})"
    return True, ""


# ---------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------

def ratio(peer: float | None, ours: float | None) -> float | None:
    if peer is None or ours is None or ours <= 0:
        return None
    return peer / ours


def fmt(value: Any, unit: str = "", digits: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    return f"{value:.{digits}g}{unit}" if abs(value) < 1000 else f"{value:.0f}{unit}"


def build_table(report: dict[str, Any]) -> tuple[list[list[str]], float | None, dict[str, float | None]]:
    peer = report.get("peer")
    configs = report["host"]
    lines: list[list[str]] = [["row", "metric", "durabletask (in-memory)"]
                              + [f"devhost {name}" for name in configs] + [f"ratio {name}" for name in configs]]
    mins: dict[str, float | None] = {name: None for name in configs}

    def add(row: str, metric: str, getter: Any, unit: str, ratio_row: bool, peer_value: Any = None) -> None:
        pv = peer_value if peer_value is not None else (getter(peer) if peer else None)
        cells = [row, metric, fmt(pv, unit)]
        ratios = []
        for name, data in configs.items():
            value = getter(data) if data else None
            cells.append(fmt(value, unit))
            r = ratio(pv, value) if isinstance(pv, (int, float)) else None
            ratios.append(r)
            if ratio_row and r is not None:
                mins[name] = r if mins[name] is None else min(mins[name], r)
        cells += [(f"{r:.2f}x" if r is not None else "-") for r in ratios]
        lines.append(cells)

    n = report["params"]
    add("1", f"{n['chains']} x chain(4), sequential: total", lambda d: d["chain_sequential"]["total_s"], " s", True)
    add("1", "  p50 per orchestration", lambda d: d["chain_sequential"]["p50_ms"], " ms", True)
    add("1", "  p95 per orchestration", lambda d: d["chain_sequential"]["p95_ms"], " ms", True)
    add("2", f"{n['chains']} x chain(4), started at once: total", lambda d: d["chain_parallel"]["total_s"], " s", True)
    add("3", f"fan-out/fan-in of {n['fan_out']}: total", lambda d: d["fan_out"]["total_s"], " s", True)
    add("3", "  orchestrator episodes (max over runs)", lambda d: d["fan_out"].get("episodes_max"), "", False,
        peer_value="n/a")
    timer_peer = None
    if peer:
        t = peer["timer_72h"]
        timer_peer = "finished" if t["finished"] else f"never (not done after {t['timeout_s']:.0f} s)"
    add("4", "72-hour timer: wall time", lambda d: d["timer_72h"]["wall_ms"], " ms", False,
        peer_value=timer_peer or "-")
    add("5", "host overhead per history event, rows 1-3 (CPU)", lambda d: d["overhead"]["host_us_per_event"],
        " us", False, peer_value="n/a")
    add("5", "  row 1 / row 2 / row 3 alone", lambda d: " / ".join(
        f"{d[k]['host_us_per_event']:.1f}" for k in ("chain_sequential", "chain_parallel", "fan_out")) + " us",
        "", False, peer_value="n/a")
    add("5", "  of which event-loop thread", lambda d: d["overhead"]["loop_host_us_per_event"], " us", False,
        peer_value="n/a")
    add("5", "  of which activity thread pool", lambda d: d["overhead"]["worker_threads_us_per_event"], " us",
        False, peer_value="n/a")
    add("5", "  row 1 alone with async activities (no hop)",
        lambda d: d["overhead"]["async_activities"]["host_us_per_event"], " us", False, peer_value="n/a")
    add("5", "  SDK time per history event", lambda d: d["overhead"]["sdk_us_per_event"], " us", False,
        peer_value="n/a")
    add("5", "  engine+shim+commit only (episode - SDK)", lambda d: d["overhead"]["episode_minus_sdk_us_per_event"],
        " us", False, peer_value="n/a")
    return lines, mins.get(report["default_config"]), mins


def render(lines: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in lines) for i in range(len(lines[0]))]
    out = []
    for index, row in enumerate(lines):
        out.append("  ".join(cell.ljust(widths[i]) if i < 2 else cell.rjust(widths[i]) for i, cell in enumerate(row)))
        if index == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def to_markdown(lines: list[list[str]]) -> str:
    out = ["| " + " | ".join(lines[0]) + " |", "|" + "|".join("---" for _ in lines[0]) + "|"]
    out += ["| " + " | ".join(cell.strip() for cell in row) + " |" for row in lines[1:]]
    return "\n".join(out)


# ---------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--chains", type=int, default=200)
    parser.add_argument("--fan-out", type=int, default=1000)
    parser.add_argument("--azure-chains", type=int, default=20)
    parser.add_argument("--azure-fan-out", type=int, default=100)
    parser.add_argument("--peer-timer-timeout", type=float, default=3.0)
    parser.add_argument("--no-azure", action="store_true")
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT,
                        help="results JSON (and .md beside it); default git-ignored, so a run rewrites no tracked file")
    args = parser.parse_args()

    import logging

    logging.getLogger("devhost").setLevel(logging.ERROR)
    logging.getLogger().setLevel(logging.ERROR)  # azure-functions warns that an app without HTTP has no auth level
    report: dict[str, Any] = {
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "params": {"chains": args.chains, "fan_out": args.fan_out, "repeat": args.repeat,
                   "azure_chains": args.azure_chains, "azure_fan_out": args.azure_fan_out},
        "measured": {
            "devhost": ("in process through the DurableHost facade (start_new + wait), virtual clock, "
                        "no HTTP; the unmodified bench/app run through azure-functions-durable"),
            "durabletask": ("durabletask.testing.InMemoryOrchestrationBackend on a loopback gRPC port; "
                            "TaskHubGrpcWorker + TaskHubGrpcClient (blocking waits), quiet logger"),
            "ratio": "durabletask / devhost (higher is better for devhost)",
            "overhead": ("(process CPU time - CPU time inside the SDK's orchestrator call - CPU time inside "
                         "activity bodies) / history events handed to the SDK (every episode counts its whole "
                         "history), over all runs of rows 1-3; CPU includes the scheduler loop, engine, shim, "
                         "store, facade, asyncio, the invoker's thread pool and GC"),
        },
        "default_config": "memory+fast",
        "host": {},
        "notes": [],
    }
    configs: list[tuple[str, str, bool]] = [("memory+fast", "memory", True), ("memory-nofast", "memory", False)]
    for name, kind, fast in configs:
        print(f"running devhost {name} ...", file=sys.stderr, flush=True)
        report["host"][name] = asyncio.run(host_rows(kind, fast, args))

    if args.no_azure:
        report["notes"].append("Azure Storage rows skipped (--no-azure).")
    else:
        ok, why = azure_available()
        if not ok:
            report["notes"].append(f"Azure Storage rows skipped: {why}.")
        else:
            import azurite  # type: ignore

            process = azurite.temporary()
            try:
                process.start()
                print("running devhost azure+fast (Azurite) ...", file=sys.stderr, flush=True)
                azure_args = argparse.Namespace(**{**vars(args), "repeat": 1})  # HTTP per operation: slow
                report["host"]["azure+fast"] = asyncio.run(host_rows("azure", True, azure_args,
                                                                     process.connection_string))
                report["notes"].append(
                    f"Azure Storage rows use {args.azure_chains} chains and a fan-out of {args.azure_fan_out}, one run, "
                    "against Azurite (HTTP per table/blob operation); they are listed apart, not in the ratios.")
            except Exception as exc:
                report["host"].pop("azure+fast", None)
                report["notes"].append(f"Azure Storage rows skipped: {type(exc).__name__}: {exc}")
            finally:
                process.stop()
                import shutil

                shutil.rmtree(process.data_dir, ignore_errors=True)

    if args.no_peer:
        report["notes"].append("durabletask rows skipped (--no-peer).")
    elif version("durabletask") is None:
        report["notes"].append("durabletask rows skipped: not installed (pip install -r bench/requirements-bench.txt).")
    else:
        print("running durabletask in-memory backend ...", file=sys.stderr, flush=True)
        import peer_durabletask

        runs = [peer_durabletask.run(chains=args.chains, fan_out=args.fan_out,
                                     timer_timeout=args.peer_timer_timeout if i == args.repeat - 1 else None)
                for i in range(args.repeat)]
        report["peer"] = {key: median_of([r[key] for r in runs]) for key in ("chain_sequential", "chain_parallel",
                                                                            "fan_out")}
        report["peer"]["timer_72h"] = runs[-1]["timer_72h"]

    # Azure rows run fewer items: compare per item, not per total, in the table.
    azure = report["host"].get("azure+fast")
    if azure is not None:
        del report["host"]["azure+fast"]
        report["azure"] = azure

    lines, min_default, mins = build_table(report)
    report["table"] = lines
    report["min_speedup_vs_durabletask"] = min_default
    report["min_speedup_by_config"] = mins
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    (args.output.with_suffix(".md")).write_text(to_markdown(lines) + "\n")

    m = report["machine"]
    print(f"machine: nproc={m['nproc']} cpu={m['cpu']} python={m['python']} ({m['platform']}) commit={m['git_commit']}")
    print("packages: " + ", ".join(f"{k}={v}" for k, v in m["packages"].items() if v))
    print(f"measured: devhost {report['measured']['devhost']}")
    print(f"          durabletask {report['measured']['durabletask']}")
    print(f"ratio = {report['measured']['ratio']}; median of {args.repeat} runs per row")
    print(f"row 5 = {report['measured']['overhead']}")
    print()
    print(render(lines))
    if azure is not None:
        print()
        print(f"Azure Storage store on Azurite (fast timestamps; {args.azure_chains} chains, fan-out {args.azure_fan_out}):")
        print(f"  1: sequential total {azure['chain_sequential']['total_s']:.2f} s, "
              f"p50 {azure['chain_sequential']['p50_ms']:.1f} ms, p95 {azure['chain_sequential']['p95_ms']:.1f} ms")
        print(f"  2: started at once total {azure['chain_parallel']['total_s']:.2f} s")
        print(f"  3: fan-out total {azure['fan_out']['total_s']:.2f} s, episodes {azure['fan_out']['episodes_max']}")
        print(f"  4: 72-hour timer {azure['timer_72h']['wall_ms']:.0f} ms")
        print(f"  5: host overhead {azure['overhead']['host_us_per_event']:.1f} us/event (includes the Azure SDK clients)")
    for note in report["notes"]:
        print(f"note: {note}")
    print(f"results: {args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output}")
    for name, value in mins.items():
        if name != report["default_config"]:
            print(f"min_speedup_vs_durabletask[{name}]: {value:.2f}" if value else f"min_speedup_vs_durabletask[{name}]: -")
    print(f"min_speedup_vs_durabletask: {min_default:.2f}" if min_default is not None
          else "min_speedup_vs_durabletask: n/a")
    return 0


if __name__ == "__main__":
    sys.exit(main())
