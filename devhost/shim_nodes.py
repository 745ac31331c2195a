"""The node tree the shim walks: one node per action of the SDK's action list.

The extension's ``OutOfProcOrchestrationShim`` turns each action into a call on DTFx's
``OrchestrationContext`` (or a ``Task.WhenAll``/``WhenAny`` over its children); these nodes do the
same against the walk in ``shim.py`` (the ``sim``): each scheduling node takes the next sequence
number when it is invoked and finishes when its result is in history. ``_build`` makes the tree
of one action, ``flatten_actions`` the top-level list of a V1/V2/V3 payload.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Callable

from .protocol import HTTP_ACTIVITY_NAME, ActionType, parse_timestamp

if TYPE_CHECKING:
    from .shim import _Replay

class ShimError(Exception):
    """Fails the orchestration: non-determinism or an invalid API call (spec 4.4)."""


class UnknownFunctionError(ShimError):
    """A call to a function the app does not define (``ThrowIfFunctionDoesNotExist``)."""

    def __init__(self, kind: str, name: str) -> None:
        super().__init__(f"The function '{name}' doesn't exist, is disabled, or is not an {kind} function.")
        self.kind = kind
        self.name = name


class CallRefused(Exception):
    """A call the extension refuses synchronously (``SignalEntity`` to an unknown entity): the
    exception leaves the shim's replay loop, so no later action is invoked, and faults the
    orchestrator's task."""

    def __init__(self, error: ShimError) -> None:
        super().__init__(str(error))
        self.error = error


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
        if self.invocation is None:  # refused by the extension: the exception is the task's
            self.finish(sim, failed=True)
        elif self.invocation.kind == "timer" and self.invocation.canceled:
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
    """DTFx ``RetryInterceptor``: attempt, then a timer after every failure (a delay before each
    next attempt, a timer due at once after the last)."""

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
        if sim.schedule(self.make_attempt(sim, self.attempt), self) is None:
            self.finish(sim, failed=True)  # refused before the RetryInterceptor ever ran

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
        if self.attempt + 1 >= self.max_attempts:
            # DTFx 2.17.1 RetryInterceptor.Invoke (isLastRetry): "Dummy timer for back-compat",
            # due at CurrentUtcDateTime, before the last failure is rethrown.
            fire_at = sim.now
        else:
            delay = self._next_delay(sim)
            if delay <= timedelta(0):
                self.finish(sim, failed=True)
                return
            fire_at = sim.now + delay
        self.waiting_on_timer = True
        sim.schedule(Invocation(seq=-1, kind="timer", name="", fire_at=fire_at), self)


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
        first = actions[0]
        return first if type(first) is list else list(first)  # no copy: read only
    flat: list[dict[str, Any]] = []
    for group in actions:
        if len(group) == 1:
            flat.append(group[0])
        else:
            flat.append({"actionType": int(ActionType.WhenAny), "compoundActions": list(group)})
    return flat
