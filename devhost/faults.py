"""Fault injection, switchable per host (issue 6): the faults the platform promises to survive.

    faults = FaultPlan(crash_activity={"ProcessBlob": 2}, duplicate_completions=True)
    async with DurableTestHost.start_time_skipping(".", faults=faults) as env: ...

* ``run_activity_twice``: the activity body runs twice (at-least-once execution).
* ``duplicate_completions``: every activity result and raised event is delivered twice.
* ``crash_before_commit``: the next N episodes run and then "crash" before their commit; the
  episode is redone from the stored state.
* ``fail_activity``: the next N invocations of an activity fail with an injected error (TaskFailed).
* ``crash_activity``: the next N invocations of an activity crash the worker (no result; the work
  item is retried, and the poison policy stops it after ``RuntimeOptions.poison_attempts``).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


class InjectedCrash(Exception):
    """Stands for a worker process dying at this point."""


@dataclass
class FaultPlan:
    run_activity_twice: set[str] = field(default_factory=set)
    duplicate_completions: bool = False
    crash_before_commit: int = 0
    fail_activity: dict[str, int] = field(default_factory=dict)
    crash_activity: dict[str, int] = field(default_factory=dict)
    injected: Counter = field(default_factory=Counter)

    def _take(self, budget: dict[str, int], name: str) -> bool:
        if budget.get(name, 0) > 0:
            budget[name] -= 1
            return True
        return False

    def activity_crashes(self, name: str) -> bool:
        hit = self._take(self.crash_activity, name)
        if hit:
            self.injected["activity crash"] += 1
        return hit

    def activity_fails(self, name: str) -> bool:
        hit = self._take(self.fail_activity, name)
        if hit:
            self.injected["activity failure"] += 1
        return hit

    def runs_twice(self, name: str) -> bool:
        hit = name in self.run_activity_twice
        if hit:
            self.injected["activity run twice"] += 1
        return hit

    def episode_crashes(self) -> bool:
        if self.crash_before_commit > 0:
            self.crash_before_commit -= 1
            self.injected["crash before commit"] += 1
            return True
        return False

    def duplicates(self) -> bool:
        if self.duplicate_completions:
            self.injected["duplicate delivery"] += 1
        return self.duplicate_completions
