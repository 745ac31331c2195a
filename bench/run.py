"""Benchmarks: the local durable host (devhost) beside durabletask's in-memory backend.

    python bench/run.py [--repeat 3] [--chains 200] [--fan-out 1000] [--no-azure] [--no-peer]

One process runs the same workloads on
  * our host, in process, through the facade (``devhost.host.DurableHost``: ``start_new`` and
    ``wait``; no HTTP), on the memory store with and without the timestamp fast path
    (``RuntimeOptions.fast_timestamps``), see ``bench/hostside.py``; and, apart from the
    ratios, on the Azure Storage store against Azurite when ``devhost.store.azure.AzureStore``
    and Azurite are available;
  * the peer, ``durabletask``'s ``InMemoryOrchestrationBackend`` (worker and client over
    loopback gRPC, real-time timers), see ``bench/peer_durabletask.py``.

Rows: (1) N four-activity chains one at a time, (2) N chains started at once, (3) one fan-out/
fan-in of M activities, (4) a 72-hour timer (virtual time for us; the peer sleeps real time, so
it gets a bounded wait and is reported as "never"), (5) host overhead per history event; with
``--heavy``, (6) a fan-out of 10,000 and (7) 1,000 chains started at once, on the default
configuration and the peer, alternating like rows 1-3 (the peer gets ``--heavy-timeout``
seconds, else "not done after N s"); (8) served-HTTP starts: 1,000 starts from 100 concurrent
HTTP clients in another process against the host's real server (``bench/served.py``; host
only; it takes a store, so an Azurite variant can call ``served_rows``); (9) peak RSS of each
row and side, each run once in a fresh process (``VmHWM``; ``--no-rss`` skips it); (10) the
1,000-activity chain, from ``bench/bench_replay.py`` when it is there (``chain_1000_row``).

Alternating harness: every side (each host configuration and the peer) is started and warmed
up once. Then, for each of ``--repeat`` repetitions and each of rows 1-3, the sides run that row
back to back, host configurations first in even repetitions and the peer first in odd ones, so
a change of machine load hits both sides of a ratio alike. Each row reports the median and the
min over repetitions for each side, and two ratios (peer/host): of the medians and of the mins.
Rows 4 and 5b (async activities) run on the host alone afterwards. Prints a table and writes
``bench/out/latest.json`` (git-ignored; ``--output PATH``) and the table beside it (``.md``).
The last line is ``min_speedup_vs_durabletask: X``: the smallest ratio of medians over rows 1-3
(totals, and p50 and p95 of row 1), and rows 6-7 where the peer finished, for the default configuration (memory store, fast timestamps
on); the JSON also gives the smallest ratio of mins.
"""
from __future__ import annotations

import argparse
import asyncio
import gc
import importlib.metadata
import json
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
DEFAULT_OUTPUT = BENCH / "out" / "latest.json"  # committed figures: bench/results/, only with --output
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

from hostside import HostSide, derive  # noqa: E402
from rss import rss_child, rss_rows  # noqa: E402
from report import (HEAVY, RSS_ROWS, TIMED, build_table, print_azure, render, smallest, summarize,  # noqa: E402
                    summarize_bounded, to_markdown)

CONFIGS: list[tuple[str, str, bool]] = [("memory+fast", "memory", True), ("memory-nofast", "memory", False)]


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


# ---------------------------------------------------------------------------
# the alternating run
# ---------------------------------------------------------------------------

def host_summary(side: HostSide, runs: dict[str, list[dict[str, Any]]], extras: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {row: summarize(runs[row]) for row in (*TIMED, *HEAVY) if runs.get(row)}
    for row in ("fan_out", "fan_out_large"):
        if row in result:
            result[row]["episodes_max"] = max(r["episodes"] for r in runs[row])
    result["timer_72h"] = summarize(extras["timer_72h"])
    result["overhead"] = derive(side.rows_raw)  # the host's own rows 1-3 only, every repetition
    result["overhead"]["async_activities"] = summarize(extras["async_activities"])
    return result


def new_host(args: argparse.Namespace, name: str, kind: str, fast: bool, connection: str | None = None) -> HostSide:
    return HostSide(name, kind, fast, args.chains, args.fan_out, connection, args.large_fan_out, args.many_chains)


def new_peer(args: argparse.Namespace) -> Any:
    import peer_durabletask

    return peer_durabletask.Peer(chains=args.chains, fan_out=args.fan_out, large_fan_out=args.large_fan_out,
                                 many_chains=args.many_chains, heavy_timeout=args.heavy_timeout)


async def alternate(args: argparse.Namespace, peer: Any) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Rows 1-3 (and 6-7 with --heavy), each repetition, each side back to back; the order flips
    every repetition. Heavy rows run on the default configuration and the peer only; a peer
    heavy row that times out is not tried again."""
    hosts = [new_host(args, name, kind, fast) for name, kind, fast in CONFIGS]
    rows = (*TIMED, *HEAVY) if args.heavy else TIMED
    started: list[HostSide] = []
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {name: {row: [] for row in rows}
                                                         for name in [*(h.name for h in hosts), "peer"]}
    try:
        for host in hosts:
            await host.start()
            started.append(host)
        if peer is not None:
            peer.start()
        sides: list[Any] = [*hosts, peer] if peer is not None else [*hosts]
        for rep in range(args.repeat):
            order = sides if rep % 2 == 0 else sides[::-1]
            print(f"repetition {rep + 1}/{args.repeat}: " + ", ".join(
                "durabletask" if s is peer else f"devhost {s.name}" for s in order), file=sys.stderr, flush=True)
            for row in rows:
                gc.collect()
                for side in order:
                    if row in HEAVY and side is not peer and side.name != CONFIGS[0][0]:
                        continue
                    if side is peer:  # blocking calls on the loop thread: the idle hosts do not run meanwhile
                        if not all(r.get("finished", True) for r in runs["peer"][row]):
                            continue
                        runs["peer"][row].append(getattr(peer, row)())
                    else:
                        runs[side.name][row].append(await getattr(side, row)())
        results = {h.name: host_summary(h, runs[h.name], await h.extras(args.repeat)) for h in hosts}
        peer_result = None
        if peer is not None:
            peer_result = {row: summarize_bounded(runs["peer"][row]) for row in rows}
            peer_result["timer_72h"] = peer.timer(args.peer_timer_timeout)
        return results, peer_result
    finally:
        for host in started:
            await host.stop()
        if peer is not None and hasattr(peer, "client"):
            peer.stop()


def served_rows(args: argparse.Namespace, store_factory: Any = None) -> dict[str, Any]:
    """Row 8: served-HTTP starts (bench/served.py), ``--served-runs`` times on a fresh host each.
    ``store_factory`` makes the store of each run (default: the memory store); an Azurite
    variant passes one that makes an ``AzureStore``."""
    from served import served_starts

    if store_factory is None:
        from devhost.store.memory import MemoryStore

        store_factory = MemoryStore
    runs = [asyncio.run(served_starts(store_factory(), args.served_starts, args.served_clients,
                                      args.client_timeout)) for _ in range(args.served_runs)]
    return summarize(runs)


def chain_1000_row(args: argparse.Namespace, report: dict[str, Any]) -> None:
    """Row 10, a 1,000-activity sequential chain: ``bench/bench_replay.py`` (being written
    apart) plugs in here; it is expected to return a summary like the other rows'."""
    try:
        import bench_replay  # type: ignore
    except ImportError:
        report["notes"].append("row 10 (1,000-activity chain) not run: bench/bench_replay.py is not there yet.")
        return
    runner = getattr(bench_replay, "run_row", None)
    if runner is None:
        report["notes"].append("row 10 (1,000-activity chain) not run: bench_replay has no run_row(args).")
        return
    row = runner(args)
    if row is None:
        report["notes"].append("row 10 (1,000-activity chain) not run: it runs with --heavy.")
    else:
        report["chain_1000"] = row


async def azure_rows(args: argparse.Namespace, connection: str) -> dict[str, Any]:
    """The Azure Storage store on Azurite: one run of each row (an HTTP round trip per operation)."""
    side = HostSide("azure+fast", "azure", True, args.azure_chains, args.azure_fan_out, connection)
    await side.start()
    try:
        runs = {row: [await getattr(side, row)()] for row in TIMED}
        return host_summary(side, runs, await side.extras(1))
    finally:
        await side.stop()


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


def run_azure(args: argparse.Namespace, report: dict[str, Any]) -> None:
    ok, why = azure_available()
    if not ok:
        report["notes"].append(f"Azure Storage rows skipped: {why}.")
        return
    import shutil

    import azurite  # type: ignore

    process = azurite.temporary()
    try:
        process.start()
        print("running devhost azure+fast (Azurite) ...", file=sys.stderr, flush=True)
        report["azure"] = asyncio.run(azure_rows(args, process.connection_string))
        report["notes"].append(
            f"Azure Storage rows use {args.azure_chains} chains and a fan-out of {args.azure_fan_out}, one run, "
            "against Azurite (HTTP per table/blob operation); they are listed apart, not in the ratios.")
    except Exception as exc:
        report.pop("azure", None)
        report["notes"].append(f"Azure Storage rows skipped: {type(exc).__name__}: {exc}")
    finally:
        process.stop()
        shutil.rmtree(process.data_dir, ignore_errors=True)


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
    parser.add_argument("--heavy", action="store_true",
                        help="rows 6-7 too: a fan-out of --large-fan-out and --many-chains chains at once")
    parser.add_argument("--large-fan-out", type=int, default=10000)
    parser.add_argument("--many-chains", type=int, default=1000)
    parser.add_argument("--long-chain", type=int, default=1000, help="activities in row 10's sequential chain")
    parser.add_argument("--heavy-timeout", type=float, default=60.0,
                        help="seconds the peer gets for a heavy row before it is reported as not done")
    parser.add_argument("--served-starts", type=int, default=1000)
    parser.add_argument("--served-clients", type=int, default=100)
    parser.add_argument("--client-timeout", type=float, default=10.0)
    parser.add_argument("--served-runs", type=int, default=1, help="row 8 runs (0: skip)")
    parser.add_argument("--no-rss", action="store_true", help="skip row 9 (peak RSS, a fresh process per row)")
    parser.add_argument("--rss-child", nargs=2, metavar=("SIDE", "ROW"), help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT,
                        help="results JSON (and .md beside it); default git-ignored, so a run rewrites no tracked file")
    args = parser.parse_args()
    if args.rss_child:
        return rss_child(args, CONFIGS, new_host, new_peer)

    import logging

    logging.getLogger("devhost").setLevel(logging.ERROR)
    logging.getLogger().setLevel(logging.ERROR)  # azure-functions warns that an app without HTTP has no auth level
    report: dict[str, Any] = {
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "params": {"chains": args.chains, "fan_out": args.fan_out, "repeat": args.repeat,
                   "azure_chains": args.azure_chains, "azure_fan_out": args.azure_fan_out, "heavy": args.heavy,
                   "large_fan_out": args.large_fan_out, "many_chains": args.many_chains,
                   "heavy_timeout_s": args.heavy_timeout, "served_starts": args.served_starts,
                   "served_clients": args.served_clients, "client_timeout_s": args.client_timeout},
        "measured": {
            "devhost": ("in process through the DurableHost facade (start_new + wait), virtual clock, "
                        "no HTTP; the unmodified bench/app run through azure-functions-durable"),
            "durabletask": ("durabletask.testing.InMemoryOrchestrationBackend on a loopback gRPC port; "
                            "TaskHubGrpcWorker + TaskHubGrpcClient (blocking waits), quiet logger"),
            "harness": ("every side started and warmed up once; for each repetition and each of rows 1-3 the "
                        "sides run back to back, host configurations first in even repetitions, the peer "
                        "first in odd ones; each side reports median and min over repetitions"),
            "ratio": "durabletask / devhost (higher is better for devhost), of the medians and of the mins",
            "overhead": ("(process CPU time - CPU time inside the SDK's orchestrator call - CPU time inside "
                         "activity bodies) / history events handed to the SDK (every episode counts its whole "
                         "history), summed over the host's own runs of rows 1-3; CPU includes the scheduler "
                         "loop, engine, shim, store, facade, asyncio, the invoker's thread pool and GC"),
        },
        "default_config": "memory+fast",
        "host": {},
        "notes": [],
    }
    peer = None
    if args.no_peer:
        report["notes"].append("durabletask rows skipped (--no-peer).")
    elif version("durabletask") is None:
        report["notes"].append("durabletask rows skipped: not installed (pip install -r bench/requirements-bench.txt).")
    else:
        peer = new_peer(args)
    report["host"], peer_result = asyncio.run(alternate(args, peer))
    if peer_result is not None:
        report["peer"] = peer_result
    if args.served_runs > 0:
        print("running served-HTTP starts ...", file=sys.stderr, flush=True)
        report["served"] = served_rows(args)
    chain_1000_row(args, report)
    if not args.no_rss:
        report["rss"] = rss_rows(args, CONFIGS[0][0], peer is not None)
    if args.no_azure:
        report["notes"].append("Azure Storage rows skipped (--no-azure).")
    else:
        run_azure(args, report)

    lines, ratios = build_table(report)
    default = report["default_config"]
    min_default = smallest(ratios, default)
    report["table"] = lines
    report["ratios"] = ratios
    report["min_speedup_vs_durabletask"] = min_default
    report["min_speedup_by_config"] = {name: smallest(ratios, name) for name in report["host"]}
    report["min_speedup_of_mins_by_config"] = {name: smallest(ratios, name, "of_mins") for name in report["host"]}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    (args.output.with_suffix(".md")).write_text(to_markdown(lines) + "\n")

    m = report["machine"]
    print(f"machine: nproc={m['nproc']} cpu={m['cpu']} python={m['python']} ({m['platform']}) commit={m['git_commit']}")
    print("packages: " + ", ".join(f"{k}={v}" for k, v in m["packages"].items() if v))
    print(f"measured: devhost {report['measured']['devhost']}")
    print(f"          durabletask {report['measured']['durabletask']}")
    print(f"harness: {report['measured']['harness']} ({args.repeat} repetitions)")
    print(f"ratio = {report['measured']['ratio']}; cells are 'median / min'")
    print(f"row 5 = {report['measured']['overhead']}")
    print()
    print(render(lines))
    if "azure" in report:
        print()
        print_azure(report["azure"], args.azure_chains, args.azure_fan_out)
    for note in report["notes"]:
        print(f"note: {note}")
    print(f"results: {args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output}")
    of_mins = report["min_speedup_of_mins_by_config"]
    for name, value in report["min_speedup_by_config"].items():
        show = (lambda v: f"{v:.2f}" if v is not None else "-")
        label = "" if name == default else f"[{name}]"
        print(f"min_speedup_of_mins_vs_durabletask{label}: {show(of_mins[name])}")
        if name != default:
            print(f"min_speedup_vs_durabletask{label}: {show(value)}")
    long_chain = report.get("chain_1000") or {}
    if "ratio_of_medians" in long_chain:
        print(f"long_chain_speedup_vs_durabletask (row 10, target 1.5): {long_chain['ratio_of_medians']:.2f}")
    print(f"min_speedup_vs_durabletask: {min_default:.2f}" if min_default is not None
          else "min_speedup_vs_durabletask: n/a")
    return 0


if __name__ == "__main__":
    sys.exit(main())
