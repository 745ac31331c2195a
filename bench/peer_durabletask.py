"""The peer: Microsoft's ``durabletask`` SDK against its in-memory test backend.

``durabletask.testing.InMemoryOrchestrationBackend`` is a gRPC servicer held in memory; the
worker (``TaskHubGrpcWorker``) and the client (``TaskHubGrpcClient``) talk to it over loopback
gRPC, exactly as its own docs and tests use it. Timers are real: the backend sleeps a thread
until ``fireAt``.

``bench/run.py`` starts one ``Peer`` and calls its row methods between the host's. Run alone:
``python bench/peer_durabletask.py`` (prints one run of the rows as JSON).
"""
from __future__ import annotations

import json
import socket
import statistics
import time
from datetime import timedelta
from typing import Any


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(q * (len(ordered) - 1)))))
    return ordered[index]


class Peer:
    """One in-memory backend, worker and client, started once and kept warm across repetitions;
    each row method times one repetition of one row."""

    def __init__(self, chains: int = 200, fan_out: int = 1000, large_fan_out: int = 10000,
                 many_chains: int = 1000, heavy_timeout: float = 60.0) -> None:
        self.chains, self.fan_out_size = chains, fan_out
        self.large_fan_out, self.many_chains, self.heavy_timeout = large_fan_out, many_chains, heavy_timeout

    def start(self) -> None:
        import logging

        from durabletask import client as dt_client
        from durabletask import task as dt_task
        from durabletask import worker as dt_worker
        from durabletask.testing import create_test_backend

        # The SDK logs every work item at INFO to stderr by default; give it a quiet logger so the
        # peer is not charged for console output (our host logs nothing per event either).
        quiet = logging.Logger("durabletask-bench")
        quiet.setLevel(logging.WARNING)
        quiet.addHandler(logging.NullHandler())

        def hello(ctx: dt_task.ActivityContext, name: str) -> str:
            return f"Hello {name}!"

        def square(ctx: dt_task.ActivityContext, value: int) -> int:
            return value * value

        def chain4(ctx: dt_task.OrchestrationContext, name: str):
            results = []
            for city in (name, "Tokyo", "Seattle", "London"):
                results.append((yield ctx.call_activity(hello, input=city)))
            return results

        def fan(ctx: dt_task.OrchestrationContext, count: int):
            results = yield dt_task.when_all([ctx.call_activity(square, input=i) for i in range(count)])
            return sum(results)

        def sleeper72(ctx: dt_task.OrchestrationContext, _: Any):
            yield ctx.create_timer(ctx.current_utc_datetime + timedelta(hours=72))
            return "woke"

        self.dt_client, self.chain4, self.fan, self.sleeper72 = dt_client, chain4, fan, sleeper72
        port = _free_port()
        self.backend = create_test_backend(port=port)
        address = f"localhost:{port}"
        self.worker = dt_worker.TaskHubGrpcWorker(host_address=address, logger=quiet)
        for fn in (chain4, fan, sleeper72):
            self.worker.add_orchestrator(fn)
        for fn in (hello, square):
            self.worker.add_activity(fn)
        self.register_extra(self.worker, dt_task)
        self.worker.start()
        self.client = dt_client.TaskHubGrpcClient(host_address=address, logger=quiet)
        # warm-up (connection, first-call imports)
        iid = self.client.schedule_new_orchestration(chain4, input="warm")
        self.client.wait_for_orchestration_completion(iid, timeout=30)

    def register_extra(self, worker: Any, dt_task: Any) -> None:
        """Hook for other benchmarks (``bench/bench_replay.py``): add functions before the worker starts."""

    def stop(self) -> None:
        try:
            self.client.close()
        except Exception:
            pass
        self.worker.stop()
        self.backend.stop()

    def _completed(self, iid: str, timeout: int) -> Any:
        state = self.client.wait_for_orchestration_completion(iid, timeout=timeout)
        assert state is not None and state.runtime_status == self.dt_client.OrchestrationStatus.COMPLETED, state
        return state

    def chain_sequential(self) -> dict[str, Any]:
        latencies = []
        t0 = time.perf_counter()
        for i in range(self.chains):
            s = time.perf_counter()
            self._completed(self.client.schedule_new_orchestration(self.chain4, input=f"c{i}"), 60)
            latencies.append(time.perf_counter() - s)
        total = time.perf_counter() - t0
        return {"total_s": total, "p50_ms": statistics.median(latencies) * 1000,
                "p95_ms": _pct(latencies, 0.95) * 1000, "count": self.chains}

    def chain_parallel(self, count: int | None = None, timeout: int = 120) -> dict[str, Any]:
        count = count or self.chains
        t0 = time.perf_counter()
        ids = [self.client.schedule_new_orchestration(self.chain4, input=f"p{i}") for i in range(count)]
        for iid in ids:
            self._completed(iid, max(1, int(timeout - (time.perf_counter() - t0))))
        return {"total_s": time.perf_counter() - t0, "count": count}

    def fan_out(self, size: int | None = None, timeout: int = 120) -> dict[str, Any]:
        size = size or self.fan_out_size
        t0 = time.perf_counter()
        state = self._completed(self.client.schedule_new_orchestration(self.fan, input=size), timeout)
        total = time.perf_counter() - t0
        assert json.loads(state.serialized_output) == sum(i * i for i in range(size))
        return {"total_s": total, "activities": size,
                "episodes": None}  # the backend does not count orchestrator work items

    # Heavy rows (bench/run.py --heavy): bounded by heavy_timeout. A row that does not finish
    # leaves work queued in the backend, so the peer is restarted before anything else runs.
    def fan_out_large(self) -> dict[str, Any]:
        return self._bounded(lambda: self.fan_out(self.large_fan_out, int(self.heavy_timeout)))

    def chains_many(self) -> dict[str, Any]:
        return self._bounded(lambda: self.chain_parallel(self.many_chains, int(self.heavy_timeout)))

    def _bounded(self, row: Any) -> dict[str, Any]:
        t0 = time.perf_counter()
        try:
            return {**row(), "finished": True}
        except TimeoutError:
            waited = time.perf_counter() - t0
            self.stop()
            self.start()
            return {"total_s": None, "finished": False, "waited_s": waited, "timeout_s": self.heavy_timeout}

    def timer(self, timeout: float) -> dict[str, Any]:
        """Row 4, a 72-hour timer: real time, so a bounded wait (then the instance is terminated)."""
        t0 = time.perf_counter()
        iid = self.client.schedule_new_orchestration(self.sleeper72)
        finished = False
        try:
            state = self.client.wait_for_orchestration_completion(iid, timeout=int(timeout))
            finished = state is not None and state.runtime_status == self.dt_client.OrchestrationStatus.COMPLETED
        except TimeoutError:
            finished = False
        waited = time.perf_counter() - t0
        try:
            self.client.terminate_orchestration(iid, recursive=False)
        except Exception:
            pass
        return {"finished": finished, "waited_s": waited, "timeout_s": timeout}


def run(chains: int = 200, fan_out: int = 1000, timer_timeout: float | None = 3.0) -> dict[str, Any]:
    """Rows 1-4 once on a fresh backend + worker; ``timer_timeout=None`` skips row 4."""
    peer = Peer(chains, fan_out)
    peer.start()
    try:
        rows = {"chain_sequential": peer.chain_sequential(), "chain_parallel": peer.chain_parallel(),
                "fan_out": peer.fan_out()}
        if timer_timeout is not None:
            rows["timer_72h"] = peer.timer(timer_timeout)
        return rows
    finally:
        peer.stop()


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
