"""Builders for store records (what the engine and host would write)."""
from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta, timezone

from devhost import protocol as p
from devhost.engine import message_id, start_message
from devhost.store.base import PENDING, RUNNING, EpisodeCommit, InstanceRecord, Message, WorkItem

T0 = datetime(2026, 5, 1, 10, 0, 0, 123456, tzinfo=timezone.utc)


def instance(instance_id: str = "i1", *, name: str = "chain", status: str = PENDING, input_text: str | None = '"x"',
             created: datetime = T0) -> InstanceRecord:
    return InstanceRecord(instance_id=instance_id, name=name, execution_id=uuid.uuid4().hex, status=status,
                          input=input_text, created_time=created, last_updated_time=created)


async def create(store, instance_id: str = "i1", **kwargs) -> tuple[InstanceRecord, Message]:
    record = instance(instance_id, **kwargs)
    start = start_message(record, record.created_time)
    assert await store.create_instance(record, start, overwrite_statuses=())
    return record, start


def event_message(record: InstanceRecord, body: dict, tag: str, when: datetime = T0,
                  due: datetime | None = None) -> Message:
    return Message(id=message_id(record.instance_id, tag), target=record.instance_id, kind="event", body=body,
                   created=when, due=due, execution_id=record.execution_id)


def work(record: InstanceRecord, seq: int, input_text: str | None = "1") -> WorkItem:
    return WorkItem(id=message_id(record.instance_id, record.execution_id, "activity", seq),
                    instance_id=record.instance_id, execution_id=record.execution_id, seq=seq, name="double",
                    input=input_text, created=T0)


async def first_episode(store, instance_id: str = "i1", activities: int = 1, input_size: int = 0):
    """Create an instance and commit its first episode (ExecutionStarted + TaskScheduled xN)."""
    record, start = await create(store, instance_id)
    current = await store.get_instance(instance_id)
    now = T0 + timedelta(seconds=1)
    current.status = RUNNING
    payload = '"' + "y" * input_size + '"' if input_size else "1"
    events = [p.orchestrator_started(now), start.body]
    events += [p.task_scheduled(now, seq, "double", payload) for seq in range(activities)]
    events.append(p.orchestrator_completed(now))
    items = [work(current, seq, payload) for seq in range(activities)]
    commit = EpisodeCommit(instance=current, new_events=events, consumed=[start.id], work=items)
    await store.commit_episode(commit)
    return current, events, items


async def stall_then_commit_elsewhere(stalled, other, instance_id: str, new_events: list, consumed: list[str],
                                      status: str = RUNNING):
    """``stalled`` stops renewing its leases (it still believes it holds them) until they run
    out; ``other`` then takes ``instance_id`` over and commits an episode. Returns its record."""
    stalled._renewer.cancel()
    await asyncio.sleep(stalled.lease_seconds + 0.2)
    async with other.lease(instance_id) as held:
        assert held
        moved = await other.instance_for_episode(instance_id)
        moved.status = status
        await other.commit_episode(EpisodeCommit(instance=moved, new_events=new_events, consumed=consumed))
    return moved


async def expire_lease(store, target: str, until: float = 0.0) -> None:
    """What the lease row of a dead holder looks like once its time has run out (or, with
    ``until`` in the future, before: the short test leases may run out under load)."""
    row = await store._t["leases"].get_entity(target, "")
    row["Until"] = until
    await store._t["leases"].upsert_entity(row)
