"""Replay recorded histories against the current orchestrator code (like Temporal's ``Replayer``).

A change that would break in-flight instances on Azure (a renamed activity, a reordered call,
a removed timer) fails here, in CI, instead of as "Non-Deterministic workflow detected" in
production. Histories are recorded from test runs (``DurableTestHost.record_histories``) and
committed as JSON fixtures.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import protocol as p
from .app_index import AppIndex
from .invoke import call_orchestrator
from .shim import ShimError, flatten_actions, replay_actions
from .status import parse_token


@dataclass
class RecordedInstance:
    instance_id: str
    name: str
    execution_id: str
    input: str | None
    status: str
    output: str | None
    parent_instance_id: str | None
    history: list[dict[str, Any]]

    @classmethod
    def load(cls, path: Path) -> "RecordedInstance":
        return cls(**json.loads(path.read_text()))

    def dump(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.__dict__, indent=1, sort_keys=True) + "\n")


@dataclass
class ReplayReport:
    ok: bool
    problem: str | None = None


def replay(index: AppIndex, recorded: RecordedInstance) -> ReplayReport:
    """Run the current code over the whole recorded history and check it schedules the same work
    and, for finished instances, ends the same way."""
    info = index.find("orchestrator", recorded.name)
    if info is None:
        return ReplayReport(False, f"orchestrator '{recorded.name}' no longer exists")
    history = [dict(event, IsPlayed=True) for event in recorded.history]
    context = p.context_json(json.dumps(history), input_text=recorded.input, instance_id=recorded.instance_id,
                             parent_instance_id=recorded.parent_instance_id)
    try:
        state = json.loads(call_orchestrator(info, context))
    except Exception as exc:
        embedded = p.split_out_of_proc_error(str(exc))
        if embedded is None:
            return ReplayReport(False, f"orchestrator raised outside the SDK: {exc}")
        state = json.loads(embedded)
    try:
        result = replay_actions(actions=flatten_actions(state.get("actions") or []), history=history,
                                instance_id=recorded.instance_id, execution_id=recorded.execution_id,
                                is_known=index.is_known, parent_instance_id=recorded.parent_instance_id)
    except ShimError as exc:
        return ReplayReport(False, str(exc))
    refused = result.fault or (result.refused[0] if result.refused else None)
    if refused is not None:
        return ReplayReport(False, f"the current code makes a call the extension refuses: {refused}")
    if result.new:
        first = result.new[0]
        return ReplayReport(False, f"the current code schedules {first.describe()}, which the recorded "
                                   "history never scheduled")
    if recorded.status == "Completed":
        if not state.get("isDone"):
            return ReplayReport(False, "the recorded instance completed, the current code does not finish")
        if state.get("output") != parse_token(recorded.output):
            return ReplayReport(False, f"output changed: recorded {recorded.output!r}, now "
                                       f"{json.dumps(state.get('output'))!r}")
    if recorded.status == "Failed" and not state.get("error") and recorded.output and \
            "Non-Deterministic" not in recorded.output and "poison" not in recorded.output:
        return ReplayReport(False, "the recorded instance failed, the current code no longer does")
    return ReplayReport(True)
