"""Replay of the SDK's action list the way the extension's shim and DTFx do it.

The SDK returns the *cumulative* list of actions of the current execution. The extension's
``OutOfProcOrchestrationShim`` invokes them in order against DTFx's ``OrchestrationContext``
(V2/V3: each top-level action is awaited before the next one is invoked; compound children
are invoked together), while DTFx replays the stored history. Every scheduling call takes the
next sequence number; stored ``TaskScheduled``/``TimerCreated``/``SubOrchestrationInstanceCreated``/
``EventSent`` events must match those calls, or the instance fails as non-deterministic.

``replay_actions`` does exactly that walk without running user code: it returns which
invocations are new (to be written to history and dispatched), whether the action chain has
finished, whether DTFx would still have open tasks, and any fatal error. Spec sections 2.5,
3.2-3.4, 4.1, 4.4, 5, 6, 7.3.
"""
from __future__ import annotations

import json
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain
from typing import Any, Callable, Sequence

from .protocol import EventType, HTTP_ACTIVITY_NAME, entity_scheduler_id, parse_entity_scheduler_id, parse_timestamp
from .shim_nodes import (  # noqa: F401 - re-exported: the shim's public names stay here
    CallRefused, Invocation, ShimError, UnknownFunctionError, _Node, _WaitEvent, _build, flatten_actions,
)

NON_DETERMINISTIC = "Non-Deterministic workflow detected: "
_NDE_TAIL = (
    "but the current replay execution hasn't (yet?) scheduled this task. Was a change made to "
    "the orchestrator code after this instance had already started running?"
)


@dataclass
class ReplayResult:
    new: list[Invocation]
    chain_finished: bool
    has_open_tasks: bool
    continue_as_new_input: str | None
    continued_as_new: bool
    canceled_timers: list[int]
    next_seq: int
    refused: list[ShimError] = field(default_factory=list)  # calls dropped while walking this time
    fault: ShimError | None = None  # the orchestrator's task faulted in the shim (its chain ends there)
    carried_over: list[dict[str, Any]] = field(default_factory=list)  # events for the next execution


# Names the scheduled event of each kind carries, for the non-determinism check.
_SCHEDULED_KIND = {
    EventType.TaskScheduled: "activity",
    EventType.TimerCreated: "timer",
    EventType.SubOrchestrationInstanceCreated: "suborchestration",
    EventType.EventSent: "send",
}


def _describe_event(event: dict[str, Any]) -> str:
    kind = _SCHEDULED_KIND[EventType(event["EventType"])]
    seq = event["EventId"]
    if kind == "activity":
        return f"an activity task with sequence ID {seq} and name '{event.get('Name')}' (version '')"
    if kind == "timer":
        return f"a timer task with sequence number {seq}"
    if kind == "suborchestration":
        return (f"a sub-orchestration task with sequence ID {seq} and name '{event.get('Name')}' "
                f"(version '', instance ID '{event.get('InstanceId')}')")
    return f"a send event task with sequence ID {seq}, type '{event.get('Name')}' and name '{event.get('InstanceId')}'"


_ORCHESTRATOR_STARTED = int(EventType.OrchestratorStarted)
_EXECUTION_STARTED = int(EventType.ExecutionStarted)
_COMPLETED_TYPES = (int(EventType.TaskCompleted), int(EventType.SubOrchestrationInstanceCompleted))
_FAILED_TYPES = (int(EventType.TaskFailed), int(EventType.SubOrchestrationInstanceFailed))
_TIMER_FIRED = int(EventType.TimerFired)
_EVENT_RAISED = int(EventType.EventRaised)
_OPEN_KINDS = ("activity", "timer", "suborchestration")  # what keeps DTFx waiting


class _Replay:
    def __init__(
        self,
        *,
        instance_id: str,
        execution_id: str,
        now_text: str,
        is_known: Callable[[str, str], bool],
        parent_instance_id: str | None = None,
    ):
        self.instance_id = instance_id
        self.execution_id = execution_id
        self.parent_instance_id = parent_instance_id
        # Orchestration time = the latest OrchestratorStarted; parsed only when a retry needs it.
        self._now_text = now_text
        self._now: datetime | None = None
        self.is_known = is_known
        self.next_seq = 0
        self.invocations: dict[int, Invocation] = {}
        self.waiters: dict[str, deque[_WaitEvent]] = {}
        self.buffered: dict[str, deque[dict[str, Any]]] = {}
        self.requests: dict[str, Invocation] = {}
        self.continue_as_new = False
        self.continue_as_new_input: str | None = None
        self.top: list[_Node] = []
        self.top_index = 0
        self.started = False
        # Kept as the walk goes, so that an episode's result costs O(new events), not a scan of
        # every invocation: open activities/timers/sub-orchestrations, cancelled timers (in
        # sequence order) and invocations whose scheduling event is not in history yet.
        self.open_tasks = 0
        self.canceled_timers: list[int] = []
        self.unrecorded: dict[int, Invocation] = {}
        self.refused: list[ShimError] = []  # calls the extension dropped, since the last result
        # Events raised once the chain has reached continue_as_new go to the next execution (DTFx
        # TaskOrchestrationContext.HandleEventRaisedEvent: AddEventToNextIteration; the Azure
        # Storage provider's default EventBehaviourForContinueAsNew is Carryover).
        self.carried: list[dict[str, Any]] = []
        self.fault: ShimError | None = None  # a synchronous refusal that faulted the orchestrator

    @property
    def now(self) -> datetime:
        if self._now is None:
            self._now = parse_timestamp(self._now_text)
        return self._now

    def _started_at(self, text: str) -> None:
        current = self._now_text
        if len(text) == len(current) and text[-1] == current[-1] == "Z":
            later = text > current  # one fixed-width UTC format: text order is time order
        else:
            later = parse_timestamp(text) > self.now
        if later:
            self._now_text, self._now = text, None

    # -- scheduling -------------------------------------------------------
    def schedule(self, invocation: Invocation, node: _Node) -> Invocation | None:
        """Give ``invocation`` the next sequence number; None if the extension refuses the call.

        The extension validates calls inside the async ``CallDurableTaskFunctionAsync``
        (ContextImplementations/DurableOrchestrationContext.cs 536-607), so a refusal faults the
        call's task, which ``OutOfProcOrchestrationShim.ProcessAsyncActionsV2`` (199-219) awaits
        and silently ignores: nothing reaches DTFx, no sequence number is taken. Only
        ``SignalEntity`` (479-498) rethrows synchronously: ``CallRefused``."""
        refusal = self._refusal(invocation)
        if refusal is not None:
            if invocation.kind == "send" and invocation.is_signal:
                raise CallRefused(refusal)
            self.refused.append(refusal)
            return None
        if invocation.kind == "suborchestration" and not (invocation.instance_id or "").strip():
            # DTFx TaskOrchestrationContext.CreateSubOrchestrationInstanceCore: IsNullOrWhiteSpace
            invocation.instance_id = f"{self.execution_id}:{self.next_seq}"
        invocation.seq = self.next_seq
        self.next_seq += 1
        invocation.node = node
        if invocation.kind == "send" and invocation.request_id is None:
            invocation.request_id = str(
                uuid.uuid5(uuid.NAMESPACE_URL, f"{self.instance_id}/{self.execution_id}/{invocation.seq}")
            )
        self.invocations[invocation.seq] = invocation
        self.unrecorded[invocation.seq] = invocation
        if invocation.kind in _OPEN_KINDS:
            if invocation.canceled:
                if invocation.kind == "timer":
                    self.canceled_timers.append(invocation.seq)
            else:
                self.open_tasks += 1
        if invocation.kind == "send" and not invocation.is_signal and invocation.request_id:
            self.requests[invocation.request_id] = invocation
        return invocation

    def _refusal(self, invocation: Invocation) -> ShimError | None:
        """The extension's checks, in its order: ``ThrowIfFunctionDoesNotExist``, then a
        sub-orchestration's instance id (the parent's own or the parent's parent's, ordinal
        ignore-case, or one starting with '@')."""
        kind = invocation.kind
        if kind == "activity" and invocation.name != HTTP_ACTIVITY_NAME:
            return self._unknown("activity", invocation.name)
        if kind == "suborchestration":
            unknown = self._unknown("orchestrator", invocation.name)
            if unknown is not None:
                return unknown
            wanted = invocation.instance_id
            if wanted is not None and any(
                    own is not None and wanted.upper() == own.upper()
                    for own in (self.instance_id, self.parent_instance_id)):
                return ShimError("The instance ID of a sub-orchestration must be different than the instance ID "
                                 "of a parent orchestration.")
            if wanted is not None and wanted.startswith("@"):
                return ShimError("Orchestration instance ids must not start with @")
        if kind == "send" and invocation.instance_id:
            name, _ = parse_entity_scheduler_id(invocation.instance_id)
            return self._unknown("entity", name)
        return None

    def _unknown(self, kind: str, name: str) -> UnknownFunctionError | None:
        return None if self.is_known(kind, name) else UnknownFunctionError(kind, name)

    def wait_for_event(self, node: _WaitEvent) -> None:
        key = node.name.lower()
        queue = self.buffered.get(key)
        if queue:
            queue.popleft()
            node.finish(self)
            return
        self.waiters.setdefault(key, deque()).append(node)

    # -- the awaited chain of top-level actions (V2/V3 shim) --------------
    def advance(self) -> None:
        if self.fault is not None:  # the shim's loop has thrown: nothing more is invoked
            return
        while self.top_index < len(self.top):
            node = self.top[self.top_index]
            if not node.invoked:
                try:
                    node.invoke(self)
                except CallRefused as refused:
                    self.fault = refused.error
                    return
            if not node.done:
                return
            self.top_index += 1

    # -- history ------------------------------------------------------------
    def process(self, event: dict[str, Any]) -> None:
        # Plain-int constants: an IntEnum member lookup runs a Python descriptor (3.11), and
        # this runs for every stored event on every episode.
        etype = event["EventType"]
        if etype == _ORCHESTRATOR_STARTED:
            self._started_at(event["Timestamp"])
        elif etype == _EXECUTION_STARTED:
            self.started = True
            self.advance()
        elif etype in _SCHEDULED_KIND:
            self._match(event)
        elif etype in _COMPLETED_TYPES:
            self._complete(event["TaskScheduledId"], failed=False)
        elif etype in _FAILED_TYPES:
            self._complete(event["TaskScheduledId"], failed=True)
        elif etype == _TIMER_FIRED:
            self._complete(event["TimerId"], failed=False)
        elif etype == _EVENT_RAISED:
            if self.continue_as_new:
                self.carried.append(event)
            else:
                self._raise(event)

    def _match(self, event: dict[str, Any]) -> None:
        seq = event["EventId"]
        kind = _SCHEDULED_KIND[event["EventType"]]  # IntEnum keys hash and compare as ints
        invocation = self.invocations.get(seq)
        same = invocation is not None and invocation.kind == kind
        if same and kind in ("activity", "suborchestration"):
            same = str(event.get("Name", "")).lower() == invocation.name.lower()
        if same and kind == "send":
            same = str(event.get("InstanceId", "")).lower() == str(invocation.instance_id).lower()
        if not same:
            message = f"{NON_DETERMINISTIC}A previous execution of this orchestration scheduled {_describe_event(event)}, {_NDE_TAIL}"
            if invocation is not None:
                message += f" The current replay execution scheduled {invocation.describe()} instead."
            raise ShimError(message)
        assert invocation is not None
        invocation.recorded = True
        self.unrecorded.pop(seq, None)
        if kind == "send" and event.get("Input"):
            try:
                request_id = json.loads(event["Input"]).get("id")
            except (ValueError, AttributeError):
                request_id = None
            if request_id and request_id != invocation.request_id:
                self.requests.pop(invocation.request_id, None)
                invocation.request_id = request_id
                if not invocation.is_signal:
                    self.requests[request_id] = invocation
        if kind == "suborchestration":
            invocation.instance_id = event.get("InstanceId") or invocation.instance_id

    def _complete(self, seq: int, failed: bool) -> None:
        invocation = self.invocations.get(seq)
        if invocation is None or invocation.completed or invocation.canceled:
            return  # DTFx logs a duplicate/unknown completion and ignores it
        invocation.completed = True
        if invocation.kind in _OPEN_KINDS:
            self.open_tasks -= 1
        node = invocation.node
        assert node is not None
        node.on_result(self, failed)  # type: ignore[attr-defined]
        self.advance()

    def _raise(self, event: dict[str, Any]) -> None:
        name = event.get("Name") or ""
        invocation = self.requests.pop(name, None)
        if invocation is not None:
            failed = False
            try:
                failed = "exceptionType" in (json.loads(event.get("Input") or "{}") or {})
            except ValueError:
                pass
            invocation.completed = True
            invocation.node.finish(self, failed)  # type: ignore[union-attr]
            self.advance()
            return
        key = name.lower()
        waiters = self.waiters.get(key)
        if waiters:
            waiters.popleft().finish(self)
            self.advance()
        else:
            self.buffered.setdefault(key, deque()).append(event)



@dataclass
class ReplayState:
    """A finished walk, kept by the runtime so the next episode only walks what is new."""

    sim: _Replay
    actions: list[dict[str, Any]]
    events: int


def replay_actions(
    *,
    actions: list[dict[str, Any]],
    history: list[dict[str, Any]],
    instance_id: str,
    execution_id: str,
    is_known: Callable[[str, str], bool],
    parent_instance_id: str | None = None,
) -> ReplayResult:
    """Walk ``actions`` against ``history`` as the shim + DTFx would; raises ``ShimError``."""
    return replay_incremental(actions=actions, history=history, instance_id=instance_id,
                              execution_id=execution_id, is_known=is_known,
                              parent_instance_id=parent_instance_id)[0]


def replay_incremental(
    *,
    actions: list[dict[str, Any]],
    history: Sequence[dict[str, Any]],
    instance_id: str,
    execution_id: str,
    is_known: Callable[[str, str], bool],
    previous: ReplayState | None = None,
    new_events: Sequence[dict[str, Any]] = (),
    parent_instance_id: str | None = None,
) -> tuple[ReplayResult, ReplayState]:
    """``replay_actions`` that continues from ``previous`` when that gives the same answer.

    The events walked are ``history`` followed by ``new_events`` (passed apart so that no one
    has to copy the history to join them). ``previous`` must be the state after walking the first
    ``previous.events`` of those events. It is reused only if the SDK's action list still starts
    with the actions it walked (the SDK's list is cumulative; a cancelled timer or a code change
    alters the prefix) and its awaited chain was still waiting (so no new top-level action could
    have been invoked earlier in the history than now). Otherwise everything is walked again.
    ``previous`` is consumed: its state moves on in place. ``actions`` is kept by the returned
    state (not copied): the caller must not change it afterwards.

    Cost with a reusable ``previous``: the new events, the new actions, and one C-level equality
    test of the old actions against the SDK's (parsed) output.
    """
    sim: _Replay
    start = 0
    total = len(history) + len(new_events)
    walked = len(previous.actions) if previous is not None else 0
    if (previous is not None and previous.events <= total
            and previous.sim.top_index < walked
            and len(actions) >= walked and actions[:walked] == previous.actions):
        sim, start = previous.sim, previous.events
        sim.top.extend(_build(action) for action in actions[walked:])
    else:
        sim = _Replay(instance_id=instance_id, execution_id=execution_id,
                      now_text=(history[0] if history else new_events[0])["Timestamp"], is_known=is_known,
                      parent_instance_id=parent_instance_id)
        sim.top = [_build(action) for action in actions]
    if start < len(history):
        events: Any = chain(history[start:] if start else history, new_events)
    else:
        events = new_events[start - len(history):] if start > len(history) else new_events
    process = sim.process
    for event in events:
        process(event)
    result = ReplayResult(
        new=list(sim.unrecorded.values()),  # sequence order: numbers are taken in order
        chain_finished=sim.top_index >= len(sim.top),
        has_open_tasks=sim.open_tasks > 0,
        continue_as_new_input=sim.continue_as_new_input,
        continued_as_new=sim.continue_as_new,
        canceled_timers=list(sim.canceled_timers),
        next_seq=sim.next_seq,
        refused=sim.refused,
        fault=sim.fault,
        carried_over=sim.carried,
    )
    sim.refused = []
    return result, ReplayState(sim=sim, actions=actions, events=total)


__all__ = ["Invocation", "ReplayResult", "ReplayState", "ShimError", "flatten_actions", "replay_actions",
           "replay_incremental",
           "NON_DETERMINISTIC", "entity_scheduler_id"]
