"""The state store interface: everything durable about instances, messages, work and entities.

The scheduler never keeps state that is not also here: an HTTP 202 or a completed activity is
acknowledged only after the corresponding write returned. Implementations: ``MemoryStore``
(tests, quick runs) and the Azure Storage store (Azurite locally).
"""
from __future__ import annotations

import abc
import contextvars
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, AsyncContextManager, Iterable

Event = dict[str, Any]

# Runtime status names as the extension reports them (spec 9).
PENDING = "Pending"
RUNNING = "Running"
COMPLETED = "Completed"
CONTINUED_AS_NEW = "ContinuedAsNew"
FAILED = "Failed"
CANCELED = "Canceled"
TERMINATED = "Terminated"
SUSPENDED = "Suspended"

TERMINAL_STATUSES = frozenset({COMPLETED, FAILED, CANCELED, TERMINATED})
ACTIVE_STATUSES = frozenset({PENDING, RUNNING, CONTINUED_AS_NEW, SUSPENDED})
# A sub-orchestration's start replaces an instance of that id whatever its status: DTFx.AzureStorage
# de-duplicates top-level starts but not sub-orchestrations (OrchestrationSessionManager, 1.17.5),
# and the child's new execution id reads an empty history, so it starts afresh.
SUB_ORCHESTRATION_OVERWRITE = ACTIVE_STATUSES | TERMINAL_STATUSES

# True in the scheduler's tasks (episodes, activities, polling): storage requests for background
# work, which a store may queue behind client requests (a start, a status read, an event) so that
# a backlog of orchestration work does not make a client wait (see AzureStore's request gate).
background_work: contextvars.ContextVar[bool] = contextvars.ContextVar("devhost_background_work", default=False)


def background_context() -> contextvars.Context:
    """A copy of the current context with ``background_work`` set, for a task of the scheduler."""
    context = contextvars.copy_context()
    context.run(background_work.set, True)
    return context


class ConflictError(Exception):
    """An optimistic-concurrency check failed (another writer got there first)."""


@dataclass
class ParentRef:
    instance_id: str
    execution_id: str
    task_scheduled_id: int
    name: str


@dataclass
class InstanceRecord:
    instance_id: str
    name: str
    execution_id: str
    status: str
    input: str | None  # JSON text as the extension stores ExecutionStarted.Input
    created_time: datetime
    last_updated_time: datetime
    output: str | None = None
    custom_status: str | None = None
    parent: ParentRef | None = None
    generation: int = 0
    etag: str | None = None

    def copy(self, **changes: Any) -> InstanceRecord:
        """A shallow copy with ``changes`` (``copy.copy`` / ``dataclasses.replace`` at a quarter of
        their cost: the hot path copies a record several times an episode). Every field is a
        plain attribute, so copying ``__dict__`` is the whole copy."""
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__, **changes)
        return clone


@dataclass
class Message:
    """Something delivered to an orchestration or an entity.

    ``kind`` is ``event`` (``body`` is a history event to append in the next episode) or
    ``entity`` (``body`` is an entity request/operation). ``due`` delays delivery (timers).
    """

    id: str
    target: str
    kind: str
    body: dict[str, Any]
    created: datetime
    due: datetime | None = None
    execution_id: str | None = None
    dequeue_count: int = 0


@dataclass
class WorkItem:
    """An activity invocation waiting to run (at-least-once: it stays until completed)."""

    id: str
    instance_id: str
    execution_id: str
    seq: int
    name: str
    input: str | None
    created: datetime
    http_request: dict[str, Any] | None = None
    dequeue_count: int = 0


@dataclass
class EntityRecord:
    entity_id: str  # scheduler id "@name@key"
    name: str
    key: str
    exists: bool
    state: str | None
    last_modified: datetime
    etag: str | None = None


@dataclass
class EpisodeCommit:
    """Everything one orchestration episode changes, written atomically (or idempotently)."""

    instance: InstanceRecord
    new_events: list[Event]
    consumed: list[str]
    messages: list[Message] = field(default_factory=list)
    work: list[WorkItem] = field(default_factory=list)
    deleted_messages: list[str] = field(default_factory=list)  # cancelled timers
    new_execution: bool = False  # continue-as-new: history restarts with new_events
    child_instances: list[tuple[InstanceRecord, Message]] = field(default_factory=list)
    # Ids of work items the scheduler will run at once: a shared store may store them leased by
    # this process already (claim_work then needs no request of its own).
    lease_work: frozenset[str] = frozenset()


@dataclass
class InstanceQuery:
    created_from: datetime | None = None
    created_to: datetime | None = None
    statuses: frozenset[str] | None = None
    prefix: str | None = None
    top: int | None = None
    continuation: str | None = None


class _NoLease:
    """The lease of a store that only one process uses: always granted, nothing to release."""

    async def __aenter__(self) -> bool:
        return True

    async def __aexit__(self, *exc: Any) -> None:
        return None


_NO_LEASE = _NoLease()


class Store(abc.ABC):
    """Async persistence API; every method is one durable step."""

    # True when other processes may use the same storage: the scheduler then polls the store
    # for work they wrote (``devhost/poller.py``) and takes the leases below.
    shared: bool = False

    def lease(self, target: str) -> AsyncContextManager[bool]:
        """Hold ``target`` (instance or entity id) for one episode/batch; yields False when
        another process holds it. Single-process stores always grant it."""
        return _NO_LEASE

    async def claim_work(self, item: WorkItem) -> bool:
        """Lease an activity work item before running it; False if another runner has it."""
        return True

    def work_claimable(self, item: WorkItem) -> bool:
        """Cheap local check (no I/O) whether ``claim_work`` could succeed; used by the poller."""
        return True

    async def open(self) -> None:  # noqa: B027 - optional hook
        """Create tables/containers if needed."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release clients."""

    async def recover_abandoned(self) -> None:  # noqa: B027 - optional hook
        """Shared stores: finish what a dead process left half done (called by the poller)."""

    # -- instances -------------------------------------------------------------
    @abc.abstractmethod
    async def create_instance(self, record: InstanceRecord, start: Message,
                              overwrite_statuses: Iterable[str], *, new_id: bool = False) -> bool:
        """Create (or overwrite when its status is in ``overwrite_statuses``) an instance and
        its start message. Returns False if an instance exists in another status. ``new_id``:
        the caller generated the id (a random UUID), so no instance can have it yet; a store may
        skip looking (a create that finds one anyway still answers False)."""

    @abc.abstractmethod
    async def get_instance(self, instance_id: str) -> InstanceRecord | None: ...

    async def instance_for_episode(self, instance_id: str) -> InstanceRecord | None:
        """The scheduler's read at the start of an episode, under the target's lease. A store
        may answer from what it knows to be the stored state; the commit is ETag-checked anyway."""
        return await self.get_instance(instance_id)

    @abc.abstractmethod
    async def query_instances(self, query: InstanceQuery) -> tuple[list[InstanceRecord], str | None]: ...

    @abc.abstractmethod
    async def get_history(self, instance_id: str) -> list[Event]: ...

    @abc.abstractmethod
    async def commit_episode(self, commit: EpisodeCommit) -> None:
        """Append the episode (etag-checked against ``commit.instance.etag``); raises ConflictError."""

    @abc.abstractmethod
    async def purge_instance(self, instance_id: str) -> bool: ...

    # -- messages --------------------------------------------------------------
    @abc.abstractmethod
    async def send_messages(self, messages: list[Message]) -> None: ...

    @abc.abstractmethod
    async def pending_messages(self) -> list[Message]:
        """Every undelivered message (used at start-up to rebuild the scheduler's queues)."""

    @abc.abstractmethod
    async def messages_for(self, target: str) -> list[Message]: ...

    @abc.abstractmethod
    async def delete_messages(self, ids: list[str]) -> None: ...

    # -- activity work -----------------------------------------------------------
    @abc.abstractmethod
    async def pending_work(self) -> list[WorkItem]: ...

    @abc.abstractmethod
    async def complete_work(self, item: WorkItem, result: Message) -> None:
        """Delete the work item and send its result message in one step."""

    @abc.abstractmethod
    async def record_work_attempt(self, item: WorkItem) -> int:
        """Increment and persist the item's dequeue count; returns the new count."""

    # -- entities ----------------------------------------------------------------
    @abc.abstractmethod
    async def get_entity(self, entity_id: str) -> EntityRecord | None: ...

    @abc.abstractmethod
    async def list_entities(self, name: str | None = None) -> list[EntityRecord]: ...

    @abc.abstractmethod
    async def commit_entity_batch(self, record: EntityRecord, consumed: list[str],
                                  messages: list[Message]) -> None:
        """Store the entity's new state, delete the consumed requests, send the responses."""
