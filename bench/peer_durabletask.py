"""The peer: Microsoft's ``durabletask`` SDK against its in-memory test backend.

``durabletask.testing.InMemoryOrchestrationBackend`` is a gRPC servicer held in memory; the
worker (``TaskHubGrpcWorker``) and the client (``TaskHubGrpcClient``) talk to it over loopback
gRPC, exactly as its own docs and tests use it. Timers are real: the backend sleeps a thread
until ``fireAt``.

Run alone: ``python bench/peer_durabletask.py`` (prints the rows as JSON).
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


def run(chains: int = 200, fan_out: int = 1000, timer_timeout: float | None = 3.0) -> dict[str, Any]:
    """Rows 1-4 on a fresh backend + worker; ``timer_timeout=None`` skips row 4."""
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

    port = _free_port()
    backend = create_test_backend(port=port)
    address = f"localhost:{port}"
    worker = dt_worker.TaskHubGrpcWorker(host_address=address, logger=quiet)
    for fn in (chain4, fan, sleeper72):
        worker.add_orchestrator(fn)
    for fn in (hello, square):
        worker.add_activity(fn)
    worker.start()
    client = dt_client.TaskHubGrpcClient(host_address=address, logger=quiet)
    rows: dict[str, Any] = {}
    try:
        # warm-up (connection, first-call imports)
        iid = client.schedule_new_orchestration(chain4, input="warm")
        client.wait_for_orchestration_completion(iid, timeout=30)

        # 1. sequential chains
        latencies = []
        t0 = time.perf_counter()
        for i in range(chains):
            s = time.perf_counter()
            iid = client.schedule_new_orchestration(chain4, input=f"c{i}")
            state = client.wait_for_orchestration_completion(iid, timeout=60)
            assert state is not None and state.runtime_status == dt_client.OrchestrationStatus.COMPLETED, state
            latencies.append(time.perf_counter() - s)
        total = time.perf_counter() - t0
        rows["chain_sequential"] = {"total_s": total, "p50_ms": statistics.median(latencies) * 1000,
                                    "p95_ms": _pct(latencies, 0.95) * 1000, "count": chains}

        # 2. chains started at once
        t0 = time.perf_counter()
        ids = [client.schedule_new_orchestration(chain4, input=f"p{i}") for i in range(chains)]
        for iid in ids:
            state = client.wait_for_orchestration_completion(iid, timeout=120)
            assert state is not None and state.runtime_status == dt_client.OrchestrationStatus.COMPLETED, state
        rows["chain_parallel"] = {"total_s": time.perf_counter() - t0, "count": chains}

        # 3. fan-out/fan-in
        t0 = time.perf_counter()
        iid = client.schedule_new_orchestration(fan, input=fan_out)
        state = client.wait_for_orchestration_completion(iid, timeout=120)
        assert state is not None and state.runtime_status == dt_client.OrchestrationStatus.COMPLETED, state
        assert json.loads(state.serialized_output) == sum(i * i for i in range(fan_out))
        rows["fan_out"] = {"total_s": time.perf_counter() - t0, "activities": fan_out,
                           "episodes": None}  # the backend does not count orchestrator work items

        # 4. 72-hour timer: real time; bounded wait
        if timer_timeout is None:
            return rows
        t0 = time.perf_counter()
        iid = client.schedule_new_orchestration(sleeper72)
        finished = False
        try:
            state = client.wait_for_orchestration_completion(iid, timeout=int(timer_timeout))
            finished = state is not None and state.runtime_status == dt_client.OrchestrationStatus.COMPLETED
        except TimeoutError:
            finished = False
        rows["timer_72h"] = {"finished": finished, "waited_s": time.perf_counter() - t0,
                             "timeout_s": timer_timeout}
        try:
            client.terminate_orchestration(iid, recursive=False)
        except Exception:
            pass
    finally:
        try:
            client.close()
        except Exception:
            pass
        worker.stop()
        backend.stop()
    return rows


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
