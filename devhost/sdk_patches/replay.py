"""Patches of the SDK's replay loop (``TaskOrchestrationExecutor``), run for every history event.

- ``process_event``: the SDK reads ``event.event_type`` (a property) twice for most events, looks
  ``HistoryEventType`` members up on every comparison and calls ``is_task_completion_event`` for
  a set lookup. The replacement makes the same comparisons in the same order on one read, against
  the same members, and does the same set lookup inline; an ``EventSent`` event (the one branch
  that does more) is handed to the original.
- ``execute_loop``: ``execute`` asks ``has_execution_completed`` after every event, three property
  calls deep (``orchestration_invocation_succeeded``, ``will_continue_as_new``). The replacement is
  ``execute`` compiled again from its own source (``rewrite.py``) with that test written out as the
  properties compute it: ``orchestrator_returned or context.will_continue_as_new or exception is not
  None``.
- ``new_events_start``: ``_find_new_events_start_index`` returns the index of the last
  ``OrchestratorStarted`` event by testing every event from the first; the replacement tests from
  the last one back (the history the SDK passes is its own list of ``HistoryEvent``; anything that
  is not a ``list`` goes to the original).

The recorded hash is of the whole ``TaskOrchestrationExecutor`` class source, which covers the
properties the written-out test stands for.
"""
from __future__ import annotations

from typing import Any

from .rewrite import rewrite

_COMPLETED_TEST = "if self.has_execution_completed:"
_COMPLETED_INLINE = ("if self.orchestrator_returned or self.context.will_continue_as_new"
                     " or self.exception is not None:")


def build_process_event(module: Any, original: Any) -> Any:
    kinds = module.HistoryEventType
    started, continued, execution_started = (kinds.ORCHESTRATOR_STARTED, kinds.CONTINUE_AS_NEW,
                                             kinds.EXECUTION_STARTED)
    sent = kinds.EVENT_SENT

    def process_event(self: Any, event: Any) -> None:
        event_type = event.event_type
        if event_type == started:
            timestamp = event.timestamp
            if timestamp > self.context.current_utc_datetime:
                self.context.current_utc_datetime = event.timestamp
        elif event_type == continued:
            self.initialize()
        elif event_type == execution_started:
            self.resume_user_code()
        elif event_type == sent:
            original(self, event)
        elif event_type in self.task_completion_events:
            (is_success, id_key) = self.event_to_SetTaskValuePayload[event_type]
            self.set_task_value(event, is_success, id_key)
            self.resume_user_code()

    return process_event


def build_execute_loop(module: Any, original: Any) -> Any:
    return rewrite(original, [(_COMPLETED_TEST, _COMPLETED_INLINE)], {})


def build_new_events_start(module: Any, original: Any) -> Any:
    started = module.HistoryEventType.ORCHESTRATOR_STARTED

    def _find_new_events_start_index(self: Any, history: Any) -> int:
        if type(history) is not list:
            return original(self, history)
        for index in range(len(history) - 1, -1, -1):
            if history[index].event_type == started:
                return index
        return -1

    return _find_new_events_start_index


def executor_sources(cls: Any) -> tuple[Any, ...]:
    return (cls,)
