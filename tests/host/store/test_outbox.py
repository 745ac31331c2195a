"""The Azure store's transactional outbox: nothing an episode sends is visible before its commit,
an outbox left by a crash is dispatched again, and receivers drop what comes twice."""
from __future__ import annotations

import time
from datetime import timedelta

import pytest

from devhost import protocol as p
from devhost.faults import InjectedCrash
from devhost.store.azure import escape_key
from devhost.store.base import PENDING, RUNNING, EntityRecord, EpisodeCommit, InstanceQuery, Message

from .conftest import open_azure
from .records import T0, create, event_message, expire_lease, work


async def _episode_sending_work(store, instance_id: str) -> EpisodeCommit:
    _, start = await create(store, instance_id)
    current = await store.get_instance(instance_id)
    current.status = RUNNING
    now = T0 + timedelta(seconds=1)
    events = [p.orchestrator_started(now), start.body, p.task_scheduled(now, 0, "double", "1"),
              p.orchestrator_completed(now)]
    return EpisodeCommit(instance=current, new_events=events, consumed=[start.id], work=[work(current, 0)])


async def _rows(store, table: str, pk: str) -> list[str]:
    return [r["RowKey"] async for r in store._t[table].query_entities(f"PartitionKey eq '{pk}'")]


async def test_a_crash_before_the_commit_leaves_nothing_visible(azure):
    commit = await _episode_sending_work(azure, "before")
    azure.faults.dead = True  # the process dies before the commit transaction
    with pytest.raises(InjectedCrash):
        await azure.commit_episode(commit)
    azure.faults.dead = False
    assert await azure.pending_work() == []
    assert await azure.get_history("before") == []


async def test_an_outbox_left_by_a_crash_after_the_commit_is_dispatched_by_the_next_process(azurite, azure):
    commit = await _episode_sending_work(azure, "after")
    azure.faults.writes, azure.faults.crash_after = 0, 1  # dies right after the commit transaction
    with pytest.raises(InjectedCrash):
        await azure.commit_episode(commit)
    assert len(await azure.get_history("after")) == 4  # committed ...
    assert await azure.pending_work() == []  # ... but nothing sent yet
    assert [k for k in await _rows(azure, "history", "after") if k.startswith("outbox-")]
    fresh = await open_azure(azurite, azure.task_hub)  # a new process
    try:
        assert [w.id for w in await fresh.pending_work()] == [commit.work[0].id]
        assert not [k for k in await _rows(fresh, "history", "after") if k.startswith("outbox-")]
    finally:
        await fresh.close()


async def test_an_entity_drops_a_request_it_processed_batches_ago(azure):
    def request(n: int) -> Message:
        return Message(id=f"i|e|op|{n}", target="@c@k", kind="entity",
                       body={"op": "add", "signal": True, "input": "1", "id": str(n), "parent": "i"}, created=T0)

    record = EntityRecord(entity_id="@c@k", name="c", key="k", exists=True, state="0", last_modified=T0)
    for n in range(3):
        await azure.send_messages([request(n)])
        assert [m.id for m in await azure.messages_for("@c@k")] == [request(n).id]
        record = await azure.get_entity("@c@k") or record
        record.state = str(n + 1)
        await azure.commit_entity_batch(record, [request(n).id], [])
    await azure.send_messages([request(0)])  # re-dispatched from an outbox, two batches later
    assert await azure.messages_for("@c@k") == []
    assert (await azure.get_entity("@c@k")).state == "3"


async def test_a_redispatched_entity_response_is_dropped_but_an_equal_raised_event_is_not(azure):
    _, start = await create(azure, "caller")
    current = await azure.get_instance("caller")
    response = event_message(current, p.event_raised(T0, "req-1", "5"), "op|0|response")
    events = [p.orchestrator_started(T0), start.body, response.body]
    await azure.commit_episode(EpisodeCommit(instance=current, new_events=events, consumed=[start.id]))
    again = Message(**{**response.__dict__, "id": "other|op|0|response"})  # same request id, delivered again
    raised = event_message(current, p.event_raised(T0, "req-1", "6"), "client-event")
    await azure.send_messages([again, raised])
    await azure.get_instance("caller")
    assert [m.id for m in await azure.messages_for("caller")] == [raised.id]


async def test_a_live_process_takes_over_a_dead_ones_lease_and_finishes_its_commit(azure_pair):
    """The dead process committed, then sent nothing, wrote no view, deleted nothing. The other
    process is never restarted: its poll takes the expired lease over and finishes the step."""
    a, b = azure_pair
    commit = await _episode_sending_work(a, "taken")
    a.faults.only, a.faults.crash_after = ("history.submit_transaction",), 1
    with pytest.raises(InjectedCrash):
        async with a.lease("taken") as held:
            assert held
            await a.commit_episode(commit)
    assert await b.pending_work() == []
    assert (await b.query_instances(InstanceQuery()))[0][0].status == PENDING  # the view lags
    await expire_lease(b, "taken", until=time.time() + 60)
    await b.recover_abandoned()
    assert [r["Owner"] async for r in b._t["leases"].list_entities()] == [a.owner]  # not expired yet
    assert await b.pending_work() == []
    await expire_lease(b, "taken")
    await b.recover_abandoned()
    assert [w.id for w in await b.pending_work()] == [commit.work[0].id]
    assert [r.status for r in (await b.query_instances(InstanceQuery()))[0]] == [RUNNING]
    assert not [k for k in await _rows(b, "history", "taken") if k.startswith("outbox-")]
    # b's now, or already released by b's renewal tick (idle for a sixth of its 1 s lease); a is dead
    assert [r["Owner"] async for r in b._t["leases"].list_entities()] in ([b.owner], [])


async def test_a_live_process_sends_a_dead_entitys_responses(azure_pair):
    a, b = azure_pair
    record = EntityRecord(entity_id="@c@k", name="c", key="k", exists=True, state="1", last_modified=T0)
    response = Message(id="caller|op|0|response", target="caller", kind="event",
                       body=p.event_raised(T0, "req-0", "1"), created=T0)
    a.faults.only, a.faults.crash_after = ("entities.submit_transaction",), 1
    with pytest.raises(InjectedCrash):
        async with a.lease("@c@k") as held:
            assert held
            await a.commit_entity_batch(record, [], [response])
    assert await b.pending_messages() == []
    await expire_lease(b, escape_key("@c@k"))
    await b.recover_abandoned()
    assert [m.id for m in await b.pending_messages()] == [response.id]
    assert (await b.get_entity("@c@k")).state == "1"


async def test_a_dispatched_outbox_goes_with_the_next_commit_or_the_lease(azure):
    """Under its lease, an instance's dispatched outbox row is deleted in the next commit's own
    transaction (one request less per episode), or when the lease is released."""
    commit = await _episode_sending_work(azure, "kept")
    async with azure.lease("kept"):
        await azure.commit_episode(commit)
    [first] = [k for k in await _rows(azure, "history", "kept") if k.startswith("outbox-")]
    assert [w.id for w in await azure.pending_work()] == [commit.work[0].id]  # sent, row kept
    current = await azure.get_instance("kept")
    result = event_message(current, p.task_completed(T0, 0, "2"), "r0")
    await azure.send_messages([result])
    events = [p.orchestrator_started(T0), result.body, p.task_scheduled(T0, 1, "double", "2"),
              p.orchestrator_completed(T0)]
    nxt = EpisodeCommit(instance=current, new_events=events, consumed=[result.id], work=[work(current, 1)])
    writes = azure.faults.writes
    async with azure.lease("kept"):
        await azure.commit_episode(nxt)
    [second] = [k for k in await _rows(azure, "history", "kept") if k.startswith("outbox-")]
    assert second != first  # the first went with the commit: no delete of its own
    # commit and work item (the consumed message goes with the result; the query view only
    # lags in lastUpdatedTime, which queries take from the sentinel)
    assert azure.faults.writes - writes == 2
    await azure._release("kept")
    assert not [k for k in await _rows(azure, "history", "kept") if k.startswith("outbox-")]


async def test_a_kept_outbox_of_a_dead_process_is_sent_again_by_the_next_one(azure_pair):
    a, b = azure_pair
    commit = await _episode_sending_work(a, "again")
    async with a.lease("again"):
        await a.commit_episode(commit)
        a.faults.dead = True  # dies holding the lease and the dispatched outbox row
    await b._t["work"].delete_entity("again", escape_key(commit.work[0].id))  # (say it ran and completed)
    await expire_lease(b, "again")
    await b.recover_abandoned()  # at-least-once: what a dead process sent may be sent again
    assert [w.id for w in await b.pending_work()] == [commit.work[0].id]
    assert not [k for k in await _rows(b, "history", "again") if k.startswith("outbox-")]
