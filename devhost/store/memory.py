"""In-memory store: the reference implementation of ``Store`` for tests and quick runs."""
from __future__ import annotations

import copy
import itertools
from typing import Iterable

from .base import (
    SUB_ORCHESTRATION_OVERWRITE, ConflictError, EntityRecord, EpisodeCommit, Event, InstanceQuery, InstanceRecord,
    Message, Store, WorkItem,
)


class MemoryStore(Store):
    def __init__(self) -> None:
        self._instances: dict[str, InstanceRecord] = {}
        self._history: dict[str, list[Event]] = {}
        self._messages: dict[str, Message] = {}
        self._work: dict[str, WorkItem] = {}
        self._entities: dict[str, EntityRecord] = {}
        self._etags = itertools.count(1)

    def _stamp(self, record: InstanceRecord) -> InstanceRecord:
        record.etag = str(next(self._etags))
        return record.copy()

    async def create_instance(self, record: InstanceRecord, start: Message,
                              overwrite_statuses: Iterable[str], *, new_id: bool = False) -> bool:
        existing = self._instances.get(record.instance_id)
        if existing is not None and existing.status not in set(overwrite_statuses):
            return False
        if existing is not None:
            for message_id in [m.id for m in self._messages.values() if m.target == record.instance_id]:
                del self._messages[message_id]
        self._instances[record.instance_id] = self._stamp(record)
        self._history[record.instance_id] = []
        self._messages[start.id] = start
        return True

    async def get_instance(self, instance_id: str) -> InstanceRecord | None:
        record = self._instances.get(instance_id)
        return record.copy() if record else None

    async def query_instances(self, query: InstanceQuery) -> tuple[list[InstanceRecord], str | None]:
        rows = sorted(self._instances.values(), key=lambda r: (r.created_time, r.instance_id))
        if query.created_from:
            rows = [r for r in rows if r.created_time >= query.created_from]
        if query.created_to:
            rows = [r for r in rows if r.created_time <= query.created_to]
        if query.statuses:
            rows = [r for r in rows if r.status in query.statuses]
        if query.prefix:
            rows = [r for r in rows if r.instance_id.startswith(query.prefix)]
        start = int(query.continuation or 0)
        top = query.top or len(rows) or 1
        page = rows[start:start + top]
        token = str(start + top) if start + top < len(rows) else None
        return [r.copy() for r in page], token

    async def get_history(self, instance_id: str) -> list[Event]:
        return list(self._history.get(instance_id, ()))

    async def commit_episode(self, commit: EpisodeCommit) -> None:
        record = commit.instance
        current = self._instances.get(record.instance_id)
        if current is None or current.etag != record.etag:
            raise ConflictError(f"instance {record.instance_id} changed since it was read")
        if commit.new_execution:
            self._history[record.instance_id] = list(commit.new_events)
        else:
            self._history.setdefault(record.instance_id, []).extend(commit.new_events)
        self._instances[record.instance_id] = self._stamp(record)
        for message_id in itertools.chain(commit.consumed, commit.deleted_messages):
            self._messages.pop(message_id, None)
        for child, start in commit.child_instances:
            await self.create_instance(child, start, overwrite_statuses=SUB_ORCHESTRATION_OVERWRITE)
        for message in commit.messages:
            self._messages[message.id] = message
        for item in commit.work:
            self._work[item.id] = item

    async def purge_instance(self, instance_id: str) -> bool:
        if self._instances.pop(instance_id, None) is None:
            return False
        self._history.pop(instance_id, None)
        for message_id in [m.id for m in self._messages.values() if m.target == instance_id]:
            del self._messages[message_id]
        return True

    async def send_messages(self, messages: list[Message]) -> None:
        for message in messages:
            self._messages[message.id] = message

    async def pending_messages(self) -> list[Message]:
        return list(self._messages.values())

    async def messages_for(self, target: str) -> list[Message]:
        return [m for m in self._messages.values() if m.target == target]

    async def delete_messages(self, ids: list[str]) -> None:
        for message_id in ids:
            self._messages.pop(message_id, None)

    async def pending_work(self) -> list[WorkItem]:
        return list(self._work.values())

    async def complete_work(self, item: WorkItem, result: Message) -> None:
        self._work.pop(item.id, None)
        self._messages[result.id] = result

    async def record_work_attempt(self, item: WorkItem) -> int:
        stored = self._work.get(item.id)
        if stored is None:
            return item.dequeue_count
        stored.dequeue_count += 1
        item.dequeue_count = stored.dequeue_count
        return stored.dequeue_count

    async def get_entity(self, entity_id: str) -> EntityRecord | None:
        record = self._entities.get(entity_id)
        return copy.copy(record) if record else None

    async def list_entities(self, name: str | None = None) -> list[EntityRecord]:
        rows = [copy.copy(r) for r in self._entities.values()]
        if name is not None:
            rows = [r for r in rows if r.name == name.lower()]
        return sorted(rows, key=lambda r: r.entity_id)

    async def commit_entity_batch(self, record: EntityRecord, consumed: list[str],
                                  messages: list[Message]) -> None:
        self._entities[record.entity_id] = copy.copy(record)
        for message_id in consumed:
            self._messages.pop(message_id, None)
        for message in messages:
            self._messages[message.id] = message

