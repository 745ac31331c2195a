"""The host's side of the benchmark: one warm ``DurableHost`` per configuration, one row at a time.

``bench/run.py`` calls the row methods in turn with the peer's (``bench/peer_durabletask.py``),
so each method times one repetition of one row and returns its figures. Host overhead (row 5)
is measured per row with ``Meter`` and summed over the host's own rows only, so the peer's CPU,
which runs in the same process between them, is never charged to the host.
"""
from __future__ import annotations

import gc
import os
import statistics
import time
from pathlib import Path
from typing import Any

APP = Path(__file__).resolve().parent / "app"
SDK_CPU = [0.0]  # thread CPU seconds inside the SDK's orchestrator call (see measure_sdk_cpu)
RAW_FIELDS = ("cpu", "loop_cpu", "wall", "sdk", "sdk_wall", "episode", "events", "episodes", "body")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(q * (len(ordered) - 1)))))
    return ordered[index]


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
    """Raw counters over a stretch of host work: process CPU time (all threads: scheduler loop,
    activity thread pool, store, engine, shim, facade, asyncio, GC), the event-loop thread's CPU,
    CPU and wall time inside the SDK's orchestrator call, episode time, history events handed
    to the SDK (``stats.events_replayed``: each episode counts its whole history), and CPU time
    inside activity bodies. ``derive`` turns a (summed) reading into per-event figures."""

    def __init__(self, runtime: Any) -> None:
        import benchknobs

        self.knobs = benchknobs
        self.stats = runtime.stats
        self.start = self.snapshot()

    def snapshot(self) -> dict[str, float]:
        s = self.stats
        return {"cpu": time.process_time(), "loop_cpu": time.thread_time(),  # read on the event-loop thread
                "wall": time.perf_counter(), "sdk": SDK_CPU[0], "sdk_wall": s.sdk_seconds,
                "episode": s.episode_seconds, "events": s.events_replayed, "episodes": s.episodes,
                "body": self.knobs.ACTIVITY_BODY_SECONDS}

    def read(self) -> dict[str, float]:
        now = self.snapshot()
        return {key: now[key] - self.start[key] for key in RAW_FIELDS}


def add_raw(total: dict[str, float], raw: dict[str, float]) -> None:
    for key in RAW_FIELDS:
        total[key] = total.get(key, 0.0) + raw[key]


def derive(raw: dict[str, float]) -> dict[str, Any]:
    events = raw["events"]
    host = raw["cpu"] - raw["sdk"] - raw["body"]
    per = (lambda seconds: seconds / events * 1e6) if events else (lambda seconds: None)
    return {
        "wall_s": raw["wall"], "cpu_s": raw["cpu"], "loop_thread_cpu_s": raw["loop_cpu"],
        "worker_threads_cpu_s": raw["cpu"] - raw["loop_cpu"], "sdk_s": raw["sdk"], "sdk_wall_s": raw["sdk_wall"],
        "activity_body_s": raw["body"], "host_cpu_s": host, "events": events, "episodes": raw["episodes"],
        "host_us_per_event": per(host),
        # the loop thread alone: scheduler, engine, shim, store, facade, asyncio, GC
        "loop_host_us_per_event": per(raw["loop_cpu"] - raw["sdk"]),
        # the invoker's thread pool (sync activities), bodies excluded
        "worker_threads_us_per_event": per(raw["cpu"] - raw["loop_cpu"] - raw["body"]),
        "episode_minus_sdk_us_per_event": per(raw["episode"] - raw["sdk_wall"]),
        "sdk_us_per_event": per(raw["sdk"]),
    }


def _row_figures(raw: dict[str, float]) -> dict[str, Any]:
    d = derive(raw)
    return {"host_us_per_event": d["host_us_per_event"], "events": d["events"], "episodes_total": d["episodes"],
            "sdk_s": d["sdk_s"], "host_cpu_s": d["host_cpu_s"]}


class HostSide:
    """One host configuration, started once and kept warm across every repetition."""

    def __init__(self, name: str, kind: str, fast: bool, chains: int, fan_out: int,
                 connection: str | None = None, large_fan_out: int = 10000, many_chains: int = 1000) -> None:
        self.name, self.kind, self.fast = name, kind, fast
        self.chains, self.fan_out_size, self.connection = chains, fan_out, connection
        self.large_fan_out, self.many_chains = large_fan_out, many_chains
        self.seq = 0
        self.rows_raw: dict[str, float] = {}  # summed over the host's own rows 1-3

    async def start(self) -> None:
        from devhost.app_index import load_app
        from devhost.clock import VirtualClock
        from devhost.config import load_config
        from devhost.host import DurableHost, HostSettings
        from devhost.scheduler import RuntimeOptions
        from devhost.store.memory import MemoryStore

        config = load_config(APP)
        index = load_app(APP)
        if self.kind == "memory":
            store: Any = MemoryStore()
            hub = config.task_hub
        else:
            from devhost.store.azure import AzureStore

            hub = f"Bench{os.getpid()}{'F' if self.fast else 'S'}"
            store = AzureStore(self.connection, hub)
        self.clock = VirtualClock()
        # The same concurrency as the peer: durabletask's ConcurrencyOptions default to 100 x the
        # processor count for activities and orchestrations (the platform's default, which the host
        # follows, is 10 x: docs/benchmarks.md).
        peer_default = 100 * (os.cpu_count() or 1)
        options = RuntimeOptions(fast_timestamps=self.fast, max_concurrent_activities=peer_default,
                                 max_concurrent_orchestrations=peer_default)
        self.host = DurableHost(index, store, self.clock, options=options, settings=HostSettings(task_hub=hub))
        await self.host.start()
        self.runtime = self.host.runtime
        measure_sdk_cpu(self.runtime)
        await self.finish(await self.start_new("chain4", "warm"))  # warm-up: imports, first SDK calls
        await self.finish(await self.start_new("fan", 10))

    async def stop(self) -> None:
        await self.host.stop()

    def activate(self) -> None:
        """The timestamp fast path is process-wide: switch it to this configuration's setting."""
        from devhost import fast_timestamps

        fast_timestamps.configure(self.fast)

    async def start_new(self, name: str, value: Any = None) -> str:
        from azure.functions._durable_functions import df_dumps

        from devhost.engine import compact

        self.seq += 1
        text = compact(df_dumps(value)) if value is not None else None
        return await self.host.start_new(name, f"{name}-{self.seq}", text)

    async def finish(self, instance_id: str, timeout: float = 300.0) -> dict[str, Any]:
        status = await self.host.wait(instance_id, timeout)
        assert status["runtimeStatus"] == "Completed", status
        return status

    def _metered(self, meter: Meter) -> dict[str, Any]:
        raw = meter.read()
        add_raw(self.rows_raw, raw)
        return _row_figures(raw)

    async def chain_sequential(self) -> dict[str, Any]:
        self.activate()
        meter = Meter(self.runtime)
        latencies = []
        t0 = time.perf_counter()
        for i in range(self.chains):
            s = time.perf_counter()
            status = await self.finish(await self.start_new("chain4", f"c{i}"))
            latencies.append(time.perf_counter() - s)
        total = time.perf_counter() - t0
        figures = self._metered(meter)
        assert status["output"] == [f"Hello c{self.chains - 1}!", "Hello Tokyo!", "Hello Seattle!", "Hello London!"]
        return {"total_s": total, "p50_ms": statistics.median(latencies) * 1000,
                "p95_ms": pct(latencies, 0.95) * 1000, "count": self.chains, **figures}

    async def chain_parallel(self, count: int | None = None) -> dict[str, Any]:
        self.activate()
        count = count or self.chains
        meter = Meter(self.runtime)
        t0 = time.perf_counter()
        ids = [await self.start_new("chain4", f"p{i}") for i in range(count)]
        for instance_id in ids:
            await self.finish(instance_id)
        total = time.perf_counter() - t0
        return {"total_s": total, "count": count, **self._metered(meter)}

    async def fan_out(self, size: int | None = None) -> dict[str, Any]:
        self.activate()
        size = size or self.fan_out_size
        meter = Meter(self.runtime)
        t0 = time.perf_counter()
        instance_id = await self.start_new("fan", size)
        status = await self.finish(instance_id)
        total = time.perf_counter() - t0
        figures = self._metered(meter)
        assert status["output"] == sum(i * i for i in range(size)), status
        return {"total_s": total, "activities": size,
                "episodes": self.runtime.stats.episodes_by_instance[instance_id], **figures}

    # Heavy rows (bench/run.py --heavy): not metered into row 5, which stays rows 1-3.
    async def fan_out_large(self) -> dict[str, Any]:
        return await self._unmetered(self.fan_out(self.large_fan_out))

    async def chains_many(self) -> dict[str, Any]:
        return await self._unmetered(self.chain_parallel(self.many_chains))

    async def _unmetered(self, row: Any) -> dict[str, Any]:
        rows_raw = dict(self.rows_raw)
        try:
            return await row
        finally:
            self.rows_raw = rows_raw

    async def extras(self, repeat: int) -> dict[str, Any]:
        """Host-only rows: row 1 with async activities (row 5), and the 72-hour timer (row 4)."""
        self.activate()
        gc.collect()
        async_runs = []
        for _ in range(repeat):
            meter = Meter(self.runtime)
            for i in range(self.chains):
                await self.finish(await self.start_new("chain4_async", f"a{i}"))
            async_runs.append(derive(meter.read()))
        timer_runs = []
        for _ in range(repeat):
            before = self.clock.now()
            t0 = time.perf_counter()
            instance_id = await self.start_new("sleeper72")
            await self.finish(instance_id, timeout=10)
            timer_runs.append({"wall_ms": (time.perf_counter() - t0) * 1000, "finished": True,
                               "virtual_hours": (self.clock.now() - before).total_seconds() / 3600,
                               "episodes": self.runtime.stats.episodes_by_instance[instance_id]})
        return {"async_activities": async_runs, "timer_72h": timer_runs}
