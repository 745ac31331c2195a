"""The Azure store's activity work items: rows of the Messages table, stored leased when the
scheduler runs them at once, completed in one transaction with their result, and moved over
from the table an older version kept them in."""
from __future__ import annotations

from datetime import timedelta

import pytest

from devhost import protocol as p
from devhost.faults import InjectedCrash
from devhost.store.azure import escape_key
from devhost.store.base import RUNNING, EpisodeCommit

from .conftest import open_azure
from .records import T0, create, event_message, expire_lease, work


async def _commit_work(store, instance_id: str, count: int, lease: int) -> tuple[object, EpisodeCommit]:
    """Commit an instance's first episode, scheduling ``count`` activities, the first ``lease``
    of them to run here at once (``EpisodeCommit.lease_work``)."""
    _, start = await create(store, instance_id)
    current = await store.get_instance(instance_id)
    current.status = RUNNING
    now = T0 + timedelta(seconds=1)
    items = [work(current, seq) for seq in range(count)]
    events = [p.orchestrator_started(now), start.body,
              *(p.task_scheduled(now, seq, "double", "1") for seq in range(count)), p.orchestrator_completed(now)]
    commit = EpisodeCommit(instance=current, new_events=events, consumed=[start.id], work=items,
                           lease_work=frozenset(item.id for item in items[:lease]))
    await store.commit_episode(commit)
    return current, commit


async def _work_row(store, item) -> dict:
    return await store._t["work"].get_entity(escape_key(item.instance_id), escape_key(item.id))


async def test_work_items_the_scheduler_runs_at_once_are_stored_leased_and_need_no_claim(azure_pair):
    a, b = azure_pair
    _, commit = await _commit_work(a, "pre", count=3, lease=2)
    leased, free = commit.work[:2], commit.work[2]
    for item in leased:
        row = await _work_row(a, item)
        assert (row["LeaseOwner"], row["DequeueCount"]) == (a.owner, 1)
    assert not (await _work_row(a, free)).get("LeaseOwner")
    # the other process sees the leased ones as taken, the third as free
    listed = {item.id: item for item in await b.pending_work()}
    assert [b.work_claimable(listed[item.id]) for item in commit.work] == [False, False, True]
    writes = a.faults.writes
    for item in leased:
        assert await a.claim_work(item)
        assert await a.record_work_attempt(item) == 1
    assert a.faults.writes == writes  # no request: the lease was taken with the row
    assert await b.claim_work(listed[free.id])


async def test_a_redispatched_work_item_keeps_the_lease_of_the_process_running_it(azure_pair):
    a, b = azure_pair
    _, commit = await _commit_work(a, "again", count=1, lease=0)
    [item] = commit.work
    assert await a.claim_work(item)
    await b._put_work(item, lease=True)  # e.g. a takeover dispatching the same outbox again
    row = await _work_row(a, item)
    assert (row["LeaseOwner"], row["DequeueCount"]) == (a.owner, 1)
    assert item.id not in b._held_work


async def test_a_leased_item_whose_commit_failed_after_the_dispatch_is_handed_to_the_poller(azure):
    _, start = await create(azure, "cut")
    current = await azure.get_instance("cut")
    current.status = RUNNING
    item = work(current, 0)
    commit = EpisodeCommit(instance=current, new_events=[p.orchestrator_started(T0), start.body], consumed=[start.id],
                           work=[item], lease_work=frozenset({item.id}))
    azure.faults.only, azure.faults.crash_after = ("work.create_entity",), 1  # dies right after the dispatch
    with pytest.raises(InjectedCrash):
        await azure.commit_episode(commit)
    azure.faults.only, azure.faults.crash_after, azure.faults.dead = (), None, False
    [listed] = await azure.pending_work()
    assert azure.work_claimable(listed)  # the scheduler never got to it: the poller must
    assert await azure.claim_work(listed)


async def test_a_result_and_its_work_item_deletion_are_one_transaction(azure):
    current, commit = await _commit_work(azure, "one", count=2, lease=2)
    first, second = commit.work
    writes = azure.faults.writes
    await azure.complete_work(first, event_message(current, p.task_completed(T0, 0, "2"), "r0"))
    await azure.complete_work(second, event_message(current, p.task_completed(T0, 1, "2"), "r1"))
    assert azure.faults.writes == writes + 2
    assert await azure.pending_work() == []
    assert sorted(m.id for m in await azure.messages_for("one")) == sorted(
        [event_message(current, {}, "r0").id, event_message(current, {}, "r1").id])


async def test_a_result_whose_work_item_another_process_completed_is_stored_alone(azure_pair):
    a, b = azure_pair
    current, commit = await _commit_work(a, "twice", count=1, lease=0)
    [item] = commit.work
    assert await a.claim_work(item)
    result = event_message(current, p.task_completed(T0, 0, "2"), "r0")
    await b.complete_work(item, result)  # (say a's lease ran out and b ran it too, and finished first)
    await a.complete_work(item, result)  # no error: the transaction fails, the result goes alone
    assert [m.id for m in await a.messages_for("twice")] == [result.id]
    assert await a.pending_work() == []


async def test_work_items_an_older_version_left_in_its_own_table_are_moved(azurite, azure):
    current, commit = await _commit_work(azure, "old", count=1, lease=0)
    [item] = commit.work
    row = dict(await _work_row(azure, item))
    await azure._t["work"].delete_entity(row["PartitionKey"], row["RowKey"])
    legacy = await azure._service.create_table_if_not_exists(azure.legacy_work_table)
    del row["Kind"]  # the old layout: its own table, no Kind column, a lease and attempts counted
    await legacy.create_entity({**row, "LeaseOwner": "gone:1", "LeaseUntil": 1.0, "DequeueCount": 2})
    assert await azure.pending_work() == []
    restarted = await open_azure(azurite, azure.task_hub)
    try:
        [moved] = await restarted.pending_work()
        assert (moved.id, moved.input, moved.dequeue_count) == (item.id, item.input, 2)
        assert restarted.work_claimable(moved)  # (its lease expired long ago)
        names = [t.name async for t in restarted._service.list_tables()]
        assert azure.legacy_work_table not in names
    finally:
        await restarted.close()


# ---------------------------------------------------------------------------- lazy work items
async def _stored_work(store) -> list[str]:
    return [item.id for item in await store.pending_work()]


async def _next_commit(store, current, consumed: list[str] = ()):
    """An episode of the instance that sends nothing (say a timer fired)."""
    current = await store.instance_for_episode(current.instance_id)
    await store.commit_episode(EpisodeCommit(instance=current, new_events=[p.orchestrator_started(T0)],
                                             consumed=list(consumed)))
    return current


async def test_under_the_lease_a_work_item_run_at_once_is_never_written(azure):
    async with azure.lease("lazy"):
        current, commit = await _commit_work(azure, "lazy", count=1, lease=1)
        [item] = commit.work
        assert await _stored_work(azure) == []  # the kept outbox row holds it
        writes = azure.faults.writes
        assert await azure.claim_work(item) and await azure.record_work_attempt(item) == 1
        result = event_message(current, p.task_completed(T0, 0, "2"), "r0")
        await azure.complete_work(item, result)
        assert azure.faults.writes == writes + 1  # the result (with the consumed start message)
        await _next_commit(azure, current, consumed=[result.id])  # the outbox row goes
    assert await _stored_work(azure) == []
    assert [m.id for m in await azure.messages_for("lazy")] == []


async def test_a_lazy_item_still_running_when_its_outbox_row_goes_is_written_first(azure_pair):
    a, b = azure_pair
    async with a.lease("long"):
        current, commit = await _commit_work(a, "long", count=1, lease=1)
        [item] = commit.work
        assert await a.claim_work(item)
        await _next_commit(a, current)  # (the item still runs)
    listed = {w.id: w for w in await b.pending_work()}
    assert list(listed) == [item.id] and not b.work_claimable(listed[item.id])  # leased by a, running
    row = await a._t["work"].get_entity(escape_key(item.instance_id), escape_key(item.id))
    assert (row["LeaseOwner"], row["DequeueCount"]) == (a.owner, 1)
    await a.complete_work(item, event_message(current, p.task_completed(T0, 0, "2"), "r0"))
    assert await _stored_work(a) == []


async def test_a_lazy_item_still_waiting_for_a_slot_when_its_outbox_row_goes_can_still_be_claimed(azure):
    """(The soak found an approval whose ProcessApproval waited for a worker slot behind a
    fan-out while an event's episode committed: stored as held, its claim then failed.)"""
    async with azure.lease("waits"):
        current, commit = await _commit_work(azure, "waits", count=1, lease=1)
        [item] = commit.work
        await _next_commit(azure, current)  # before the item got a slot
    writes = azure.faults.writes
    assert await azure.claim_work(item) and await azure.record_work_attempt(item) == 1
    assert azure.faults.writes == writes
    await azure.complete_work(item, event_message(current, p.task_completed(T0, 0, "2"), "r0"))
    assert await _stored_work(azure) == []


async def test_a_lazy_item_is_written_when_the_lease_is_released(azure):
    async with azure.lease("rel"):
        _, commit = await _commit_work(azure, "rel", count=1, lease=1)
    assert await azure.claim_work(commit.work[0])
    await azure._release("rel")
    assert await _stored_work(azure) == [commit.work[0].id]


async def test_a_process_that_dies_running_a_lazy_item_leaves_it_to_the_next(azure_pair):
    a, b = azure_pair
    async with a.lease("dies"):
        _, commit = await _commit_work(a, "dies", count=1, lease=1)
        assert await a.claim_work(commit.work[0])
        a.faults.dead = True  # the process dies while the activity runs
    fresh_opened = await open_azure(b.connection_string, b.task_hub)  # a process starting now leaves a's live outbox alone
    try:
        assert await _stored_work(fresh_opened) == []
    finally:
        await fresh_opened.close()
    await expire_lease(b, "dies")
    await b.recover_abandoned()  # the takeover sends a's outbox again: at-least-once
    [again] = await b.pending_work()
    assert again.id == commit.work[0].id and b.work_claimable(again)


async def test_a_lazy_item_whose_worker_crashed_counts_its_attempts(azure):
    async with azure.lease("retry"):
        _, commit = await _commit_work(azure, "retry", count=1, lease=1)
        [item] = commit.work
        for attempt in (1, 2, 3):  # (the activity's worker crashed in this process: run again)
            assert await azure.claim_work(item)
            assert await azure.record_work_attempt(item) == attempt
