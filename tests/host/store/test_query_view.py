"""The Azure store's query view (``<hub>Instances``): a commit rewrites an instance's row only
when something a query answers or filters on besides lastUpdatedTime changed, and queries still
answer the lastUpdatedTime of the last commit, as the extension's Instances table does (DTFx
rewrites that row every episode)."""
from __future__ import annotations

from datetime import timedelta

from devhost import protocol as p
from devhost.store.base import RUNNING, EpisodeCommit, InstanceQuery

from .records import T0, event_message, first_episode

LATER = T0 + timedelta(seconds=5)
VIEW_WRITES = ("instances.upsert_entity",)


async def _next_episode(store, instance_id: str, when=LATER, custom_status: str | None = None):
    current = await store.instance_for_episode(instance_id)
    current.last_updated_time, current.custom_status = when, custom_status
    result = event_message(current, p.task_completed(when, 0, "2"), f"r{when.second}")
    await store.send_messages([result])
    await store.commit_episode(EpisodeCommit(instance=current, new_events=[p.orchestrator_started(when), result.body],
                                             consumed=[result.id]))
    return current


async def _view_row(store, instance_id: str):
    return await store._t["instances"].get_entity(instance_id, "")


async def test_a_commit_that_only_moves_time_on_leaves_the_view_and_queries_still_answer_it(azure_pair):
    a, b = azure_pair
    async with a.lease("v1"):
        await first_episode(a, "v1")
        a.faults.only, a.faults.writes = VIEW_WRITES, 0
        await _next_episode(a, "v1")
        assert a.faults.writes == 0  # the view was not rewritten ...
        assert (await _view_row(a, "v1"))["LastUpdatedTime"] == T0  # ... and lags
        for store in (a, b):  # a answers from the sentinel it holds, b reads it
            [record], _ = await store.query_instances(InstanceQuery(statuses=frozenset({RUNNING})))
            assert (record.instance_id, record.status, record.last_updated_time) == ("v1", RUNNING, LATER)
            assert record.last_updated_time == (await store.get_instance("v1")).last_updated_time


async def test_a_custom_status_change_rewrites_the_view(azure):
    async with azure.lease("v2"):
        await first_episode(azure, "v2")
        azure.faults.only, azure.faults.writes = VIEW_WRITES, 0
        await _next_episode(azure, "v2", custom_status='"half way"')
        assert azure.faults.writes == 1
        row = await _view_row(azure, "v2")
        assert (row["CustomStatus"], row["LastUpdatedTime"]) == ('"half way"', LATER)


async def test_the_first_commit_under_a_new_lease_writes_the_view(azure):
    async with azure.lease("v3"):
        await first_episode(azure, "v3")
    await azure._release("v3")
    azure.faults.only, azure.faults.writes = VIEW_WRITES, 0
    async with azure.lease("v3"):
        await _next_episode(azure, "v3")
    assert azure.faults.writes == 1  # (what another process may have written meanwhile is not known)
    assert (await _view_row(azure, "v3"))["LastUpdatedTime"] == LATER


async def test_recovery_leaves_a_view_that_only_lags_and_rewrites_one_that_is_wrong(azure):
    async with azure.lease("v4"):
        await first_episode(azure, "v4")
        await _next_episode(azure, "v4")
    azure.faults.only, azure.faults.writes = ("instances.update_entity", "instances.create_entity"), 0
    await azure._repair_instance("v4", await _view_row(azure, "v4"), await azure._read_sentinel("v4"))
    assert azure.faults.writes == 0
    view = await _view_row(azure, "v4")
    await azure._t["instances"].upsert_entity({**view, "RuntimeStatus": "Pending"})  # (a crash cut a status write)
    await azure._repair_instance("v4", await _view_row(azure, "v4"), await azure._read_sentinel("v4"))
    assert azure.faults.writes == 1
    assert (await _view_row(azure, "v4"))["RuntimeStatus"] == RUNNING
