"""``FunctionPool`` runs sync functions as the worker's ``ThreadPoolExecutor`` does: what a
function can observe (its thread, thread-local state, concurrency up to max_workers, the loop
never blocked) is compared with a real ``ThreadPoolExecutor`` side by side."""
from __future__ import annotations

import asyncio
import concurrent.futures
import subprocess
import sys
import threading

from devhost.function_pool import FunctionPool
from devhost.invoke import run_in_pool


def observed(pool) -> list:
    """Thread names, daemon flags and thread-local counters of sequential calls."""
    local = threading.local()

    def call() -> tuple[str, bool, int]:
        local.count = getattr(local, "count", 0) + 1
        thread = threading.current_thread()
        return thread.name, thread.daemon, local.count

    async def run() -> list:
        if isinstance(pool, FunctionPool):
            return [await run_in_pool(pool, call, {}) for _ in range(5)]
        loop = asyncio.get_running_loop()  # the worker's way
        return [await loop.run_in_executor(pool, call) for _ in range(5)]

    try:
        return asyncio.run(run())
    finally:
        pool.shutdown()


def test_sequential_calls_reuse_one_non_daemon_thread_like_the_executor():
    # Ours counts a thread idle before it hands the result back, so the next call always finds
    # it; the executor's does so in a race it nearly always wins (so it is compared loosely).
    ours = observed(FunctionPool(4, thread_name_prefix="p"))
    assert ours == [("p_0", False, n) for n in range(1, 6)]
    theirs = observed(concurrent.futures.ThreadPoolExecutor(4, thread_name_prefix="p"))
    assert {(name[:2], daemon) for name, daemon, _ in theirs} == {("p_", False)}


async def test_blocking_calls_take_threads_up_to_max_workers_and_never_block_the_loop():
    pool = FunctionPool(3, thread_name_prefix="b")
    gate = threading.Event()
    names: list[str] = []
    lock = threading.Lock()

    def blocker() -> None:
        with lock:
            names.append(threading.current_thread().name)
        gate.wait(10)

    try:
        calls = [asyncio.ensure_future(run_in_pool(pool, blocker, {})) for _ in range(5)]
        ticks = 0
        while len(names) < 3:  # the loop keeps turning while every thread is blocked
            await asyncio.sleep(0.001)
            ticks += 1
        await asyncio.sleep(0.02)
        assert sorted(names) == ["b_0", "b_1", "b_2"] and ticks > 0  # the other two wait for a thread
        gate.set()
        await asyncio.gather(*calls)
        assert len(names) == 5 and set(names) == {"b_0", "b_1", "b_2"}
        assert len(pool._threads) == 3
    finally:
        gate.set()
        pool.shutdown()


async def test_shutdown_with_cancel_drops_calls_not_started():
    pool = FunctionPool(1, thread_name_prefix="s")
    gate, started, ran = threading.Event(), threading.Event(), []

    def first() -> None:
        started.set()
        gate.wait(10)
        ran.append("first")

    running = asyncio.ensure_future(run_in_pool(pool, first, {}))
    queued = asyncio.ensure_future(run_in_pool(pool, lambda: ran.append("queued"), {}))
    await asyncio.sleep(0)
    assert started.wait(5)
    pool.shutdown(wait=False, cancel_futures=True)
    gate.set()
    await running
    pool.shutdown(wait=True)
    assert ran == ["first"] and not queued.done()
    queued.cancel()
    try:
        pool.submit(lambda: None)
    except RuntimeError as exc:
        assert "shutdown" in str(exc)
    else:
        raise AssertionError("a shut-down pool took a call")


def test_the_interpreter_waits_for_a_running_call_and_exits_without_a_shutdown():
    program = (
        "import threading, time\n"
        "from devhost.function_pool import FunctionPool\n"
        "pool = FunctionPool(2, thread_name_prefix='x')\n"
        "pool.submit(lambda: (time.sleep(0.2), print('finished', flush=True)))\n"
        "pool.submit(lambda: None)\n"
        "print('exiting', flush=True)\n"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["exiting", "finished"]


def test_a_pool_dropped_without_a_shutdown_lets_its_threads_end():
    import gc

    pool = FunctionPool(2, thread_name_prefix="d")
    done = threading.Event()
    pool.submit(lambda: done.set())
    assert done.wait(5)
    threads = list(pool._threads)
    del pool
    gc.collect()
    for thread in threads:
        thread.join(5)
        assert not thread.is_alive()
