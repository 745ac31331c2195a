"""Fan-in batching: which routed messages may wait for more, decided from the replay model.

An orchestration's episode delivers every message pending for it. While a fan-out's
activities are still running, an episode that delivers some of their successful completions
cannot move the orchestrator: the SDK resumes user code only when the task it awaits (the
last top-level action, ``TaskOrchestrationExecutor.current_task``) finishes, and a ``task_all``
finishes on its last success or its first failure. Such an episode would only append events.
So the scheduler holds it, without any clock: the messages are durable in the store and the
next episode delivers them with the rest, exactly as the platform batches whatever is queued.

``FanIn`` follows the messages routed to one instance since its last episode was dispatched,
against the shim's walk of the history so far (``ReplayState``, kept by the runtime). It
answers "may hold" only if every one of them is the success of an activity or
sub-orchestration whose node is a child of a ``task_all`` that stays unfinished with all of
them delivered. Anything else (a failure, a ``task_any`` child, a top-level task, a timer, an
event or entity response, a control message, a stale or unknown completion, no walk to judge
by) means run now. The runtime asks only while this host has activities of the instance in
flight (each of which ends in a message that is routed), so a wrong answer can cost latency,
never progress.
"""
from __future__ import annotations

from typing import Any

from .protocol import EventType
from .shim import ReplayState
from .shim_nodes import _Compound
from .store.base import Message

# Success completions and the invocation kind each one completes.
_SUCCESS = {int(EventType.TaskCompleted): "activity",
            int(EventType.SubOrchestrationInstanceCompleted): "suborchestration"}


def may_hold(message: Message) -> bool:
    """Whether ``message`` is of a kind a fan-in could wait with (checked in full by ``FanIn``)."""
    return message.kind == "event" and message.body.get("EventType") in _SUCCESS


class FanIn:
    """The messages routed to one instance since its last dispatch, judged incrementally."""

    __slots__ = ("unseen", "state", "counted", "progress")

    def __init__(self) -> None:
        self.unseen: list[Message] = []
        self.state: ReplayState | None = None  # the walk the counts below were made against
        self.counted: dict[int, tuple[_Compound, set[Any]]] = {}  # id(task_all) -> its newly done children
        self.progress = False

    def add(self, message: Message) -> None:
        if self.progress:
            return
        if may_hold(message):
            self.unseen.append(message)
        else:
            self.progress = True
            self.unseen.clear()

    def could_progress(self, state: ReplayState | None) -> bool:
        """True if delivering the messages could move the orchestration (or it cannot tell)."""
        if self.progress:
            return True
        if state is None or (self.state is not None and self.state is not state):
            self.progress = True  # no walk, or a different one than the counts were made against
            return True
        self.state = state
        sim = state.sim
        for message in self.unseen:
            if not self._holds(sim, message):
                self.progress = True
                break
        self.unseen.clear()
        return self.progress

    def _holds(self, sim: Any, message: Message) -> bool:
        body = message.body
        if message.execution_id is not None and message.execution_id != sim.execution_id:
            return False
        invocation = sim.invocations.get(body.get("TaskScheduledId"))
        if invocation is None or invocation.kind != _SUCCESS[body["EventType"]]:
            return False
        if invocation.completed:
            return True  # delivered already (or a duplicate, which DTFx ignores)
        node = invocation.node
        parent = node.parent if node is not None else None
        if not isinstance(parent, _Compound) or parent.any or parent.done:
            return False
        _, done = self.counted.setdefault(id(parent), (parent, set()))
        done.add(node)
        return parent.done_children + len(done) < len(parent.children)
