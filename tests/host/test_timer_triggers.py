"""Timer triggers run on their schedule in served mode (issue 3 item 1)."""
from __future__ import annotations

import asyncio
from pathlib import Path

from devhost.app_index import load_app
from devhost.clock import RealClock
from devhost.invoke import Invoker
from devhost.timer_triggers import TimerTriggers

TIMER_APP = Path(__file__).resolve().parent / "timer_app"


async def test_timer_trigger_runs_on_startup_and_then_on_its_schedule():
    index = load_app(TIMER_APP)
    fired = index.of_kind("timer")[0].fn.__globals__["FIRED"]  # the list in the loaded app module
    fired.clear()
    invoker = Invoker(str(TIMER_APP))
    triggers = TimerTriggers(index.of_kind("timer"), RealClock(), invoker)
    triggers.start()
    try:
        await asyncio.sleep(0.3)
    finally:
        await triggers.stop()
        invoker.close()
    assert 3 <= len(fired) <= 8  # run_on_startup + about one every 50 ms
    assert fired[0] is False
