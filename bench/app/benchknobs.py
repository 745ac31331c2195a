"""Counters the benchmark reads: time spent inside activity bodies (excluded from host overhead)."""
import threading

ACTIVITY_BODY_SECONDS = 0.0
_lock = threading.Lock()


def add(seconds: float) -> None:
    global ACTIVITY_BODY_SECONDS
    with _lock:
        ACTIVITY_BODY_SECONDS += seconds
