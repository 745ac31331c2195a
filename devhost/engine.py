"""One orchestration episode: pending messages in, one atomic ``EpisodeCommit`` out.

Pure apart from the single call into the SDK's orchestrator handle: the scheduler hands in
the episode's timestamp, the stored history and the messages to deliver; the engine builds
the context JSON, runs the SDK, replays its actions the way the shim does (``shim.py``) and
returns everything that must be written: new history events, the instance's new status,
activity work, timers, sub-orchestrations, entity requests and the parent's notification.
"""
from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable

from . import history_text, payloads
from . import protocol as p
from .app_index import AppIndex
from .disabled import DisabledFunctions, invalid_function_message
from .failures import failure_reason_and_details, shim_error_text
from .history_text import HistoryText
from .shim import Invocation, ReplayState, ShimError, flatten_actions, replay_incremental
from .store.base import (
    COMPLETED, CONTINUED_AS_NEW, FAILED, PENDING, RUNNING, SUSPENDED, TERMINATED, EpisodeCommit,
    Event, InstanceRecord, Message, ParentRef, WorkItem,
)

OrchestratorCall = Callable[[Any, str], str]
log = logging.getLogger("devhost")

_COMPACT = (",", ":")


def compact(value: Any) -> str:
    return json.dumps(value, separators=_COMPACT)


@dataclass
class EpisodeResult:
    commit: EpisodeCommit
    history_json: HistoryText  # serialization of the stored history after this commit
    sdk_seconds: float = 0.0
    engine_seconds: float = 0.0  # the whole Engine.run, SDK call included
    events_replayed: int = 0
    called_sdk: bool = False
    replay_state: ReplayState | None = None  # for the next episode's incremental walk

    @property
    def finished(self) -> bool:
        return self.commit.instance.status in (COMPLETED, FAILED, TERMINATED)


def message_id(*parts: Any) -> str:
    return "|".join(str(part) for part in parts)


def start_message(record: InstanceRecord, now: datetime, parent: ParentRef | None = None) -> Message:
    """The ExecutionStarted message that begins an execution."""
    parent_json = None
    if parent is not None:
        parent_json = {
            "Name": parent.name,
            "Version": "",
            "OrchestrationInstance": {"InstanceId": parent.instance_id, "ExecutionId": parent.execution_id},
            "TaskScheduleId": parent.task_scheduled_id,
        }
    body = p.execution_started(
        now, name=record.name, instance_id=record.instance_id, execution_id=record.execution_id,
        input_text=record.input, parent=parent_json, generation=record.generation,
    )
    return Message(
        id=message_id(record.instance_id, record.execution_id, "start"),
        target=record.instance_id, kind="event", body=body, created=now,
        execution_id=record.execution_id,
    )


class Engine:
    def __init__(self, index: AppIndex, call_orchestrator: OrchestratorCall,
                 payload_policy: payloads.PayloadPolicy | None = None, disabled: DisabledFunctions | None = None):
        self.index = index
        self.call_orchestrator = call_orchestrator
        self.payloads = payload_policy or payloads.PayloadPolicy()
        self.disabled = disabled or DisabledFunctions()

    # ------------------------------------------------------------------
    def run(
        self,
        instance: InstanceRecord,
        history: list[Event],
        messages: list[Message],
        now: datetime,
        history_json: HistoryText | None = None,
        replay_state: ReplayState | None = None,
    ) -> EpisodeResult | None:
        """Deliver ``messages``; returns None when there is nothing to do.

        ``history_json`` and ``replay_state`` are caches of the previous episode (the serialized
        history and the shim's walk of it); both are optional and never change the outcome. With
        both, the episode's own work is O(new events) apart from the one join that builds the
        context JSON the SDK must be handed."""
        text = HistoryText.of(history) if history_json is None else history_json
        result = self._run(instance, history, messages, now, text, replay_state)
        if result is not None and result.replay_state is None and not result.commit.new_execution:
            result.replay_state = replay_state  # no walk this time: the old one stays valid
        return result

    def _run(self, instance: InstanceRecord, history: list[Event], messages: list[Message], now: datetime,
             history_json: HistoryText, replay_state: ReplayState | None) -> EpisodeResult | None:
        deliver, consumed, control = self._select(instance, messages)
        if not deliver and not control and not consumed:
            return None
        record = instance.copy(last_updated_time=now)
        started = p.orchestrator_started(now)

        terminate = next((m for m in control if m.body["EventType"] == p.EventType.ExecutionTerminated), None)
        if terminate is not None:
            # Every message of the batch goes into history in order (TaskOrchestrationDispatcher.
            # ReconcileMessagesWithState), then the termination ends the execution.
            arrived = sorted(deliver + control, key=lambda m: m.created)
            return self._terminate(record, history_json, started, terminate, arrived, consumed, now)

        new_events: list[Event] = [started]
        for message in control:  # suspend / resume; the reason is the output meanwhile
            new_events.append(message.body)  # (AzureTableTrackingStore writes it to the Output column)
            record.status = SUSPENDED if message.body["EventType"] == p.EventType.ExecutionSuspended else RUNNING
            record.output = message.body.get("Reason")
        if record.status in (PENDING, CONTINUED_AS_NEW):
            # (the provider runs the next execution in the same work item, and its ExecutionStarted
            # writes Running: AzureTableTrackingStore.UpdateStateAsync)
            record.status = RUNNING
        if not deliver and not control:  # only stale messages: drop them, write no episode
            return self._commit(record, history_json, [], consumed, now, closing=False)
        if not deliver:
            return self._commit(record, history_json, new_events, consumed, now)
        if record.status == SUSPENDED:  # held until resumed
            consumed = [m.id for m in control]
            return self._commit(record, history_json, new_events, consumed, now)

        new_events.extend(m.body for m in deliver)
        return self._execute(record, history, history_json, new_events, consumed, now, replay_state)

    def fail(self, instance: InstanceRecord, history: list[Event], messages: list[Message],
             now: datetime, reason: str) -> EpisodeResult:
        """Fail the instance without running it (poison policy); consumes its pending events."""
        record = instance.copy(last_updated_time=now)
        consumed = [m.id for m in messages if m.kind == "event"]
        return self._fail(record, HistoryText.of(history), [p.orchestrator_started(now)], consumed, now, reason)

    # ------------------------------------------------------------------
    def _select(self, instance: InstanceRecord, messages: list[Message]
                ) -> tuple[list[Message], list[str], list[Message]]:
        """Split messages into history events to deliver, ids consumed, and control messages."""
        deliver: list[Message] = []
        control: list[Message] = []
        consumed: list[str] = []
        control_types = (p.EventType.ExecutionTerminated, p.EventType.ExecutionSuspended,
                         p.EventType.ExecutionResumed)
        for message in sorted(messages, key=lambda m: m.created):
            if message.kind != "event":
                continue
            stale = message.execution_id is not None and message.execution_id != instance.execution_id
            if stale:
                consumed.append(message.id)  # e.g. a timer of an execution that continued as new
                continue
            if message.body["EventType"] in control_types:
                control.append(message)
            else:
                deliver.append(message)
            consumed.append(message.id)
        if instance.status == SUSPENDED and not any(
            m.body["EventType"] != p.EventType.ExecutionSuspended for m in control
        ):
            # Suspended: only resume/terminate get through; everything else waits.
            held = {m.id for m in deliver}
            consumed = [i for i in consumed if i not in held]
            deliver = []
        return deliver, consumed, control

    def _terminate(self, record: InstanceRecord, history_json: HistoryText, started: Event,
                   message: Message, arrived: list[Message], consumed: list[str], now: datetime) -> EpisodeResult:
        record.status = TERMINATED
        # ExecutionTerminatedEvent(-1, reason) (DTFx.AzureStorage 1.17.5 AzureStorageOrchestrationService
        # 1866-1871) -> TaskOrchestrationContext.HandleExecutionTerminatedEvent: CompleteOrchestration(
        # terminatedEvent.Input, ...): the raw text, which the status API parses if it is JSON.
        record.output = message.body.get("Input")
        events = [started, *(m.body for m in arrived),
                  p.execution_completed(now, -1, TERMINATED, record.output), p.orchestrator_completed(now)]
        result = self._commit(record, history_json, events, consumed, now, closing=False)
        result.commit.messages.extend(self._notify_parent(record, now, failed=True))
        return result

    def _commit(self, record: InstanceRecord, history_json: HistoryText, events: list[Event],
                consumed: list[str], now: datetime, closing: bool = True) -> EpisodeResult:
        if closing:
            events.append(p.orchestrator_completed(now))
        for event in events:
            event["IsPlayed"] = True
        commit = EpisodeCommit(instance=record, new_events=events, consumed=consumed)
        return EpisodeResult(commit=commit, history_json=history_json.extend(events))

    # ------------------------------------------------------------------
    def _execute(self, record: InstanceRecord, history: list[Event], history_json: HistoryText,
                 new_events: list[Event], consumed: list[str], now: datetime,
                 replay_state: ReplayState | None) -> EpisodeResult:
        info = self.index.find("orchestrator", record.name)
        if info is None or info in self.disabled:
            return self._fail(record, history_json, new_events, consumed, now,
                              invalid_function_message(self.index, "orchestrator", record.name))
        context = history_text.context_json(
            history_json, new_events, input_text=record.input, instance_id=record.instance_id,
            parent_instance_id=record.parent.instance_id if record.parent else None,
        )
        t0 = time.perf_counter()
        raised: Exception | None = None
        try:
            state = json.loads(self.call_orchestrator(info, context))
        except Exception as exc:  # user code raised: the SDK embeds its state (spec 4.3)
            embedded = p.split_out_of_proc_error(str(exc))
            if embedded is None:
                sdk_seconds = time.perf_counter() - t0
                result = self._fail(record, history_json, new_events, consumed, now,
                                    f"Orchestrator function '{record.name}' failed: {exc}")
                result.sdk_seconds, result.called_sdk = sdk_seconds, True
                return result
            state, raised = json.loads(embedded), exc
        sdk_seconds = time.perf_counter() - t0
        events_replayed = len(history) + len(new_events)  # what the SDK was handed

        custom = state.get("customStatus")
        # OutOfProcOrchestrationShim.ScheduleDurableTaskEvents (75-91) sets the custom status before
        # it replays a single action: one over the limit throws there, so no action is invoked and
        # a history that scheduled anything replays as non-deterministic.
        status_error = payloads.custom_status_error(custom)
        try:
            replay, walked = replay_incremental(
                actions=[] if status_error else flatten_actions(state.get("actions") or []),
                history=history,
                new_events=new_events,
                instance_id=record.instance_id,
                execution_id=record.execution_id,
                is_known=self.index.is_known,
                previous=None if status_error else replay_state,
                parent_instance_id=record.parent.instance_id if record.parent else None,
            )
        except (ShimError, ValueError) as exc:
            result = self._fail(record, history_json, new_events, consumed, now, str(exc))
            result.sdk_seconds, result.called_sdk = sdk_seconds, True
            return result
        for refused in replay.refused:
            log.warning("Orchestrator '%s' (instance '%s'): %s On Azure the Durable extension drops this call "
                        "without failing the orchestration: nothing is scheduled and the instance stays Running, "
                        "waiting for it (azure-functions-durable-python#132).",
                        record.name, record.instance_id, shim_error_text(self.index, refused))

        record.custom_status = compact(custom) if custom is not None and not status_error else None
        try:
            self._check_payloads(record, state, replay.new, replay.continue_as_new_input)
        except payloads.PayloadTooLarge as exc:
            result = self._fail(record, history_json, new_events, consumed, now, str(exc))
            result.sdk_seconds, result.called_sdk = sdk_seconds, True
            return result
        thrown = status_error or (shim_error_text(self.index, replay.fault) if replay.fault is not None else None)
        error = state.get("error")
        # DTFx TaskOrchestrationExecutor.ExecuteCore (2.17.1, 150-178): the orchestration completes,
        # fails or continues as new only once no activity, sub-orchestration or timer is open.
        ended = (replay.chain_finished or replay.fault is not None) and not replay.has_open_tasks
        # The episode that ends the execution still sends its signals (they open no task): DTFx's
        # dispatcher carries out every action the episode took along with the completion
        # (TaskOrchestrationDispatcher, 2.17.1).
        signals = [self._send(record, new_events, now, inv) for inv in replay.new if inv.kind == "send"] \
            if ended and (thrown or error or state.get("isDone")) else []
        if (thrown or error) and ended:
            reason, details = failure_reason_and_details(record.name, thrown, error, raised)
            result = self._fail(record, history_json, new_events, consumed, now, reason, details)
        elif state.get("isDone") and ended and replay.continued_as_new:
            result = self._continue_as_new(record, consumed, now, replay.continue_as_new_input, replay.carried_over)
        elif state.get("isDone") and ended:
            record.status = COMPLETED
            output = state.get("output")
            record.output = compact(output) if output is not None else None
            new_events.append(p.execution_completed(now, replay.next_seq, COMPLETED, record.output))
            result = self._commit(record, history_json, new_events, consumed, now)
            result.commit.messages.extend(self._notify_parent(record, now, failed=False))
        else:
            result = self._schedule(record, history_json, new_events, consumed, now, replay.new)
            result.commit.deleted_messages.extend(
                message_id(record.instance_id, record.execution_id, "timer", seq) for seq in replay.canceled_timers
            )
        result.commit.messages.extend(signals)
        result.sdk_seconds, result.called_sdk = sdk_seconds, True
        result.events_replayed = events_replayed
        result.replay_state = walked
        return result

    def _check_payloads(self, record: InstanceRecord, state: dict[str, Any], invocations: list[Invocation],
                        continue_input: str | None) -> None:
        check = self.payloads.check
        if state.get("isDone") and state.get("output") is not None:
            check("output", record.name, compact(state["output"]))
        check("continue-as-new input", record.name, continue_input)
        for inv in invocations:
            check(f"input of {inv.kind} call", inv.operation or inv.name, inv.input)

    def _fail(self, record: InstanceRecord, history_json: HistoryText, new_events: list[Event],
              consumed: list[str], now: datetime, message: str, details: str | None = None) -> EpisodeResult:
        record.status = FAILED
        record.output = message
        new_events.append(p.execution_completed(now, -1, FAILED, message))
        result = self._commit(record, history_json, new_events, consumed, now)
        result.commit.messages.extend(self._notify_parent(record, now, failed=True, details=details))
        return result

    def _continue_as_new(self, record: InstanceRecord, consumed: list[str], now: datetime,
                         input_text: str | None, carried: list[Event]) -> EpisodeResult:
        record.status = CONTINUED_AS_NEW
        record.execution_id = uuid.uuid4().hex
        record.generation += 1
        record.input = compact(input_text) if input_text is not None else None
        record.output = None
        start = start_message(record, now, record.parent)
        # Carried-over events follow ExecutionStarted in the new execution's history
        # (TaskOrchestrationDispatcher: newOrchestrationRuntimeState.AddEvent for each).
        carry = [Message(id=message_id(record.instance_id, record.execution_id, "carried", i),
                         target=record.instance_id, kind="event", body={**event, "IsPlayed": False},
                         created=now + timedelta(microseconds=i + 1), execution_id=record.execution_id)
                 for i, event in enumerate(carried)]
        commit = EpisodeCommit(instance=record, new_events=[], consumed=consumed, messages=[start, *carry],
                               new_execution=True)
        return EpisodeResult(commit=commit, history_json=HistoryText())

    def _schedule(self, record: InstanceRecord, history_json: HistoryText, new_events: list[Event],
                  consumed: list[str], now: datetime, invocations: list[Invocation]) -> EpisodeResult:
        messages: list[Message] = []
        work: list[WorkItem] = []
        children: list[tuple[InstanceRecord, Message]] = []
        iid, eid = record.instance_id, record.execution_id
        for inv in invocations:
            if inv.kind == "activity":
                new_events.append(p.task_scheduled(now, inv.seq, inv.name, inv.input))
                work.append(WorkItem(id=message_id(iid, eid, "activity", inv.seq), instance_id=iid,
                                     execution_id=eid, seq=inv.seq, name=inv.name, input=inv.input,
                                     created=now, http_request=inv.http_request))
            elif inv.kind == "timer":
                assert inv.fire_at is not None
                fire_at = p.format_timestamp(inv.fire_at)
                new_events.append(p.timer_created(now, inv.seq, fire_at))
                if not inv.canceled:
                    messages.append(Message(
                        id=message_id(iid, eid, "timer", inv.seq), target=iid, kind="event",
                        body=p.timer_fired(inv.fire_at, inv.seq, fire_at), created=now,
                        due=inv.fire_at, execution_id=eid))
            elif inv.kind == "suborchestration":
                assert inv.instance_id is not None
                new_events.append(p.sub_orchestration_created(now, inv.seq, inv.name, inv.instance_id, inv.input))
                info = self.index.find("orchestrator", inv.name)
                parent = ParentRef(iid, eid, inv.seq, record.name)
                child = InstanceRecord(
                    instance_id=inv.instance_id, name=info.durable_name if info else inv.name,
                    execution_id=uuid.uuid4().hex, status=PENDING,
                    input=compact(inv.input) if inv.input is not None else None,
                    created_time=now, last_updated_time=now, parent=parent)
                children.append((child, start_message(child, now, parent)))
            elif inv.kind == "send":
                messages.append(self._send(record, new_events, now, inv))
        result = self._commit(record, history_json, new_events, consumed, now)
        result.commit.messages.extend(messages)
        result.commit.work.extend(work)
        result.commit.child_instances.extend(children)
        return result

    @staticmethod
    def _send(record: InstanceRecord, new_events: list[Event], now: datetime, inv: Invocation) -> Message:
        """An entity request: its EventSent event and its message."""
        iid, eid = record.instance_id, record.execution_id
        request = {"op": inv.operation, "signal": inv.is_signal,
                   "input": compact(inv.input) if inv.input is not None else None,
                   "id": inv.request_id, "parent": iid, "parentExecution": eid}
        new_events.append(p.event_sent(now, inv.seq, inv.instance_id or "", "op", compact(request)))
        return Message(id=message_id(iid, eid, "op", inv.seq), target=inv.instance_id or "",
                       kind="entity", body=request, created=now)

    def _notify_parent(self, record: InstanceRecord, now: datetime, failed: bool,
                       details: str | None = None) -> list[Message]:
        parent = record.parent
        if parent is None:
            return []
        if failed:
            # TaskOrchestrationDispatcher (2.17.1, 951-957): Reason is the completion's Result
            # (a termination's reason as sent), Details its Details (IncludeDetails is on).
            body = p.sub_orchestration_failed(now, parent.task_scheduled_id, record.output, details)
        else:
            body = p.sub_orchestration_completed(now, parent.task_scheduled_id, record.output)
        return [Message(id=message_id(record.instance_id, record.execution_id, "parent"),
                        target=parent.instance_id, kind="event", body=body, created=now,
                        execution_id=parent.execution_id)]

