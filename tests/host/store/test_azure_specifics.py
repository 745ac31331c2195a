"""What only the Azure store has: crash-window dedupe, leases between processes, connection
strings, layout, and the repairs ``open()`` makes."""
from __future__ import annotations

import asyncio

import pytest

from devhost import protocol as p
from devhost.engine import start_message
from devhost.store.azure import (
    DEV_ACCOUNT, AzureStore, _row_key, escape_key, normalize_connection_string, validate_task_hub,
)
from devhost.store.base import COMPLETED, PENDING, EntityRecord, EpisodeCommit, Message

from .conftest import open_azure
from .records import T0, create, event_message, first_episode, instance, stall_then_commit_elsewhere


def test_development_storage_connection_string():
    normalized = normalize_connection_string("UseDevelopmentStorage=true")
    assert f"AccountName={DEV_ACCOUNT}" in normalized
    assert "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1" in normalized
    assert "TableEndpoint=http://127.0.0.1:10002/devstoreaccount1" in normalized
    with pytest.raises(ValueError):
        normalize_connection_string("nonsense")
    explicit = "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=k;EndpointSuffix=core.windows.net"
    assert normalize_connection_string(explicit) == explicit


def test_task_hub_names_and_keys():
    assert validate_task_hub("MyHub1") == "MyHub1"
    for bad in ("a", "1hub", "my-hub", "x" * 46):
        with pytest.raises(ValueError):
            validate_task_hub(bad)
    assert escape_key("a/b\\c#d?e%f\x01") == "a%2Fb%5Cc%23d%3Fe%25f%01"
    assert _row_key(255) == "00000000000000FF"


async def test_layout_is_what_storage_explorer_users_expect(azure):
    await first_episode(azure, "look", activities=1)
    hub = azure.task_hub
    names = [t.name async for t in azure._service.list_tables()]
    assert {f"{hub}Instances", f"{hub}History", f"{hub}Messages", f"{hub}Leases"} <= set(names)
    view = await azure._t["instances"].get_entity("look", "")
    assert view["RuntimeStatus"] == "Running"
    rows = [r async for r in azure._t["history"].query_entities("PartitionKey eq 'look'")]
    assert [r["RowKey"] for r in rows] == [_row_key(i) for i in range(4)] + ["sentinel"]
    assert [r.get("EventType") for r in rows[:4]] == [12, 0, 4, 13]
    assert azure.container_name == f"{hub.lower()}-largemessages"


async def test_consumed_messages_left_by_a_crash_are_not_delivered_again(azurite, azure):
    current, _, items = await first_episode(azure, "dup", activities=2)
    result = event_message(current, p.task_completed(T0, 0, "2"), "r0")
    raised = event_message(current, p.event_raised(T0, "go", "1"), "go")
    await azure.send_messages([result, raised])
    current = await azure.get_instance("dup")
    await azure.commit_episode(EpisodeCommit(instance=current, new_events=[p.orchestrator_started(T0), result.body,
                                                                          raised.body], consumed=[result.id, raised.id]))
    # a crash between the commit and the clean-up leaves the consumed messages behind
    await azure.send_messages([result, raised])
    # ... and an activity that ran again after a crash sends its result a second time
    again = Message(**{**result.__dict__, "id": result.id + "|again"})
    await azure.send_messages([again])
    fresh = await open_azure(azurite, azure.task_hub)  # a new process: cold caches
    try:
        await fresh.get_instance("dup")
        assert await fresh.messages_for("dup") == []
        assert await fresh.pending_messages() == []  # and they were cleaned up
    finally:
        await fresh.close()
    # a real new completion still gets through
    other = event_message(current, p.task_completed(T0, 1, "4"), "r1")
    await azure.send_messages([other])
    await azure.get_instance("dup")
    assert [m.id for m in await azure.messages_for("dup")] == [other.id]


async def test_entity_requests_consumed_before_a_crash_are_not_applied_twice(azure):
    request = Message(id="@c@k|signal|1", target="@c@k", kind="entity",
                      body={"op": "add", "signal": True, "input": "1", "id": "1", "parent": None}, created=T0)
    await azure.send_messages([request])
    assert [m.id for m in await azure.messages_for("@c@k")] == [request.id]
    record = EntityRecord(entity_id="@c@k", name="c", key="k", exists=True, state="1", last_modified=T0)
    await azure.commit_entity_batch(record, [request.id], [])
    await azure.send_messages([request])  # left behind by a crash before the clean-up
    assert await azure.messages_for("@c@k") == []


async def test_open_repairs_the_view_and_a_missing_start_message(azurite, azure):
    record, start = await create(azure, "half")
    await azure.delete_messages([start.id])  # crash between the sentinel and the start message
    current, _, _ = await first_episode(azure, "done", activities=0)
    current.status = COMPLETED
    await azure.commit_episode(EpisodeCommit(instance=current, new_events=[], consumed=[]))
    view = await azure._t["instances"].get_entity("done", "")
    view["RuntimeStatus"] = "Running"  # crash between the commit and the view update
    await azure._t["instances"].upsert_entity(view)
    fresh = await open_azure(azurite, azure.task_hub)
    try:
        assert [m.id for m in await fresh.messages_for("half")] == [start.id]
        assert (await fresh._t["instances"].get_entity("done", ""))["RuntimeStatus"] == COMPLETED
    finally:
        await fresh.close()


async def test_create_instance_race_has_one_winner(azure_pair):
    a, b = azure_pair
    first, second = instance("race"), instance("race")
    results = await asyncio.gather(a.create_instance(first, start_message(first, T0), ()),
                                   b.create_instance(second, start_message(second, T0), ()))
    assert sorted(results) == [False, True]
    winner = first if results[0] else second
    got = await a.get_instance("race")
    assert (got.execution_id, got.status) == (winner.execution_id, PENDING)
    assert [m.execution_id for m in await a.messages_for("race")] == [winner.execution_id]


async def eventually_held(store, target: str, tries: int = 200) -> bool:
    for _ in range(tries):
        async with store.lease(target) as held:
            if held:
                return True
        await asyncio.sleep(store.lease_seconds / 50)
    return False


async def test_target_leases_are_exclusive_and_expire(azure_pair):
    a, b = azure_pair
    async with a.lease("i1") as held_a:
        assert held_a
        async with b.lease("i1") as held_b:
            assert not held_b
    async with b.lease("i1") as held_b:  # kept a moment for a's next episode
        assert not held_b
    async with a.lease("i1") as held_a:  # which takes it up again without a request
        writes = a.faults.writes
        assert held_a and a.faults.writes == writes
    assert await eventually_held(b, "i1")  # released by a once idle, long before it expires
    assert "i1" not in a._held_targets
    assert await a._claim("i2")  # a process that dies holding a lease ...
    a._held_targets.clear()  # (no renewal, no release)
    async with b.lease("i2") as held_b:
        assert not held_b
    await asyncio.sleep(a.lease_seconds + 0.2)
    async with b.lease("i2") as held_b:  # ... loses it when it expires
        assert held_b


async def test_work_leases_are_exclusive_renewed_and_expire(azure_pair):
    a, b = azure_pair
    await first_episode(a, "w", activities=1)
    [item_a] = await a.pending_work()
    [item_b] = await b.pending_work()
    assert await a.claim_work(item_a)
    assert not await a.claim_work(item_a)  # not twice in one process either
    assert not await b.claim_work(item_b)
    await asyncio.sleep(a.lease_seconds * 1.5)  # a renews while it runs the activity
    [item_b] = await b.pending_work()
    assert not b.work_claimable(item_b) and not await b.claim_work(item_b)
    a._held_work.clear()  # a dies: no more renewals
    await asyncio.sleep(a.lease_seconds + 0.2)
    [item_b] = await b.pending_work()
    assert b.work_claimable(item_b) and await b.claim_work(item_b)
    assert await b.record_work_attempt(item_b) == 2  # the crashed attempt counts


async def test_history_rows_of_an_earlier_execution_are_dropped(azure):
    current, _, _ = await first_episode(azure, "can2", activities=1)
    current.execution_id = "next"
    nxt = start_message(current, T0)
    await azure.commit_episode(EpisodeCommit(instance=current, new_events=[], consumed=[], messages=[nxt],
                                             new_execution=True))
    rows = [r async for r in azure._t["history"].query_entities("PartitionKey eq 'can2'")]
    assert [r["RowKey"] for r in rows] == ["sentinel"]
    sentinel = rows[0]
    assert (sentinel["HistoryStart"], sentinel["HistoryEnd"]) == (4, 4)  # row numbers never reused


def test_store_is_shared_and_memory_is_not():
    from devhost.store.memory import MemoryStore

    assert AzureStore.shared and not MemoryStore.shared


def test_cli_picks_the_azure_store_when_azurewebjobsstorage_is_set(tmp_path):
    from devhost.config import HostConfig
    from devhost.store.memory import MemoryStore
    from devhost.stores import open_store

    config = HostConfig(app_dir=tmp_path, task_hub="CliHub", route_prefix="api",
                        storage_connection="UseDevelopmentStorage=true", host_json={})
    store = open_store("auto", config)
    assert isinstance(store, AzureStore) and store.task_hub == "CliHub"
    assert "127.0.0.1:10002" in store.connection_string
    config.storage_connection = None
    assert isinstance(open_store("auto", config), MemoryStore)
    with pytest.raises(SystemExit):
        open_store("azure", config)


async def test_cached_instance_under_a_held_lease_notices_another_process_via_etag(azure_pair):
    a, b = azure_pair
    async with a.lease("c1") as held:
        assert held
        current, _, _ = await first_episode(a, "c1", activities=1)
        writes = a.faults.writes
        cached = await a.instance_for_episode("c1")  # a wrote it under its lease: no read
        assert cached.etag == current.etag and a.faults.writes == writes
    moved = await stall_then_commit_elsewhere(a, b, "c1", [p.orchestrator_started(T0)], [], status=COMPLETED)
    assert await eventually_held(a, "c1")  # once b let it go; a's had expired, so a claims anew
    async with a.lease("c1") as held_a:  # ... and a status read must re-read (an episode may start
        assert held_a                     # from what a wrote: its commit would fail, test_inbox.py)
        seen = await a.get_instance("c1")
        assert (seen.etag, seen.status) == (moved.etag, COMPLETED)
    stale = await a.get_instance("c1")
    assert stale.etag == moved.etag


async def stored_message_ids(store, instance_id: str) -> list[str]:
    rows = store._t["messages"].query_entities("PartitionKey eq @pk and Kind ne 'work'",
                                               parameters={"pk": escape_key(instance_id)})
    return sorted([row["MessageId"] async for row in rows])


async def test_consumed_messages_are_deleted_in_one_transaction_with_the_next_result(azure):
    current, _, [item] = await first_episode(azure, "defer", activities=1)
    [start_id] = await stored_message_ids(azure, "defer")  # consumed by the episode, still stored
    assert await azure.messages_for("defer") == []  # hidden by the sentinel's Consumed list
    writes = azure.faults.writes
    result = event_message(current, p.task_completed(T0, 0, "2"), "r0")
    await azure.complete_work(item, result)
    assert azure.faults.writes == writes + 1  # result, work item and consumed message in one transaction
    assert await stored_message_ids(azure, "defer") == [result.id]
    assert await azure.pending_work() == []
    assert start_id != result.id


async def test_consumed_messages_left_by_a_crash_before_the_next_result_stay_hidden(azurite, azure):
    current, _, [item] = await first_episode(azure, "defer2", activities=1)
    [consumed] = await stored_message_ids(azure, "defer2")
    azure.faults.dead = True  # the process dies before the activity's result is written
    restarted = await open_azure(azurite, azure.task_hub)
    try:
        assert await restarted.messages_for("defer2") == []  # dropped (and deleted) there
        assert await stored_message_ids(restarted, "defer2") == []
        result = event_message(current, p.task_completed(T0, 0, "2"), "r0")
        await restarted.complete_work(item, result)
        assert [m.id for m in await restarted.messages_for("defer2")] == [result.id]
    finally:
        await restarted.close()
    assert consumed != result.id


async def test_a_listing_that_an_episode_overtakes_does_not_offer_what_it_consumed(azure):
    """The poller lists pending messages while an episode of this process consumes one: the
    listing must not hand it back (routed, it would cost an episode that finds nothing)."""
    record, start = await create(azure, "overtaken")
    current = await azure.get_instance("overtaken")
    commit = EpisodeCommit(instance=current, new_events=[p.orchestrator_started(T0), start.body], consumed=[start.id])
    read_row = azure._message_from

    async def commit_meanwhile(row):
        message = await read_row(row)
        await azure.commit_episode(commit)  # consumes (and deletes) the message being listed
        return message

    azure._message_from = commit_meanwhile
    assert await azure.pending_messages() == []


async def test_status_reads_under_a_held_lease_come_from_memory(azure):
    """A waiter's or a client's status read of an instance this process runs answers from the
    sentinel it holds under the lease; without the lease (or once terminal) it reads the store."""
    reads = []
    read_sentinel = azure._read_sentinel

    async def counted(instance_id):
        reads.append(instance_id)
        return await read_sentinel(instance_id)

    azure._read_sentinel = counted
    current, _, _ = await first_episode(azure, "s1", activities=1)
    reads.clear()
    assert (await azure.get_instance("s1")).etag == current.etag and reads == ["s1"]  # no lease: read
    async with azure.lease("s1"):
        await azure.get_instance("s1")  # (read once under the lease)
        reads.clear()
        for _ in range(3):
            assert (await azure.get_instance("s1")).etag == current.etag
        assert reads == []
