"""The thread pool that runs the app's plain ``def`` functions, as the Python worker's does.

The worker runs a sync function with ``loop.run_in_executor`` on a
``concurrent.futures.ThreadPoolExecutor`` of ``PYTHON_THREADPOOL_THREAD_COUNT`` threads. This
pool keeps everything a function can see of that: real, non-daemon threads named
``<prefix>_<n>``, started one at a time only when no started thread is idle, up to
``max_workers``, then reused (so thread-local state persists between invocations on a thread);
any idle thread takes the next call; the loop never waits for a call. What it leaves out is
the bookkeeping the host does not use: a ``concurrent.futures.Future`` per call (its condition
variable, state machine and callbacks) and a ``threading.Semaphore`` written in Python for the
idle count. A call hands its result back itself (``invoke.run_in_pool``); measured, this is
about 15 us less CPU per call than ``ThreadPoolExecutor.submit``.
"""
from __future__ import annotations

import queue
import threading
import weakref
from typing import Callable

_live: "weakref.WeakSet[FunctionPool]" = weakref.WeakSet()


class PoolCall:
    """One call. ``cancel()`` before a thread takes it and it never runs; one that a thread has
    taken runs to its end (``Future.cancel`` of a running call fails). The awaiting side does
    not need to know which: it has stopped waiting either way."""

    __slots__ = ("fn", "cancelled")

    def __init__(self, fn: Callable[[], Callable[[], None] | None]) -> None:
        self.fn = fn
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class FunctionPool:
    def __init__(self, max_workers: int, thread_name_prefix: str) -> None:
        if max_workers <= 0:
            raise ValueError("max_workers must be greater than 0")
        self.max_workers = max_workers
        self._prefix = thread_name_prefix
        self._queue: queue.SimpleQueue[PoolCall | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0  # started threads that finished a call and wait for the next
        self._threads: list[threading.Thread] = []
        self._shutdown = False
        _live.add(self)

    def submit(self, fn: Callable[[], Callable[[], None] | None]) -> PoolCall:
        """Run ``fn`` on a pool thread; what it returns (if anything) is called once the thread
        counts as idle again (the hand-back of the result to the loop)."""
        call = PoolCall(fn)
        with self._lock:
            if self._shutdown:
                raise RuntimeError("cannot schedule new futures after shutdown")
            self._queue.put(call)
            if self._idle:
                self._idle -= 1
            elif len(self._threads) < self.max_workers:
                # The thread holds the pool weakly (as ThreadPoolExecutor's do): a pool dropped
                # without a shutdown lets its threads end.
                thread = threading.Thread(name=f"{self._prefix}_{len(self._threads)}", target=_work,
                                          args=(weakref.ref(self, _wake_all(self._queue)), self._queue))
                thread.start()
                self._threads.append(thread)
        return call

    def _took_call(self) -> None:  # a thread is idle again
        with self._lock:
            self._idle += 1

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._shutdown = True
            if cancel_futures:
                while True:
                    try:
                        pending = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if pending is not None:
                        pending.cancel()
            self._queue.put(None)
        if wait:
            for thread in list(self._threads):
                thread.join()


def _wake_all(calls: queue.SimpleQueue[PoolCall | None]) -> Callable[[object], None]:
    return lambda _: calls.put(None)


def _work(pool_ref: weakref.ref[FunctionPool], calls: queue.SimpleQueue[PoolCall | None]) -> None:
    get = calls.get
    while True:
        call = get()
        if call is None:
            calls.put(None)  # wake the next thread to end too
            return
        then = None if call.cancelled else call.fn()
        del call
        pool = pool_ref()
        if pool is not None:
            pool._took_call()
        del pool
        # Counted idle before the result is handed back: the loop's next call (often at once,
        # in a chain) finds this thread free, as ThreadPoolExecutor's bookkeeping (done with
        # the GIL held, before the loop can run) lets it find it.
        if then is not None:
            then()


def _exit() -> None:
    """At interpreter exit, let the threads finish their calls and stop (as ThreadPoolExecutor's
    threads do: they are not daemons, so the interpreter joins them)."""
    for pool in list(_live):
        pool.shutdown(wait=False)


threading._register_atexit(_exit)  # type: ignore[attr-defined]  # what concurrent.futures.thread uses
