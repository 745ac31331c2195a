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
from datetime import datetime, timedelta
from typing import Any, Callable

from .protocol import ActionType, EventType, HTTP_ACTIVITY_NAME, entity_scheduler_id, parse_timestamp

NON_DETERMINISTIC = "Non-Deterministic workflow detected: "
_NDE_TAIL = (
    "but the current replay execution hasn't (yet?) scheduled this task. Was a change made to "
    "the orchestrator code after this instance had already started running?"
)


class ShimError(Exception):
    """Fails the orchestration: non-determinism or an invalid API call (spec 4.4)."""


class UnknownFunctionError(ShimError):
    """A call to a function the app does not define (``ThrowIfFunctionDoesNotExist``)."""

    def __init__(self, kind: str, name: str) -> None:
        super().__init__(f"The function '{name}' doesn't exist, is disabled, or is not an {kind} function.")
        self.kind = kind
        self.name = name


@dataclass
class Invocation:
    """One DTFx scheduling call: it owns one sequence number."""

    seq: int
    kind: str  # activity | timer | suborchestration | send
    name: str  # activity/orchestrator name, "" for timers, "op" for entity messages
    input: str | None = None
    fire_at: datetime | None = None
    canceled: bool = False
    instance_id: str | None = None  # sub-orchestration or entity target
    request_id: str | None = None  # entity call/signal request GUID
    is_signal: bool = False
    operation: str | None = None
    http_request: dict[str, Any] | None = None
    recorded: bool = False  # its scheduling event is already in history
    completed: bool = False
    node: "_Node | None" = field(default=None, repr=False)

    def describe(self) -> str:
        if self.kind == "activity":
            return f"an activity task with sequence ID {self.seq} and name '{self.name}'"
        if self.kind == "timer":
            return f"a timer task with sequence ID {self.seq}"
        if self.kind == "suborchestration":
            return f"a sub-orchestration task with sequence ID {self.seq} and name '{self.name}'"
        return f"a send event task with sequence ID {self.seq} and name '{self.name}' to '{self.instance_id}'"


@dataclass
class ReplayResult:
    new: list[Invocation]
    chain_finished: bool
    has_open_tasks: bool
    continue_as_new_input: str | None
    continued_as_new: bool
    canceled_timers: list[int]
    next_seq: int


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


class _Node:
    parent: "_Node | None" = None
    invoked = False
    done = False
    failed = False

    def invoke(self, sim: "_Replay") -> None:
        self.invoked = True

    def finish(self, sim: "_Replay", failed: bool = False) -> None:
        if self.done:
            return
        self.done = True
        self.failed = failed
        if self.parent is not None:
            self.parent.child_done(self, sim)

    def child_done(self, child: "_Node", sim: "_Replay") -> None:  # pragma: no cover - abstract
        raise NotImplementedError


class _Scheduled(_Node):
    """A node backed by one invocation (activity, timer, sub-orchestration, entity message)."""

    def __init__(self, make: Callable[["_Replay"], Invocation]):
        self.make = make
        self.invocation: Invocation | None = None

    def invoke(self, sim: "_Replay") -> None:
        super().invoke(sim)
        self.invocation = sim.schedule(self.make(sim), self)
        if self.invocation.kind == "timer" and self.invocation.canceled:
            self.finish(sim, failed=True)  # a cancelled Task faults with TaskCanceledException
        elif self.invocation.kind == "send" and self.invocation.is_signal:
            self.finish(sim)

    def on_result(self, sim: "_Replay", failed: bool) -> None:
        self.finish(sim, failed)


class _WaitEvent(_Node):
    def __init__(self, name: str):
        self.name = name

    def invoke(self, sim: "_Replay") -> None:
        super().invoke(sim)
        sim.wait_for_event(self)


class _Immediate(_Node):
    def invoke(self, sim: "_Replay") -> None:
        super().invoke(sim)
        self.finish(sim)


class _ContinueAsNew(_Immediate):
    def __init__(self, input_text: str | None):
        self.input_text = input_text

    def invoke(self, sim: "_Replay") -> None:
        sim.continue_as_new = True
        sim.continue_as_new_input = self.input_text
        super().invoke(sim)


class _Compound(_Node):
    def __init__(self, children: list[_Node], any_: bool):
        self.children = children
        self.any = any_
        self.done_children = 0  # each child reports once (finish() is idempotent)
        for child in children:
            child.parent = self

    def invoke(self, sim: "_Replay") -> None:
        super().invoke(sim)
        if not self.children:
            self.finish(sim)
            return
        # Every child is invoked even after a WhenAny has been decided by an earlier child:
        # .NET starts all tasks before Task.WhenAny/WhenAll looks at them.
        for child in self.children:
            if not child.invoked:
                child.invoke(sim)

    def child_done(self, child: _Node, sim: "_Replay") -> None:
        if self.any:
            self.finish(sim, failed=False)
            return
        # Count instead of re-scanning every child on every completion (O(n^2) for a fan-out).
        self.done_children += 1
        if self.done_children >= len(self.children) and all(c.invoked for c in self.children):
            self.finish(sim, failed=any(c.failed for c in self.children))


class _Retry(_Node):
    """DTFx ``RetryInterceptor``: attempt, then a delay timer after every failure."""

    def __init__(self, make_attempt: Callable[["_Replay", int], Invocation], options: dict[str, Any]):
        self.make_attempt = make_attempt
        self.first_ms = float(options.get("firstRetryIntervalInMilliseconds", 0))
        self.max_attempts = int(options.get("maxNumberOfAttempts", 1))
        self.backoff = float(options.get("backoffCoefficient", 1.0))
        self.max_interval_ms = options.get("maxRetryIntervalInMilliseconds")
        self.timeout_ms = options.get("retryTimeoutInMilliseconds")
        self.attempt = 0
        self.first_attempt_time: datetime | None = None
        self.waiting_on_timer = False

    def invoke(self, sim: "_Replay") -> None:
        super().invoke(sim)
        self.first_attempt_time = sim.now
        self._start_attempt(sim)

    def _start_attempt(self, sim: "_Replay") -> None:
        sim.schedule(self.make_attempt(sim, self.attempt), self)

    def _next_delay(self, sim: "_Replay") -> timedelta:
        if self.timeout_ms is not None and self.first_attempt_time is not None:
            if sim.now >= self.first_attempt_time + timedelta(milliseconds=float(self.timeout_ms)):
                return timedelta(0)
        delay_ms = self.first_ms * self.backoff ** self.attempt
        if self.max_interval_ms is not None and delay_ms >= float(self.max_interval_ms):
            delay_ms = float(self.max_interval_ms)
        return timedelta(milliseconds=delay_ms)

    def on_result(self, sim: "_Replay", failed: bool) -> None:
        if self.waiting_on_timer:  # the retry delay timer fired
            self.waiting_on_timer = False
            self.attempt += 1
            if self.attempt >= self.max_attempts:
                self.finish(sim, failed=True)
            else:
                self._start_attempt(sim)
            return
        if not failed:
            self.finish(sim)
            return
        delay = self._next_delay(sim)
        if delay <= timedelta(0):
            self.finish(sim, failed=True)
            return
        self.waiting_on_timer = True
        sim.schedule(Invocation(seq=-1, kind="timer", name="", fire_at=sim.now + delay), self)


class _Replay:
    def __init__(
        self,
        *,
        instance_id: str,
        execution_id: str,
        now_text: str,
        is_known: Callable[[str, str], bool],
    ):
        self.instance_id = instance_id
        self.execution_id = execution_id
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
    def schedule(self, invocation: Invocation, node: _Node) -> Invocation:
        if invocation.kind == "activity" and invocation.name != HTTP_ACTIVITY_NAME:
            self._require("activity", invocation.name)
        elif invocation.kind == "suborchestration":
            self._require("orchestrator", invocation.name)
            if invocation.instance_id is None:
                invocation.instance_id = f"{self.execution_id}:{self.next_seq}"
            if invocation.instance_id == self.instance_id:
                raise ShimError("A sub-orchestration must not use the instance ID of its parent.")
        elif invocation.kind == "send" and invocation.instance_id:
            from .protocol import parse_entity_scheduler_id

            name, _ = parse_entity_scheduler_id(invocation.instance_id)
            self._require("entity", name)
        invocation.seq = self.next_seq
        self.next_seq += 1
        invocation.node = node
        if invocation.kind == "send" and invocation.request_id is None:
            invocation.request_id = str(
                uuid.uuid5(uuid.NAMESPACE_URL, f"{self.instance_id}/{self.execution_id}/{invocation.seq}")
            )
        self.invocations[invocation.seq] = invocation
        if invocation.kind == "send" and not invocation.is_signal and invocation.request_id:
            self.requests[invocation.request_id] = invocation
        return invocation

    def _require(self, kind: str, name: str) -> None:
        if not self.is_known(kind, name):
            raise UnknownFunctionError(kind, name)

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
        while self.top_index < len(self.top):
            node = self.top[self.top_index]
            if not node.invoked:
                node.invoke(self)
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


# ---------------------------------------------------------------------------
# Action list -> node tree
# ---------------------------------------------------------------------------


def _build(action: dict[str, Any]) -> _Node:
    kind = action.get("actionType")
    if kind == ActionType.CallActivity:
        name, input_text = action["functionName"], action.get("input")
        return _Scheduled(lambda sim: Invocation(-1, "activity", name, input=input_text))
    if kind in (ActionType.CallActivityWithRetry, ActionType.CallSubOrchestratorWithRetry):
        options = action.get("retryOptions") or {}
        if kind == ActionType.CallActivityWithRetry:
            return _Retry(lambda sim, n: Invocation(-1, "activity", action["functionName"], input=action.get("input")), options)
        return _Retry(
            lambda sim, n: Invocation(-1, "suborchestration", action["functionName"],
                                      input=action.get("input"), instance_id=action.get("instanceId")),
            options,
        )
    if kind == ActionType.CallSubOrchestrator:
        return _Scheduled(lambda sim: Invocation(-1, "suborchestration", action["functionName"],
                                                 input=action.get("input"), instance_id=action.get("instanceId")))
    if kind == ActionType.ContinueAsNew:
        return _ContinueAsNew(action.get("input"))
    if kind == ActionType.CreateTimer:
        fire_at = parse_timestamp(action["fireAt"])
        canceled = bool(action.get("isCanceled"))
        return _Scheduled(lambda sim: Invocation(-1, "timer", "", fire_at=fire_at, canceled=canceled))
    if kind == ActionType.WaitForExternalEvent:
        return _WaitEvent(action["externalEventName"])
    if kind in (ActionType.CallEntity, ActionType.SignalEntity):
        signal = kind == ActionType.SignalEntity
        return _Scheduled(lambda sim: Invocation(
            -1, "send", "op", input=action.get("input"), instance_id=action["instanceId"],
            is_signal=signal, operation=action.get("operation")))
    if kind == ActionType.CallHttp:
        request = action.get("httpRequest") or {}
        return _Scheduled(lambda sim: Invocation(-1, "activity", HTTP_ACTIVITY_NAME,
                                                 input=json.dumps(request), http_request=request))
    if kind in (ActionType.WhenAll, ActionType.WhenAny):
        children = [_build(child) for child in action.get("compoundActions") or []]
        return _Compound(children, any_=kind == ActionType.WhenAny)
    raise ShimError(f"Unsupported action type {kind!r} in orchestrator output.")


def flatten_actions(actions: list[Any]) -> list[dict[str, Any]]:
    """Top-level actions of a V2/V3 payload (``[[a, b]]``) or a V1 payload (``[[a], [b, c]]``).

    A V1 inner list of several actions is a ``task_all``/``task_any`` group; the V1 shim invokes
    the whole group and then awaits ``Task.WhenAny`` over it, so it becomes a WhenAny node.
    """
    if not actions:
        return []
    if len(actions) == 1:
        return list(actions[0])
    flat: list[dict[str, Any]] = []
    for group in actions:
        if len(group) == 1:
            flat.append(group[0])
        else:
            flat.append({"actionType": int(ActionType.WhenAny), "compoundActions": list(group)})
    return flat


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
) -> ReplayResult:
    """Walk ``actions`` against ``history`` as the shim + DTFx would; raises ``ShimError``."""
    return replay_incremental(actions=actions, history=history, instance_id=instance_id,
                              execution_id=execution_id, is_known=is_known)[0]


def replay_incremental(
    *,
    actions: list[dict[str, Any]],
    history: list[dict[str, Any]],
    instance_id: str,
    execution_id: str,
    is_known: Callable[[str, str], bool],
    previous: ReplayState | None = None,
) -> tuple[ReplayResult, ReplayState]:
    """``replay_actions`` that continues from ``previous`` when that gives the same answer.

    ``previous`` must be the state after walking the first ``previous.events`` events of this
    same ``history``. It is reused only if the SDK's action list still starts with the actions it
    walked (the SDK's list is cumulative; a cancelled timer or a code change alters the prefix)
    and its awaited chain was still waiting (so no new top-level action could have been invoked
    earlier in the history than now). Otherwise the whole history is walked again. ``previous``
    is consumed: its state moves on in place.
    """
    sim: _Replay
    start = 0
    if (previous is not None and previous.events <= len(history)
            and previous.sim.top_index < len(previous.actions)
            and actions[:len(previous.actions)] == previous.actions):
        sim, start = previous.sim, previous.events
        sim.top.extend(_build(action) for action in actions[len(previous.actions):])
    else:
        sim = _Replay(instance_id=instance_id, execution_id=execution_id,
                      now_text=history[0]["Timestamp"], is_known=is_known)
        sim.top = [_build(action) for action in actions]
    for index in range(start, len(history)):
        sim.process(history[index])
    invocations = sim.invocations.values()
    open_tasks = any(
        not inv.completed and not inv.canceled and inv.kind in ("activity", "timer", "suborchestration")
        for inv in invocations
    )
    canceled = [inv.seq for inv in invocations if inv.kind == "timer" and inv.canceled]
    new = sorted((inv for inv in invocations if not inv.recorded), key=lambda inv: inv.seq)
    result = ReplayResult(
        new=new,
        chain_finished=sim.top_index >= len(sim.top),
        has_open_tasks=open_tasks,
        continue_as_new_input=sim.continue_as_new_input,
        continued_as_new=sim.continue_as_new,
        canceled_timers=canceled,
        next_seq=sim.next_seq,
    )
    return result, ReplayState(sim=sim, actions=list(actions), events=len(history))


__all__ = ["Invocation", "ReplayResult", "ReplayState", "ShimError", "flatten_actions", "replay_actions",
           "replay_incremental",
           "NON_DETERMINISTIC", "entity_scheduler_id"]
