"""The Store contract: the same tests against MemoryStore and AzureStore (``store`` fixture)."""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest

from devhost import protocol as p
from devhost.engine import message_id, start_message
from devhost.store.base import (
    COMPLETED, FAILED, PENDING, RUNNING, TERMINAL_STATUSES, ConflictError, EntityRecord, EpisodeCommit,
    InstanceQuery, Message, ParentRef,
)

from .records import T0, create, event_message, first_episode, instance, work

KIB = 1024


def same_record(a, b) -> None:
    fields = ("instance_id", "name", "execution_id", "status", "input", "output", "custom_status",
              "created_time", "last_updated_time", "parent", "generation")
    assert {f: getattr(a, f) for f in fields} == {f: getattr(b, f) for f in fields}


# ----------------------------------------------------------------------------- instances
async def test_create_and_get_instance_round_trip(store):
    record = instance("order-1", input_text='{"a":1}')
    record.parent = ParentRef("parent-1", "e0", 3, "outer")
    record.generation = 2
    start = start_message(record, T0)
    assert await store.create_instance(record, start, overwrite_statuses=TERMINAL_STATUSES)
    got = await store.get_instance("order-1")
    same_record(got, record)
    assert got.etag
    assert await store.get_instance("missing") is None
    assert [m.id for m in await store.messages_for("order-1")] == [start.id]
    assert await store.get_history("order-1") == []


async def test_create_refuses_unless_status_is_overwritable(store):
    first, _ = await create(store, "dup")
    again = instance("dup")
    assert not await store.create_instance(again, start_message(again, T0), overwrite_statuses=TERMINAL_STATUSES)
    assert (await store.get_instance("dup")).execution_id == first.execution_id
    # finish it, then the same id can start again: old history and messages go away
    current, _, _ = await first_episode(store, "dup2")
    current.status = COMPLETED
    current.output = '"done"'
    await store.send_messages([event_message(current, p.event_raised(T0, "late", "1"), "late")])
    await store.commit_episode(EpisodeCommit(instance=current, new_events=[p.orchestrator_started(T0)], consumed=[]))
    fresh = instance("dup2")
    fresh_start = start_message(fresh, T0)
    assert await store.create_instance(fresh, fresh_start, overwrite_statuses=TERMINAL_STATUSES)
    got = await store.get_instance("dup2")
    assert (got.status, got.execution_id, got.output) == (PENDING, fresh.execution_id, None)
    assert await store.get_history("dup2") == []
    assert [m.id for m in await store.messages_for("dup2")] == [fresh_start.id]


async def test_commit_episode_appends_history_and_moves_state(store):
    current, events, items = await first_episode(store, "c1", activities=2)
    got = await store.get_instance("c1")
    assert got.status == RUNNING and got.etag == current.etag
    assert await store.get_history("c1") == events
    assert await store.messages_for("c1") == []  # the start message was consumed
    assert sorted(w.id for w in await store.pending_work()) == sorted(w.id for w in items)
    # second episode: both completions delivered at once
    results = [event_message(got, p.task_completed(T0, seq, str(seq * 2)), f"r{seq}") for seq in (0, 1)]
    await store.send_messages(results)
    got.status, got.output, got.custom_status = COMPLETED, "2", '"custom"'
    more = [p.orchestrator_started(T0), *(m.body for m in results),
            p.execution_completed(T0, 2, COMPLETED, "2"), p.orchestrator_completed(T0)]
    before = got.etag
    await store.commit_episode(EpisodeCommit(instance=got, new_events=more, consumed=[m.id for m in results]))
    assert got.etag and got.etag != before
    final = await store.get_instance("c1")
    assert (final.status, final.output, final.custom_status) == (COMPLETED, "2", '"custom"')
    assert await store.get_history("c1") == events + more
    assert await store.messages_for("c1") == []


async def test_commit_with_stale_etag_conflicts(store):
    await create(store, "e1")
    a = await store.get_instance("e1")
    b = await store.get_instance("e1")
    a.status = RUNNING
    await store.commit_episode(EpisodeCommit(instance=a, new_events=[p.orchestrator_started(T0)], consumed=[]))
    b.status = FAILED
    with pytest.raises(ConflictError):
        await store.commit_episode(EpisodeCommit(instance=b, new_events=[p.orchestrator_started(T0)], consumed=[]))
    assert (await store.get_instance("e1")).status == RUNNING
    assert len(await store.get_history("e1")) == 1
    with pytest.raises(ConflictError):  # purged meanwhile
        ghost = replace(a, instance_id="ghost")
        await store.commit_episode(EpisodeCommit(instance=ghost, new_events=[], consumed=[]))


async def test_commit_sends_messages_timers_children_and_deletes_cancelled(store):
    current, _, _ = await first_episode(store, "p1", activities=0)
    due = T0 + timedelta(hours=1)
    timer = Message(id=message_id("p1", current.execution_id, "timer", 0), target="p1", kind="event",
                    body=p.timer_fired(due, 0, p.format_timestamp(due)), created=T0, due=due,
                    execution_id=current.execution_id)
    child = instance("p1:child", name="inner")
    child.parent = ParentRef("p1", current.execution_id, 1, "chain")
    child_start = start_message(child, T0, child.parent)
    op = Message(id=message_id("p1", current.execution_id, "op", 2), target="@counter@k", kind="entity",
                 body={"op": "add", "signal": True, "input": "1", "id": "r1", "parent": "p1"}, created=T0)
    await store.commit_episode(EpisodeCommit(
        instance=current, new_events=[p.orchestrator_started(T0)], consumed=[], messages=[timer, op],
        child_instances=[(child, child_start)]))
    [stored_timer] = await store.messages_for("p1")
    assert stored_timer.due == due and stored_timer.body == timer.body
    assert [m.body for m in await store.messages_for("@counter@k")] == [op.body]
    got_child = await store.get_instance("p1:child")
    assert got_child.parent == child.parent and got_child.status == PENDING
    assert [m.id for m in await store.messages_for("p1:child")] == [child_start.id]
    # next episode cancels the timer
    current = await store.get_instance("p1")
    await store.commit_episode(EpisodeCommit(instance=current, new_events=[p.orchestrator_started(T0)],
                                             consumed=[], deleted_messages=[timer.id]))
    assert await store.messages_for("p1") == []


async def test_continue_as_new_restarts_history(store):
    current, _, _ = await first_episode(store, "can", activities=1)
    current.execution_id = "second"
    current.generation = 1
    current.input = '"next"'
    nxt = start_message(current, T0)
    await store.commit_episode(EpisodeCommit(instance=current, new_events=[], consumed=[], messages=[nxt],
                                             new_execution=True))
    got = await store.get_instance("can")
    assert (got.execution_id, got.generation, got.input) == ("second", 1, '"next"')
    assert await store.get_history("can") == []
    events = [p.orchestrator_started(T0), nxt.body, p.orchestrator_completed(T0)]
    await store.commit_episode(EpisodeCommit(instance=got, new_events=events, consumed=[nxt.id]))
    assert await store.get_history("can") == events


async def test_purge_instance(store):
    await first_episode(store, "gone", activities=1)
    await create(store, "kept")
    assert await store.purge_instance("gone")
    assert await store.get_instance("gone") is None
    assert await store.get_history("gone") == []
    assert await store.messages_for("gone") == []
    assert not await store.purge_instance("gone")
    assert (await store.get_instance("kept")) is not None
    rows, _ = await store.query_instances(InstanceQuery())
    assert [r.instance_id for r in rows] == ["kept"]


async def test_query_instances_filters(store):
    for i in range(6):
        record, _ = await create(store, f"job-{i}", created=T0 + timedelta(minutes=i))
        if i % 2:
            current = await store.get_instance(record.instance_id)
            current.status = COMPLETED
            await store.commit_episode(EpisodeCommit(instance=current, new_events=[], consumed=[]))
    await create(store, "other", created=T0 + timedelta(minutes=10))

    async def ids(**kwargs) -> list[str]:
        rows, token = await store.query_instances(InstanceQuery(**kwargs))
        assert token is None
        return sorted(r.instance_id for r in rows)

    assert len(await ids()) == 7
    assert await ids(statuses=frozenset({COMPLETED})) == ["job-1", "job-3", "job-5"]
    assert await ids(statuses=frozenset({COMPLETED, PENDING}), prefix="job-") == [f"job-{i}" for i in range(6)]
    assert await ids(prefix="job-") == [f"job-{i}" for i in range(6)]
    assert await ids(created_from=T0 + timedelta(minutes=2), created_to=T0 + timedelta(minutes=4)) == \
        ["job-2", "job-3", "job-4"]
    assert await ids(created_from=T0 + timedelta(minutes=5), statuses=frozenset({PENDING})) == ["other"]
    rows, _ = await store.query_instances(InstanceQuery(prefix="job-3"))
    same_record(rows[0], await store.get_instance("job-3"))


async def test_query_continuation_tokens(store):
    for i in range(11):
        await create(store, f"page-{i:02d}", created=T0 + timedelta(seconds=i))
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        rows, token = await store.query_instances(InstanceQuery(top=4, continuation=token))
        assert len(rows) <= 4
        seen += [r.instance_id for r in rows]
        pages += 1
        if token is None:
            break
        assert isinstance(token, str)
    assert sorted(seen) == [f"page-{i:02d}" for i in range(11)] and len(seen) == 11
    assert pages == 3
    # filtered paging
    seen, token = [], None
    while True:
        rows, token = await store.query_instances(InstanceQuery(top=2, statuses=frozenset({PENDING}),
                                                                created_from=T0 + timedelta(seconds=5),
                                                                continuation=token))
        seen += [r.instance_id for r in rows]
        if token is None:
            break
    assert sorted(seen) == [f"page-{i:02d}" for i in range(5, 11)]


# ----------------------------------------------------------------------------- messages
async def test_send_pending_and_delete_messages(store):
    record, start = await create(store, "m1")
    due = T0 + timedelta(minutes=5)
    later = event_message(record, p.timer_fired(due, 0, p.format_timestamp(due)), "timer", due=due)
    raised = event_message(record, p.event_raised(T0, "go", '"yes"'), "raised", when=T0 + timedelta(seconds=1))
    signal = Message(id="@c@k|signal|1", target="@c@k", kind="entity",
                     body={"op": "reset", "signal": True, "input": None, "id": "1", "parent": None}, created=T0)
    await store.send_messages([later, raised, signal])
    assert sorted(m.id for m in await store.pending_messages()) == sorted([start.id, later.id, raised.id, signal.id])
    mine = {m.id: m for m in await store.messages_for("m1")}
    assert set(mine) == {start.id, later.id, raised.id}
    assert mine[later.id].due == due and mine[later.id].execution_id == record.execution_id
    assert mine[raised.id].body == raised.body and mine[raised.id].created == raised.created
    await store.delete_messages([later.id, signal.id, "never-existed"])
    assert sorted(m.id for m in await store.pending_messages()) == sorted([start.id, raised.id])


# ----------------------------------------------------------------------------- work
async def test_work_attempts_and_completion(store):
    current, _, items = await first_episode(store, "w1", activities=2)
    pending = {w.id: w for w in await store.pending_work()}
    assert set(pending) == {w.id for w in items}
    item = pending[items[0].id]
    assert (item.name, item.seq, item.input, item.execution_id) == ("double", 0, "1", current.execution_id)
    assert await store.claim_work(item)
    assert await store.record_work_attempt(item) == 1
    assert await store.record_work_attempt(item) == 2
    result = event_message(current, p.task_completed(T0, 0, "2"), "result0")
    await store.complete_work(item, result)
    assert [w.id for w in await store.pending_work()] == [items[1].id]
    assert [m.id for m in await store.messages_for("w1")] == [result.id]
    again = {w.id: w for w in await store.pending_work()}[items[1].id]
    assert again.dequeue_count == 0


# ----------------------------------------------------------------------------- entities
async def test_entity_batches(store):
    eid = p.entity_scheduler_id("Counter", "a")
    assert await store.get_entity(eid) is None
    request = Message(id="req-1", target=eid, kind="entity",
                      body={"op": "add", "signal": False, "input": "5", "id": "x1", "parent": "orch"}, created=T0)
    await store.send_messages([request])
    record = EntityRecord(entity_id=eid, name="counter", key="a", exists=True, state="5", last_modified=T0)
    response = Message(id="req-1|response", target="orch", kind="event",
                       body=p.event_raised(T0, "x1", '{"result":"5"}'), created=T0)
    await store.commit_entity_batch(record, ["req-1"], [response])
    got = await store.get_entity(eid)
    assert (got.name, got.key, got.exists, got.state, got.last_modified) == ("counter", "a", True, "5", T0)
    assert await store.messages_for(eid) == []
    assert [m.id for m in await store.messages_for("orch")] == ["req-1|response"]
    got.state = "6"
    await store.commit_entity_batch(got, [], [])
    assert (await store.get_entity(eid)).state == "6"
    other = EntityRecord(entity_id=p.entity_scheduler_id("Other", "b"), name="other", key="b", exists=False,
                         state=None, last_modified=T0)
    await store.commit_entity_batch(other, [], [])
    assert [r.entity_id for r in await store.list_entities()] == ["@counter@a", "@other@b"]
    assert [r.entity_id for r in await store.list_entities("Counter")] == ["@counter@a"]
    assert await store.list_entities("none") == []


# ----------------------------------------------------------------------------- sizes
@pytest.mark.parametrize("size", [70 * KIB, 1000 * KIB], ids=["70KiB", "1MiB"])
async def test_large_payloads_everywhere(store, size):
    big = json.dumps("b" * size)
    record = instance("big", input_text=big)
    start = start_message(record, T0)
    assert await store.create_instance(record, start, overwrite_statuses=())
    assert (await store.get_instance("big")).input == big
    [stored_start] = await store.messages_for("big")
    assert stored_start.body == start.body
    current = await store.get_instance("big")
    current.status, current.custom_status = RUNNING, big
    events = [p.orchestrator_started(T0), start.body, p.task_scheduled(T0, 0, "double", big),
              p.orchestrator_completed(T0)]
    item = work(current, 0, big)
    await store.commit_episode(EpisodeCommit(instance=current, new_events=events, consumed=[start.id], work=[item]))
    assert await store.get_history("big") == events
    [pending] = await store.pending_work()
    assert pending.input == big
    result = event_message(current, p.task_completed(T0, 0, big), "result")
    await store.complete_work(pending, result)
    [delivered] = await store.messages_for("big")
    assert delivered.body == result.body
    current = await store.get_instance("big")
    assert current.custom_status == big
    current.status, current.output = COMPLETED, big
    tail = [p.orchestrator_started(T0), result.body, p.execution_completed(T0, 1, COMPLETED, big)]
    await store.commit_episode(EpisodeCommit(instance=current, new_events=tail, consumed=[delivered.id]))
    final = await store.get_instance("big")
    assert (final.output, final.input, final.custom_status) == (big, big, big)
    assert await store.get_history("big") == events + tail
    rows, _ = await store.query_instances(InstanceQuery(prefix="big"))
    assert rows[0].output == big
    eid = "@blob@k"
    await store.commit_entity_batch(EntityRecord(entity_id=eid, name="blob", key="k", exists=True, state=big,
                                                 last_modified=T0), [], [])
    assert (await store.get_entity(eid)).state == big
    assert await store.purge_instance("big")
    assert await store.get_history("big") == []


async def test_many_events_and_a_fat_episode_in_one_commit(store):
    """250 TaskScheduled with 20 KiB inputs: more rows and bytes than one table transaction holds."""
    current, events, items = await first_episode(store, "fan", activities=250, input_size=20 * KIB)
    assert await store.get_history("fan") == events
    assert len(await store.pending_work()) == 250
    results = [event_message(current, p.task_completed(T0, seq, str(seq)), f"r{seq}") for seq in range(250)]
    await store.send_messages(results)
    current = await store.get_instance("fan")
    more = [p.orchestrator_started(T0), *(m.body for m in results), p.orchestrator_completed(T0)]
    await store.commit_episode(EpisodeCommit(instance=current, new_events=more, consumed=[m.id for m in results]))
    assert await store.get_history("fan") == events + more
    assert await store.messages_for("fan") == []


async def test_keys_with_awkward_characters(store):
    odd = "tenant 7:order#1?x%y"  # '#', '?' and '%' are not allowed in table keys as they are
    await first_episode(store, odd, activities=1)
    assert (await store.get_instance(odd)).instance_id == odd
    assert len(await store.get_history(odd)) == 4
    [item] = await store.pending_work()
    assert item.instance_id == odd
    rows, _ = await store.query_instances(InstanceQuery(prefix="tenant 7:"))
    assert [r.instance_id for r in rows] == [odd]
    assert await store.purge_instance(odd)
