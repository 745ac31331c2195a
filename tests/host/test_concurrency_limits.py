"""At most ``maxConcurrentActivityFunctions`` activities and ``maxConcurrentOrchestratorFunctions``
episodes (entity batches included) run at once, 10 x the processor count unless host.json says
otherwise, as the extension's AzureStorageDurabilityProviderFactory sets them outside the
Consumption plan. Counted, not timed."""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Callable

from devhost.scheduler import RuntimeOptions
from devhost.testing import DurableTestHost

FANIN_APP = Path(__file__).resolve().parent / "fanin_app"


class Peak:
    def __init__(self) -> None:
        self.now = self.peak = self.calls = 0

    def wrap(self, run: Callable[..., Any], pause: float = 0.0) -> Callable[..., Any]:
        async def counted(*args: Any) -> Any:
            self.now += 1
            self.calls += 1
            self.peak = max(self.peak, self.now)
            try:
                await asyncio.sleep(pause)  # (a store request: the memory store's episodes never wait)
                return await run(*args)
            finally:
                self.now -= 1
        return counted


async def test_activities_and_episodes_run_at_most_the_configured_number_at_once():
    options = RuntimeOptions(max_concurrent_activities=3, max_concurrent_orchestrations=2)
    async with DurableTestHost.start_time_skipping(FANIN_APP, options=options) as env:
        runtime = env.host.runtime
        activities, episodes = Peak(), Peak()
        runtime._execute_activity = activities.wrap(runtime._execute_activity)
        runtime._run_episode = episodes.wrap(runtime._run_episode, pause=0.005)
        ids = [await env.start("fan", {"count": 6, "activity": "slow_square"}) for _ in range(8)]
        statuses = await asyncio.gather(*(env.wait(i, timeout=60) for i in ids))
        assert {s["runtimeStatus"] for s in statuses} == {"Completed"}
        assert activities.calls == 48 and activities.peak == 3
        assert episodes.calls >= 16 and episodes.peak == 2
