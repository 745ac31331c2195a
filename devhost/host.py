"""The host facade: the one API that the HTTP server, the SDK's RPC and the tests all call.

Every method persists its change in the store before it returns (persist, then acknowledge)
and then tells the scheduler.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Collection

from . import payloads
from . import protocol as p
from .app_index import AppIndex
from .clock import Clock, VirtualClock
from .disabled import invalid_function_message
from .engine import compact, message_id, start_message
from .invoke import Invoker, reset_sdk_client_session
from .scheduler import Runtime, RuntimeOptions
from .status import status_payload
from .store.base import (
    ACTIVE_STATUSES, CONTINUED_AS_NEW, FAILED, PENDING, RUNNING, SUSPENDED, TERMINAL_STATUSES, EntityRecord,
    InstanceQuery, InstanceRecord, Message, Store,
)

MAX_INSTANCE_ID_LENGTH = 256
# DurableClient.IsInvalidCharacter: '/', '\\', '?', '#' or char.IsControl (U+0000-U+001F, U+007F-U+009F)
INVALID_ID_CHARACTER = re.compile(r"[/\\#?\x00-\x1f\x7f-\x9f]")


class HostError(Exception):
    """A request the host refuses; ``status`` is the HTTP status the extension would answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class WrongStateError(HostError):
    """The extension's ``InvalidOperationException`` for a suspend or resume in the wrong state
    (``DurableClient.SuspendAsync``/``ResumeAsync``); its HTTP API answers it with a 500."""

    def __init__(self, operation: str, instance_id: str, status: str, text: str | None = None) -> None:
        super().__init__(500, text or f"Cannot {operation} the orchestration instance {instance_id} because "
                                      f"instance is in the {status} state.")


# DurableClient.IsOrchestrationSuspendable
_SUSPENDABLE = frozenset({RUNNING, PENDING, CONTINUED_AS_NEW})


def validate_instance_id(instance_id: str) -> None:
    """``DurableClient.StartNewAsync``'s checks and messages (its ``ArgumentException(nameof(instanceId),
    text)`` has the two arguments swapped, so .NET's Message reads "instanceId (Parameter '...')")."""
    if instance_id.startswith("@"):
        raise HostError(400, "instanceId (Parameter 'Orchestration instance ids must not start with @.')")
    if INVALID_ID_CHARACTER.search(instance_id):
        raise HostError(400, "instanceId (Parameter 'Orchestration instance ids must not contain /, \\, #, ?, "
                             "or control characters.')")
    if len(instance_id) > MAX_INSTANCE_ID_LENGTH:
        raise HostError(400, f"Instance ID lengths must not exceed {MAX_INSTANCE_ID_LENGTH} characters.")


@dataclass
class HostSettings:
    task_hub: str = "TestHubName"
    connection_name: str = "Storage"
    # The extension's webhook URI (GetWebhookUri: WEBSITE_HOSTNAME, "localhost:<port>" under Core
    # Tools): the durableClient binding's URLs use it, not the request's Host header.
    webhook_origin: str | None = None


class DurableHost:
    def __init__(self, index: AppIndex, store: Store, clock: Clock, *,
                 settings: HostSettings | None = None, options: RuntimeOptions | None = None,
                 on_invocation: Any = None) -> None:
        self.index = index
        self.store = store
        self.clock = clock
        self.settings = settings or HostSettings()
        self.invoker = Invoker(str(index.app_dir))
        self.runtime = Runtime(index, store, clock, self.invoker, options, on_invocation)

    async def start(self) -> None:
        await reset_sdk_client_session()
        await self.store.open()
        await self.runtime.start()

    async def stop(self) -> None:
        await self.runtime.stop()
        await reset_sdk_client_session()
        self.invoker.close()
        await self.store.close()

    # ------------------------------------------------------------------ orchestrations
    async def start_new(self, name: str, instance_id: str | None = None,
                        input_text: str | None = None) -> str:
        """Start ``name``; ``input_text`` is the JSON text of the input token (spec 3.5)."""
        self._check_size("input", name, input_text)
        info = self.index.find("orchestrator", name)
        if info is None:  # a disabled one is still known: it fails when it runs (devhost/disabled.py)
            raise HostError(400, invalid_function_message(self.index, "orchestrator", name))
        new_id = not instance_id
        instance_id = instance_id or uuid.uuid4().hex
        validate_instance_id(instance_id)
        now = self.clock.now()
        record = InstanceRecord(instance_id=instance_id, name=info.durable_name, execution_id=uuid.uuid4().hex,
                                status=PENDING, input=input_text, created_time=now, last_updated_time=now)
        start = start_message(record, now)
        if not await self.store.create_instance(record, start, overwrite_statuses=TERMINAL_STATUSES, new_id=new_id):
            existing = await self.store.get_instance(instance_id)
            status = existing.status if existing else "Running"
            raise HostError(409, f"An Orchestration instance with the status {status} already exists.")
        self.runtime.created(record)
        self.runtime.route(start)
        return instance_id

    def _check_size(self, kind: str, name: str, text: str | None) -> None:
        try:
            self.runtime.options.payloads.check(kind, name, text)
        except payloads.PayloadTooLarge as exc:
            raise HostError(413, str(exc)) from exc

    async def get_instance(self, instance_id: str) -> InstanceRecord | None:
        return await self.store.get_instance(instance_id)

    async def status(self, instance_id: str, *, show_history: bool = False,
                     show_history_output: bool = False, show_input: bool = True) -> dict[str, Any] | None:
        record = await self.store.get_instance(instance_id)
        if record is None:
            return None
        history = None
        if show_history and record.status != PENDING:
            history = await self.store.get_history(instance_id)
        return status_payload(record, show_input=show_input, history=history,
                              show_history_output=show_history_output)

    async def query(self, query: InstanceQuery, show_input: bool = False) -> tuple[list[dict[str, Any]], str | None]:
        rows, token = await self.store.query_instances(query)
        return [status_payload(r, show_input=show_input) for r in rows], token

    async def _require(self, instance_id: str) -> InstanceRecord:
        record = await self.store.get_instance(instance_id)
        if record is None:
            raise HostError(404, f"No instance with ID '{instance_id}' found.")
        return record

    async def _send(self, record: InstanceRecord, body: dict[str, Any], kind: str,
                    execution_id: str | None = None) -> None:
        now = self.clock.now()
        message = Message(id=message_id(record.instance_id, kind, uuid.uuid4().hex), target=record.instance_id,
                          kind="event", body=body, created=now, execution_id=execution_id)
        await self.store.send_messages([message])
        self.runtime.route(message)

    async def raise_event(self, instance_id: str, name: str, data_text: str | None) -> None:
        """``data_text`` is the JSON text of the event's token (what EventRaised.Input holds)."""
        self._check_size("event data", name, data_text)
        record = await self._require(instance_id)
        if record.status in TERMINAL_STATUSES:
            raise HostError(410, f"The instance '{instance_id}' is in the {record.status} state and "
                                 "cannot receive events.")
        await self._send(record, p.event_raised(self.clock.now(), name, data_text), "event")

    async def terminate(self, instance_id: str, reason: str | None) -> None:
        record = await self._require(instance_id)
        if record.status in TERMINAL_STATUSES:
            raise HostError(410, f"The instance '{instance_id}' is already {record.status}.")
        await self._send(record, p.execution_terminated(self.clock.now(), reason), "terminate")

    async def suspend(self, instance_id: str, reason: str | None) -> None:
        record = await self._require(instance_id)
        if record.status in TERMINAL_STATUSES:
            raise HostError(410, f"The instance '{instance_id}' is already {record.status}.")
        if record.status not in _SUSPENDABLE:
            raise WrongStateError("suspend", instance_id, record.status)
        await self._send(record, p.execution_suspended(self.clock.now(), reason), "suspend")

    async def resume(self, instance_id: str, reason: str | None) -> None:
        record = await self._require(instance_id)
        if record.status in TERMINAL_STATUSES:
            raise HostError(410, f"The instance '{instance_id}' is already {record.status}.")
        if record.status != SUSPENDED:
            raise WrongStateError("resume", instance_id, record.status)
        await self._send(record, p.execution_resumed(self.clock.now(), reason), "resume")

    async def restart(self, instance_id: str, new_instance_id: bool = True) -> str:
        record = await self.store.get_instance(instance_id)
        if record is None:
            # (sic: DurableClient.RestartAsync's ArgumentException)
            raise HostError(400, f"An orchestrastion with the instanceId {instance_id} was not found.")
        target = None if new_instance_id else instance_id
        if target is not None and record.status in ACTIVE_STATUSES:
            raise HostError(409, f"An Orchestration instance with the status {record.status} already exists.")
        return await self.start_new(record.name, target, record.input)

    async def rewind(self, instance_id: str, reason: str | None) -> None:
        record = await self._require(instance_id)
        if record.status in TERMINAL_STATUSES and record.status != FAILED:
            raise HostError(410, f"The instance '{instance_id}' is already {record.status}.")
        if record.status != FAILED:  # DurableClient.RewindAsync's InvalidOperationException: a 500
            raise WrongStateError("rewind", instance_id, record.status,
                                  "The rewind operation is only supported on failed orchestration instances.")
        raise HostError(501, "Rewind is not supported by the local host (it is deprecated on Azure too).")

    async def purge(self, instance_id: str) -> int:
        deleted = await self.store.purge_instance(instance_id)
        self.runtime.evict(instance_id)
        return 1 if deleted else 0

    async def purge_by(self, created_from: datetime, created_to: datetime | None,
                       statuses: frozenset[str] | None) -> int:
        """DTFx.AzureStorage's purge by filter keeps only the terminal statuses of the filter, and a
        filter left empty is no filter: every instance in the time range goes, running or not
        (AzureTableTrackingStore.PurgeInstanceHistoryAsync; OrchestrationInstanceStatusQueryCondition)."""
        statuses = frozenset(statuses & TERMINAL_STATUSES) or None if statuses else None
        query = InstanceQuery(created_from=created_from, created_to=created_to or self.clock.now(),
                              statuses=statuses)
        count = 0
        while True:
            rows, token = await self.store.query_instances(query)
            for row in rows:
                count += await self.purge(row.instance_id)
            if token is None:
                return count

    async def wait(self, instance_id: str, timeout: float | None = 30.0,
                   statuses: frozenset[str] = TERMINAL_STATUSES) -> dict[str, Any]:
        """Wait until the instance reaches one of ``statuses``; skips virtual time meanwhile."""
        return await self.wait_until(instance_id, None, timeout, statuses=statuses)

    async def wait_until(self, instance_id: str, predicate: Callable[[dict[str, Any]], bool] | None,
                         timeout: float | None = 30.0, skip_time: bool = True,
                         statuses: Collection[str] | None = None) -> dict[str, Any]:
        """Wait until ``predicate(status payload)`` holds, re-checking after every change to the
        instance. With ``skip_time`` a virtual clock jumps to due timers while nothing can run.
        With ``statuses``, only a payload in one of them is looked at (and only a change to one
        of them wakes the wait); no ``predicate`` then takes the first such payload."""
        event = self.runtime.watch(instance_id, statuses)
        skipping = self.clock.skipping() if skip_time and isinstance(self.clock, VirtualClock) \
            else contextlib.nullcontext()
        try:
            with skipping:
                self.runtime._poke()
                async with asyncio.timeout(timeout):
                    while True:
                        event.clear()
                        record = await self.store.get_instance(instance_id)
                        self.runtime.checked(event)
                        if record is not None and (statuses is None or record.status in statuses):
                            payload = status_payload(record)
                            if predicate is None or predicate(payload):
                                return payload
                        await event.wait()
        finally:
            self.runtime.unwatch(instance_id, event)

    async def settle(self, timeout: float = 30.0) -> None:
        """Wait until the runtime has nothing runnable (no time skipping)."""
        async with asyncio.timeout(timeout):
            while not self.runtime.idle:
                await asyncio.sleep(0.001)

    # ------------------------------------------------------------------ entities
    async def signal_entity(self, name: str, key: str, operation: str, input_text: str | None) -> None:
        if INVALID_ID_CHARACTER.search(key):  # DurableClient.SignalEntityAsyncInternal (arguments swapped, sic)
            raise HostError(400, "entityKey (Parameter 'Entity keys must not contain /, \\, #, ?, or control "
                                 "characters.')")
        self._check_size("operation input", f"{name}.{operation}", input_text)
        if self.index.find("entity", name) is None:
            raise HostError(400, invalid_function_message(self.index, "entity", name))
        entity_id = p.entity_scheduler_id(name, key)
        now = self.clock.now()
        body = {"op": operation, "signal": True, "input": input_text, "id": str(uuid.uuid4()), "parent": None}
        message = Message(id=message_id(entity_id, "signal", body["id"]), target=entity_id, kind="entity",
                          body=body, created=now)
        await self.store.send_messages([message])
        self.runtime.route(message)

    async def read_entity(self, name: str, key: str) -> EntityRecord | None:
        """The entity if it has state. On Azure Storage a read asks DTFx, whose scheduler state
        exists whenever its state text is not null (DurableClient.ReadEntityStateAsync ->
        EntityTrackingStoreQueries.GetEntityAsync -> ClientEntityHelpers.GetEntityState): after
        the SDK's ``destruct_on_exit``, or an operation that set none, that text is "null", so
        the entity reads back as existing with a null state (azure-functions-durable-python#316)."""
        record = await self.store.get_entity(p.entity_scheduler_id(name, key))
        if record is None or record.state is None:
            return None
        return record

    async def list_entities(self, name: str | None = None) -> list[EntityRecord]:
        """Entities a read would find (``includeTransient`` false: those with state text)."""
        return [r for r in await self.store.list_entities(name) if r.state is not None]

    # ------------------------------------------------------------------ helpers for tests
    def advance(self, delta: timedelta) -> None:
        if not isinstance(self.clock, VirtualClock):
            raise RuntimeError("advance() needs a virtual clock")
        self.clock.advance(delta)
        self.runtime._poke()


def input_text_from_client_body(body: bytes) -> str | None:
    """HTTP start body -> ExecutionStarted.Input text (raises ValueError on invalid JSON)."""
    if not body or not body.strip():
        return None
    return compact(json.loads(body))
