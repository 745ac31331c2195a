"""The entity runner: one batch of an entity's pending operations per call, through the SDK's
entity handle, then the responses to the calling orchestrations.

A mixin of ``Runtime`` (``devhost/scheduler.py``): it uses the runtime's store, invoker and
options, and routes the responses through ``Runtime.route``.
"""
from __future__ import annotations

import json
import logging
import time
from typing import Any, Callable

from . import protocol as p
from .engine import compact, message_id
from .store.base import EntityRecord, Message

log = logging.getLogger("devhost")
MAX_ABANDON_DELAY_SECONDS = 600

class EntityRunner:
    """Uses the ``Runtime`` attributes it is mixed into: store, invoker, options, stats."""

    _entity_failures: dict[str, int]  # batches abandoned in a row, per entity
    retry_later: Callable[[str, float], None]

    async def _run_entity(self, entity_id: str) -> None:
        name, key = p.parse_entity_scheduler_id(entity_id)
        if self.options.disabled.holds(self.index, "entity", name):
            return  # its messages stay stored, unprocessed (devhost/disabled.py)
        messages = [m for m in await self.store.messages_for(entity_id) if m.kind == "entity"]
        if not messages:
            return
        messages.sort(key=lambda m: m.created)
        more = len(messages) > self.options.max_entity_operation_batch_size
        messages = messages[:self.options.max_entity_operation_batch_size]
        now = self.clock.now()
        record = await self.store.get_entity(entity_id) or EntityRecord(
            entity_id=entity_id, name=name, key=key, exists=False, state=None, last_modified=now)
        info = self.index.find("entity", name)
        batch = [{"name": m.body.get("op"), "input": m.body.get("input"), "isSignal": bool(m.body.get("signal"))}
                 for m in messages]
        results: list[dict[str, Any]]
        if info is None:
            results = [{"isError": True, "result": json.dumps(f"The entity '{name}' does not exist.")}
                       for _ in messages]
        else:
            context = json.dumps({"self": {"name": name, "key": key}, "exists": record.exists,
                                  "state": record.state, "batch": batch})
            t0 = time.perf_counter()
            try:
                output = json.loads(self.invoker.entity(info, context))
                results = output.get("results") or []
                if len(results) != len(messages):  # the extension requires one result per operation
                    raise ValueError(f"the entity returned {len(results)} results for {len(messages)} operations")
                # Both kept as the SDK returns them (TaskEntityShim: State.EntityExists and
                # State.EntityState = outOfProcResult's): a deleted entity's state is the text
                # "null", which a read then reports as existing (host.read_entity).
                record.exists = bool(output.get("entityExists"))
                record.state = output.get("entityState")
            except Exception as exc:
                self._log_invocation("entity", info.durable_name, entity_id, time.perf_counter() - t0)
                self._abandon_batch(entity_id, exc)
                return
            self._log_invocation("entity", info.durable_name, entity_id, time.perf_counter() - t0)
        record.last_modified = now
        responses: list[Message] = []
        for message, outcome in zip(messages, results, strict=True):
            body = message.body
            if body.get("signal") or not body.get("parent"):
                continue
            response: dict[str, Any] = {"result": outcome.get("result")}
            if outcome.get("isError"):
                response["exceptionType"] = "Error"
            responses.append(Message(
                id=message_id(message.id, "response"), target=body["parent"], kind="event",
                body=p.event_raised(now, body["id"], compact(response)), created=now,
                execution_id=body.get("parentExecution")))
        await self.store.commit_entity_batch(record, [m.id for m in messages], responses)
        self.stats.entity_batches += 1
        for sent in responses:
            self.route(sent)
        self._entity_failures.pop(entity_id, None)
        if more:  # (the extension's continue message to itself: the next batch at once)
            self._mark_ready(entity_id)
        self._notify(entity_id)

    def _abandon_batch(self, entity_id: str, exc: Exception) -> None:
        """The entity function failed outside its operations (or returned what the extension
        cannot read): nothing is committed and no caller hears back; the batch runs again later,
        as the extension's internal error aborts the session (TaskEntityShim: no write-back;
        DurableEntityContext: SessionAbortedException) and DTFx.AzureStorage abandons the messages
        with a visibility delay of 2^dequeueCount seconds, 10 minutes at most (TaskHubQueue)."""
        failures = self._entity_failures[entity_id] = self._entity_failures.get(entity_id, 0) + 1
        delay = min(2 ** failures, MAX_ABANDON_DELAY_SECONDS)
        log.error("devhost: entity %s failed outside its operations (%s: %s); its batch of operations runs again "
                  "in %s s", entity_id, type(exc).__name__, exc, delay)
        self.retry_later(entity_id, delay)
