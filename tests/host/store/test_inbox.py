"""What holding a lease lets the Azure store know without asking. The inbox: under an unbroken
lease an episode's messages come from what this process wrote (one query after the lease is
taken; none for the first lease after this process's own start, whose start message it knows),
messages of other processes come in through the poll's listing, and a broken lease or a commit
conflict sends the next episode back to the table. The instance: the first episode under
a new lease starts from the state this process wrote last, unread; the ETag-checked commit
catches a state another process moved on."""
from __future__ import annotations

import pytest

from devhost import protocol as p
from devhost.store.base import RUNNING, ConflictError, EpisodeCommit

from .records import T0, create, event_message, stall_then_commit_elsewhere


@pytest.fixture
def queries(azure_pair):
    """Count each store's message queries (the real ones still run)."""
    counts = {}
    for store in azure_pair:
        real = store._query_messages
        counts[store] = 0

        async def counted(target, store=store, real=real):
            counts[store] += 1
            return await real(target)

        store._query_messages = counted
    return counts


def _raised(record, tag: str):
    return event_message(record, p.event_raised(T0, tag, '"x"'), tag)


async def test_messages_written_under_the_lease_are_known_without_a_query(azure_pair, queries):
    a, _ = azure_pair
    record, start = await create(a, "i1")
    async with a.lease("i1") as held:
        assert held
        assert [m.id for m in await a.messages_for("i1")] == [start.id]
        assert queries[a] == 0  # (the first lease after a's own start: a knows its start message)
        first, second = _raised(record, "b"), _raised(record, "a")
        await a.send_messages([first, second])
        listed = await a.messages_for("i1")
        assert queries[a] == 0
        assert [m.id for m in listed] == [m.id for m in await a._query_messages("i1")]  # (the table's order)
        current = await a.instance_for_episode("i1")
        current.status = RUNNING
        await a.commit_episode(EpisodeCommit(instance=current, new_events=[p.orchestrator_started(T0), start.body],
                                             consumed=[start.id, first.id]))
        assert [m.id for m in await a.messages_for("i1")] == [second.id]
        assert queries[a] == 1  # (the one just above, made by the test)
    await a._release("i1")
    async with a.lease("i1"):  # a later lease asks the table once
        assert [m.id for m in await a.messages_for("i1")] == [second.id]
        assert queries[a] == 2


async def test_a_message_another_process_writes_comes_in_through_the_poll(azure_pair, queries):
    a, b = azure_pair
    record, start = await create(a, "i2")
    async with a.lease("i2"):
        await a.messages_for("i2")
        other = _raised(record, "elsewhere")
        await b.send_messages([other])
        assert [m.id for m in await a.messages_for("i2")] == [start.id]  # not known yet, not lost
        assert other.id in {m.id for m in await a.pending_messages()}  # the poll lists it ...
        assert [m.id for m in await a.messages_for("i2")] == sorted([start.id, other.id])  # ... so a asks
        assert queries[a] == 1


async def test_a_new_lease_asks_the_table_again(azure_pair, queries):
    a, b = azure_pair
    record, start = await create(a, "i3")
    async with a.lease("i3"):
        await a.messages_for("i3")
    await a._release("i3")
    other = _raised(record, "meanwhile")
    await b.send_messages([other])
    async with a.lease("i3") as held:
        assert held
        assert [m.id for m in await a.messages_for("i3")] == sorted([start.id, other.id])
    assert queries[a] == 1  # (none under the first lease: a's own start)


async def test_an_episode_built_on_what_another_process_consumed_fails_its_commit(azure_pair, queries):
    """The ETag check is what makes the inbox safe: a lease that ran out unnoticed lets another
    process consume the messages, and the stale holder's commit must not go through."""
    a, b = azure_pair
    _, start = await create(a, "i4")
    async with a.lease("i4"):
        assert [m.id for m in await a.messages_for("i4")] == [start.id]
        stale = await a.instance_for_episode("i4")
    await stall_then_commit_elsewhere(a, b, "i4", [p.orchestrator_started(T0), start.body], [start.id])
    stale.status = RUNNING
    with pytest.raises(ConflictError):
        await a.commit_episode(EpisodeCommit(instance=stale, new_events=[p.orchestrator_started(T0), start.body],
                                             consumed=[start.id]))
    assert "i4" not in a._inbox


async def test_the_first_episode_after_this_processs_own_start_reads_nothing(azure_pair):
    a, _ = azure_pair
    record, _ = await create(a, "own")
    reads = 0
    real = a._read_sentinel

    async def counted(instance_id):
        nonlocal reads
        reads += 1
        return await real(instance_id)

    a._read_sentinel = counted
    async with a.lease("own"):
        seen = await a.instance_for_episode("own")
        assert (seen.etag, reads) == (record.etag, 0)
        await a.get_instance("own")  # a status read still reads under a new lease
        assert reads == 1


async def test_an_own_state_that_another_process_moved_on_fails_the_commit(azure_pair):
    a, b = azure_pair
    _, start = await create(a, "moved")
    async with b.lease("moved"):
        current = await b.instance_for_episode("moved")
        current.status = RUNNING
        await b.commit_episode(EpisodeCommit(instance=current, new_events=[p.orchestrator_started(T0), start.body],
                                             consumed=[start.id]))
    await b._release("moved")
    async with a.lease("moved") as held:
        assert held
        stale = await a.instance_for_episode("moved")  # what a wrote at the start, unread
        assert stale.etag != current.etag
        stale.status = RUNNING
        assert [m.id for m in await a.messages_for("moved")] == [start.id]  # a's own start, unread (b consumed it)
        with pytest.raises(ConflictError):
            await a.commit_episode(EpisodeCommit(instance=stale, new_events=[p.orchestrator_started(T0), start.body],
                                                 consumed=[start.id]))
        assert (await a.instance_for_episode("moved")).etag == current.etag  # read afresh now
        assert await a.messages_for("moved") == []  # and asked afresh: b consumed the start
