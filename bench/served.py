"""Served-HTTP starts: the host behind its real HTTP server, started by concurrent HTTP clients.

``served_starts(store)`` serves the bench app the way the tests do (``DurableTestHost``: the
aiohttp server on a TCP port, keys, the durable management API), and runs the clients in a
separate process (``python bench/served.py --client ...``) so that they do not share the host's
event loop: ``clients`` concurrent connections post ``starts`` starts of ``chain4`` to
``POST /runtime/webhooks/durabletask/orchestrators/chain4`` (system key), each with a client
timeout. It reports starts/s over the whole burst, p50/p99 latency of an answered start (202),
client timeouts and other errors, then waits (untimed) for every started instance to finish.

The store is a parameter: ``bench/run.py`` passes a ``MemoryStore``; an Azurite variant passes
an ``AzureStore`` (``bench/bench_store.py`` measures served starts on Azurite).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from hostside import pct  # noqa: E402
APP = BENCH / "app"
START_PATH = "/runtime/webhooks/durabletask/orchestrators/chain4"


async def served_starts(store: Any, starts: int = 1000, clients: int = 100, client_timeout: float = 10.0,
                        settle_timeout: float = 300.0) -> dict[str, Any]:
    sys.path.insert(0, str(BENCH.parent))
    from devhost.testing import DurableTestHost

    async with DurableTestHost.start_time_skipping(APP, store=store) as env:
        await env.wait(await env.start("chain4", "warm"), timeout=60)
        process = await asyncio.create_subprocess_exec(
            sys.executable, str(Path(__file__).resolve()), "--client", env.base_url + START_PATH,
            env.keys.system, str(starts), str(clients), str(client_timeout),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await process.communicate()
        if process.returncode != 0 or not out.strip():
            raise RuntimeError(f"the client process failed (exit {process.returncode}):\n{err.decode()[-2000:]}")
        result = json.loads(out)
        for instance_id in result.pop("instance_ids"):  # untimed: leave no work behind
            await env.wait(instance_id, timeout=settle_timeout)
    return result


async def client_burst(url: str, headers: dict[str, str], body: Callable[[int], Any], starts: int, clients: int,
                       timeout: float) -> dict[str, Any]:
    """``starts`` POSTs of ``body(i)`` to ``url`` from ``clients`` concurrent connections, each
    with a ``timeout``: starts/s, p50/p99/max latency of an answered start (202), client timeouts,
    other errors, and the ids the answers named (``instance_ids``)."""
    import aiohttp

    latencies: list[float] = []
    ids: list[str] = []
    errors = {"timeouts": 0, "other": 0}
    queue = iter(range(starts))
    client_timeout = aiohttp.ClientTimeout(total=timeout)

    async def worker(session: aiohttp.ClientSession) -> None:
        for i in queue:
            t0 = time.perf_counter()
            try:
                async with session.post(url, json=body(i), headers=headers) as response:
                    answer = await response.json()
                    if response.status != 202:
                        errors["other"] += 1
                        continue
                latencies.append(time.perf_counter() - t0)
                ids.append(answer["id"])
            except asyncio.TimeoutError:
                errors["timeouts"] += 1
            except (aiohttp.ClientError, ValueError, KeyError):  # (an answer that is not a start's JSON)
                errors["other"] += 1

    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector, timeout=client_timeout) as session:
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(clients)))
        total = time.perf_counter() - t0
    answered = bool(latencies)
    return {"starts": starts, "clients": clients, "client_timeout_s": timeout, "total_s": total,
            "answered": len(latencies), "starts_per_s": len(latencies) / total,
            "p50_ms": statistics.median(latencies) * 1000 if answered else None,
            "p99_ms": pct(latencies, 0.99) * 1000 if answered else None,
            "max_ms": max(latencies) * 1000 if answered else None,
            "client_timeouts": errors["timeouts"], "errors": errors["other"], "instance_ids": ids}


async def _clients(url: str, key: str, starts: int, clients: int, timeout: float) -> dict[str, Any]:
    return await client_burst(url, {"x-functions-key": key}, lambda i: f"s{i}", starts, clients, timeout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--client", nargs=5, metavar=("URL", "KEY", "STARTS", "CLIENTS", "TIMEOUT"),
                        help="run the clients (the host side starts this itself)")
    parser.add_argument("--starts", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=100)
    args = parser.parse_args()
    if args.client:
        url, key, starts, clients, timeout = args.client
        print(json.dumps(asyncio.run(_clients(url, key, int(starts), int(clients), float(timeout)))))
        return 0
    sys.path.insert(0, str(BENCH.parent))
    from devhost.store.memory import MemoryStore

    print(json.dumps(asyncio.run(served_starts(MemoryStore(), args.starts, args.clients)), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
