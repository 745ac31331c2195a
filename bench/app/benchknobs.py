"""Counters the benchmark reads: time spent inside activity bodies (excluded from host overhead)."""
import threading
import time

ACTIVITY_BODY_SECONDS = 0.0
_lock = threading.Lock()


def add(seconds: float) -> None:
    global ACTIVITY_BODY_SECONDS
    with _lock:
        ACTIVITY_BODY_SECONDS += seconds


# perf_counter() at each step of a long chain (bench/bench_replay.py), in completion order.
MARKS: list[float] = []


def mark() -> None:
    MARKS.append(time.perf_counter())
