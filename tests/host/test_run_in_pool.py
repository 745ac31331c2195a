"""``invoke.run_in_pool`` behaves as ``loop.run_in_executor`` for the host's sync functions."""
from __future__ import annotations

import asyncio
import concurrent.futures
import threading

import pytest

from devhost.function_pool import FunctionPool
from devhost.invoke import run_in_pool


async def test_result_exception_and_thread():
    pool = FunctionPool(2, thread_name_prefix="t-pool")
    reference = concurrent.futures.ThreadPoolExecutor(1)
    try:
        assert await run_in_pool(pool, lambda x, y: x + y, {"x": 1, "y": 2}) == 3
        name = await run_in_pool(pool, lambda: threading.current_thread().name, {})
        assert name.startswith("t-pool") and name != threading.current_thread().name
        error = ValueError("boom")

        def fail():
            raise error

        with pytest.raises(ValueError) as raised:
            await run_in_pool(pool, fail, {})
        assert raised.value is error
        loop = asyncio.get_running_loop()
        with pytest.raises(ValueError) as expected:
            await loop.run_in_executor(reference, fail)
        assert type(expected.value) is type(raised.value)
    finally:
        pool.shutdown()
        reference.shutdown()


async def test_cancelling_the_await_cancels_a_call_that_has_not_started():
    pool = FunctionPool(1, thread_name_prefix="t-cancel")
    gate, ran = threading.Event(), []
    try:
        blocker = asyncio.ensure_future(run_in_pool(pool, gate.wait, {}))
        queued = asyncio.ensure_future(run_in_pool(pool, lambda: ran.append(1), {}))
        await asyncio.sleep(0.01)
        queued.cancel()
        with pytest.raises(asyncio.CancelledError):
            await queued
        gate.set()
        assert await blocker is True
        await asyncio.sleep(0.01)
        assert ran == []
    finally:
        gate.set()
        pool.shutdown()
