"""Row 9 of the benchmark: peak RSS per row and side, each in a fresh process.

Both sides of ``bench/run.py`` share one process, where the peak RSS (``ru_maxrss``, ``VmHWM``)
only grows and memory a row freed is reused by the next, so neither a peak nor its growth would
belong to one row. Here every row runs once per side in a new interpreter
(``bench/run.py --rss-child SIDE ROW``, same sizes): it starts and warms up that side, reads
``VmRSS`` (the warm baseline), runs the row and reports ``VmHWM`` (the process's peak).
Resetting the peak in place (``/proc/self/clear_refs`` 5) would still charge reused memory to
the wrong row, so it is not used.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

from report import HEAVY, RSS_ROWS

RUN = Path(__file__).resolve().parent / "run.py"


def _status_kb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return float(line.split()[1])
    raise KeyError(field)


def rss_child(args: argparse.Namespace, configs: list[tuple[str, str, bool]], new_host: Callable[..., Any],
              new_peer: Callable[[argparse.Namespace], Any]) -> int:
    """In a fresh process: start and warm one side, run one row once, print peak and warm RSS."""
    side_name, row = args.rss_child
    import logging

    logging.getLogger().setLevel(logging.ERROR)
    if row == "served":
        from served import served_starts

        from devhost.store.memory import MemoryStore

        baseline = _status_kb("VmRSS")  # imports done; the host starts (and warms up) inside
        asyncio.run(served_starts(MemoryStore(), args.served_starts, args.served_clients, args.client_timeout))
    elif side_name == "peer":
        peer = new_peer(args)
        peer.start()
        baseline = _status_kb("VmRSS")
        result = getattr(peer, row)()
        peer.stop()
        if result.get("finished") is False:
            print(json.dumps({"error": f"not done after {result['timeout_s']:.0f} s"}))
            return 0
    else:
        name, kind, fast = next(c for c in configs if c[0] == side_name)

        async def one() -> float:
            side = new_host(args, name, kind, fast)
            await side.start()
            warm = _status_kb("VmRSS")
            await getattr(side, row)()
            await side.stop()
            return warm

        baseline = asyncio.run(one())
    print(json.dumps({"peak_mb": _status_kb("VmHWM") / 1024, "baseline_mb": baseline / 1024}))
    return 0


def rss_rows(args: argparse.Namespace, host_config: str, peer_available: bool) -> dict[str, Any]:
    """``{row: {side: {"peak_mb", "baseline_mb"} or {"error"}}}`` for the rows this run has."""
    rows = [row for row in RSS_ROWS if (args.heavy or row not in HEAVY) and (args.served_runs or row != "served")]
    sizes = ["--chains", str(args.chains), "--fan-out", str(args.fan_out), "--large-fan-out",
             str(args.large_fan_out), "--many-chains", str(args.many_chains), "--heavy-timeout",
             str(args.heavy_timeout), "--served-starts", str(args.served_starts), "--served-clients",
             str(args.served_clients), "--client-timeout", str(args.client_timeout)]
    out: dict[str, Any] = {}
    for row in rows:
        sides = [host_config] + (["peer"] if peer_available and row != "served" else [])
        for side in sides:
            print(f"peak RSS: {row} on {side} ...", file=sys.stderr, flush=True)
            done = subprocess.run([sys.executable, str(RUN), "--rss-child", side, row, *sizes],
                                  capture_output=True, text=True, timeout=args.heavy_timeout * 3 + 300)
            try:
                figures = json.loads(done.stdout.strip().splitlines()[-1])
            except (ValueError, IndexError):
                figures = {"error": f"failed (exit {done.returncode})"}
            out.setdefault(row, {})[side] = figures
    return out
