"""The lean table client (``devhost/store/azure/lean_tables.py``, ``lean_batch.py``) sends the
requests the SDK sends, answers what the SDK answers, and leaves every failure to the SDK, so the
errors are the SDK's own. Real requests to Azurite, side by side with the SDK's client."""
from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable

import pytest
from azure.core import MatchConditions
from azure.core.credentials import AzureSasCredential
from azure.core.exceptions import HttpResponseError
from azure.core.pipeline import PipelineContext, PipelineRequest
from azure.data.tables import TableEntity, UpdateMode
from azure.data.tables._policies import StorageHeadersPolicy
from azure.data.tables._table_batch import TableBatchOperations
from azure.data.tables.aio import TableServiceClient

from devhost.store.azure import AzureStore, batch_codec, lean_batch, lean_tables
from devhost.store.azure.gate import RequestGate
from devhost.store.azure.lean_tables import LeanAccount, LeanTableClient
from devhost.testing import DurableTestHost

RECOVERY_APP = Path(__file__).resolve().parents[1] / "recovery" / "app"

VOLATILE = {"x-ms-client-request-id", "x-ms-date", "date", "authorization"}
# keys the SDK quotes and doubles; Azure forbids / \ # ? and control characters in keys
KEYS = ["plain", "it's", "two  spaces", "naïve ✓ 日本", "per%cent+plus&amp=eq", "(paren),comma;semi:colon@at"]


class Captured:
    """Requests seen by the SDK's ``raw_request_hook`` or the lean client's hook."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []

    def __call__(self, request: Any) -> None:
        http = request.http_request
        body = getattr(http, "body", None)
        if body is None and hasattr(http, "content"):
            body = http.content
        if isinstance(body, str):
            body = body.encode()
        headers = {k.lower(): v for k, v in http.headers.items() if k.lower() not in VOLATILE}
        self.requests.append((http.method, http.url, headers, body or b""))

    def take(self) -> list[tuple[str, str, dict[str, str], bytes]]:
        taken, self.requests = self.requests, []
        return taken


@pytest.fixture
async def sides(azurite: str) -> AsyncIterator[tuple[Any, LeanTableClient, Captured, Captured]]:
    """(the SDK's client, the lean client in front of another SDK client, their captures) on one
    new table."""
    sdk_seen, lean_seen = Captured(), Captured()
    name = "lean" + uuid.uuid4().hex[:8]
    gate = RequestGate(4)
    async with TableServiceClient.from_connection_string(azurite, raw_request_hook=sdk_seen) as service, \
            TableServiceClient.from_connection_string(azurite) as fronted:
        sdk = await service.create_table_if_not_exists(name)
        account = LeanAccount(gate=gate, trust_env=False, request_hook=lean_seen)
        inner = fronted.get_table_client(name)
        assert batch_codec.install(inner, True)
        lean = account.client(inner, True, transactions=True)
        assert isinstance(lean, LeanTableClient)
        try:
            yield sdk, lean, sdk_seen, lean_seen
        finally:
            await account.close()
            await service.delete_table(name)


def _same_etags(requests: list[tuple[str, str, dict[str, str], bytes]]) -> list[Any]:
    return [(m, u, {k: ("<etag>" if k == "if-match" and v != "*" else v) for k, v in h.items()}, b)
            for m, u, h, b in requests]


async def _side_by_side(sides: Any, call: Callable[[Any, str], Awaitable[Any]],
                        setup: Callable[[Any], Awaitable[str]]) -> tuple[Any, Any]:
    """``call(client, etag)`` on the SDK's client, then (state set up again) on the lean one;
    the requests must be the same. Returns both results."""
    sdk, lean, sdk_seen, lean_seen = sides
    results, requests = [], []
    for client, seen in ((sdk, sdk_seen), (lean, lean_seen)):
        etag = await setup(sdk)
        sdk_seen.take()
        results.append(await call(client, etag))
        requests.append(_same_etags(seen.take()))
    assert requests[1] == requests[0]
    return results[0], results[1]


def _shape(result: Any) -> Any:
    """A write's result with its per-request values replaced by their types."""
    if not isinstance(result, dict):
        return result
    return {k: (type(v).__name__ if k in ("date", "etag", "version") else sorted(v) if k == "content" else v)
            for k, v in result.items()}


@pytest.mark.parametrize("key", KEYS)
async def test_single_entity_requests_and_answers_are_the_sdks(sides: Any, key: str) -> None:
    entity = {"PartitionKey": key, "RowKey": key, "S": "text", "I": 7, "F": 2.5, "B": True, "U": "ünï ✓"}

    async def fresh(sdk: Any) -> str:
        return (await sdk.upsert_entity(entity, mode=UpdateMode.REPLACE))["etag"]

    async def missing(sdk: Any) -> str:
        await sdk.delete_entity(key, key)
        return ""

    calls: list[tuple[Callable[[Any], Awaitable[str]], Callable[[Any, str], Awaitable[Any]]]] = [
        (missing, lambda c, e: c.create_entity(entity)),
        (fresh, lambda c, e: c.upsert_entity({**entity, "S": "merged"})),
        (fresh, lambda c, e: c.upsert_entity({**entity, "S": "replaced"}, mode=UpdateMode.REPLACE)),
        (fresh, lambda c, e: c.update_entity({**entity, "S": "u"}, mode=UpdateMode.REPLACE, etag=e,
                                             match_condition=MatchConditions.IfNotModified)),
        (fresh, lambda c, e: c.update_entity({**entity, "S": "u"}, mode=UpdateMode.MERGE)),
        (fresh, lambda c, e: c.delete_entity(key, key, etag=e, match_condition=MatchConditions.IfNotModified)),
        (fresh, lambda c, e: c.delete_entity(key, key)),
    ]
    for setup, call in calls:
        expected, got = await _side_by_side(sides, call, setup)
        assert _shape(got) == _shape(expected)

    expected, got = await _side_by_side(sides, lambda c, e: c.get_entity(key, key), fresh)
    assert isinstance(got, TableEntity) and got == expected
    again = await sides[0].get_entity(key, key)  # (the same state as the lean read's)
    assert got.metadata == again.metadata and type(got.metadata["timestamp"]) is type(again.metadata["timestamp"])


async def test_queries_follow_every_page_as_the_sdk_does(sides: Any) -> None:
    sdk, lean, sdk_seen, lean_seen = sides
    for start in range(0, 1234, 100):  # more than one page (Azure Tables answers at most 1,000 rows)
        await sdk.submit_transaction([("upsert", {"PartitionKey": "big", "RowKey": f"{i:05d}", "N": i})
                                      for i in range(start, min(start + 100, 1234))])
    await sdk.upsert_entity({"PartitionKey": "other", "RowKey": "x", "N": -1})

    async def rows(pager: Any) -> list[Any]:
        return [row async for row in pager]

    for query in (lambda c: c.query_entities("PartitionKey eq @pk and N ge @n", parameters={"pk": "big", "n": 3}),
                  lambda c: c.query_entities("RowKey eq 'x'", select=["N", "RowKey"]),
                  lambda c: c.list_entities()):
        sdk_seen.take()
        expected = await rows(query(sdk))
        got = await rows(query(lean))
        assert got == expected and [r.metadata for r in got] == [r.metadata for r in expected]
        assert lean_seen.take() == sdk_seen.take()
    assert len(expected) == 1235


async def _error(call: Awaitable[Any]) -> tuple[str, Any]:
    try:
        return "ok", await call
    except (HttpResponseError, ValueError, TypeError) as exc:
        def same(text: str) -> str:
            return re.sub(r"(RequestId:|Time:)[-0-9a-fT:.Z]+", r"\1*", text)

        return type(exc).__name__, (getattr(exc, "status_code", None), getattr(exc, "error_code", None),
                                    same(str(exc)))


async def test_failures_are_the_sdks_errors(sides: Any) -> None:
    sdk, lean, _, lean_seen = sides
    row = {"PartitionKey": "p", "RowKey": "a", "V": "1"}
    await sdk.upsert_entity(row)
    stale = 'W/"datetime\'2001-01-01T00%3A00%3A00Z\'"'
    cases: list[Callable[[Any], Awaitable[Any]]] = [
        lambda c: c.create_entity(row),
        lambda c: c.update_entity(row, mode=UpdateMode.REPLACE, etag=stale,
                                  match_condition=MatchConditions.IfNotModified),
        lambda c: c.update_entity({**row, "RowKey": "nope"}),
        lambda c: c.delete_entity("p", "nope"),  # (None, as the SDK answers)
        lambda c: c.delete_entity("p", "a", etag=stale, match_condition=MatchConditions.IfNotModified),
        lambda c: c.get_entity("p", "nope"),
        lambda c: c.update_entity(row, etag=None, match_condition=MatchConditions.IfNotModified),
        lambda c: c.create_entity({"PartitionKey": "p", "RowKey": "big", "N": 2**40}),
        lambda c: c.submit_transaction([("create", row)]),
        lambda c: c.submit_transaction([("upsert", {**row, "RowKey": "b"}), ("update", {**row, "RowKey": "gone"})]),
        lambda c: c.submit_transaction([("upsert", row), ("upsert", {**row, "PartitionKey": "q"})]),
        lambda c: c.submit_transaction([("frobnicate", row)]),
    ]
    for case in cases:
        expected = await _error(case(sdk))
        got = await _error(case(lean))
        assert got == expected, case
    assert (await sdk.get_entity("p", "a"))["V"] == "1"
    with pytest.raises(Exception):
        await sdk.get_entity("p", "b")  # (the failed transactions wrote nothing, either way)
    assert lean_seen.requests, "the lean client made the first attempt of each"


async def test_a_request_that_fails_in_transport_is_made_again_by_the_sdk(sides: Any, unused_tcp_port: int) -> None:
    sdk, lean, sdk_seen, lean_seen = sides
    lean._endpoint = f"http://127.0.0.1:{unused_tcp_port}/devstoreaccount1"  # nothing listens there
    await lean.upsert_entity({"PartitionKey": "p", "RowKey": "r", "V": "x"})
    assert (await lean.get_entity("p", "r"))["V"] == "x"
    assert [r["V"] async for r in lean.query_entities("PartitionKey eq 'p'")] == ["x"]
    assert len(lean_seen.take()) == 3  # one lean attempt each, then the SDK's own request
    assert (await sdk.get_entity("p", "r"))["V"] == "x"


def test_transaction_bytes_are_the_sdks_for_every_shape() -> None:
    from azure.data.tables import TableClient

    client = TableClient.from_connection_string("UseDevelopmentStorage=true", "tbl")
    base = "http://127.0.0.1:10002/devstoreaccount1"
    etag = 'W/"datetime\'2026-01-01T00%3A00%3A00Z\'"'
    for key in KEYS:
        row = {"PartitionKey": key, "RowKey": key, "S": "a\"b\\c\r\n--changeset_X", "I": 3, "F": 0.5, "B": False,
               "U": "naïve ✓ 日本", "L": "z" * 5000}
        operations = [("create", row), ("CREATE", row, {}), ("upsert", row),
                      ("upsert", row, {"mode": UpdateMode.REPLACE}), ("upsert", row, {"mode": "merge"}),
                      ("update", row), ("update", row, {"mode": UpdateMode.REPLACE}),
                      ("update", row, {"mode": UpdateMode.MERGE, "etag": etag,
                                       "match_condition": MatchConditions.IfNotModified}),
                      ("delete", {"PartitionKey": key, "RowKey": key}),
                      ("delete", row, {"etag": etag, "match_condition": MatchConditions.IfNotModified})]
        batch = TableBatchOperations(config=client._client._config, endpoint=base, table_name="tbl",
                                     is_cosmos_endpoint=False)
        for operation in operations:
            batch.add_operation(operation)
        policy = StorageHeadersPolicy()
        for request in batch.requests:
            policy.on_request(PipelineRequest(request, PipelineContext(None)))
        date = batch.requests[0].headers["x-ms-date"]
        assert all(r.headers["x-ms-date"] == date for r in batch.requests)  # (same second; else retry)
        written = lean_batch.sub_requests(base, "tbl", client._client._config.version, operations, date)
        assert written == [request.serialize() for request in batch.requests]


def test_transactions_it_does_not_know_are_left_to_the_sdk() -> None:
    row = {"PartitionKey": "p", "RowKey": "r"}
    for operations in ([], [("upsert", row), ("upsert", {**row, "PartitionKey": "q"})], [("merge", row)],
                       [("upsert", row, {"mode": "sideways"})], [("upsert", TableEntity(row))],
                       [("update", row, {"match_condition": MatchConditions.IfNotModified})],
                       [("upsert", {"PartitionKey": "p"})], [("upsert", {**row, "X": object()})],
                       [("upsert", row, {"timeout": 5})], [["upsert", row]]):
        assert lean_batch.sub_requests("http://h/a", "t", "2019-02-02", operations, "d") is None, operations


def test_batch_answers_with_unusual_headers_are_read_as_http_client_reads_them() -> None:
    part = (b"HTTP/1.1 204 No Content\r\nETag: W/\"1\"\r\nX-Folded: a\r\n b\r\n\r\n")
    body = (b"--b\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n--c\r\nContent-Type: application/http\r\n\r\n"
            + part + b"\r\n--c--\r\n--b--\r\n")
    assert batch_codec.read_success(body, "multipart/mixed; boundary=b", 1) == [{"etag": 'W/"1"'}]
    with pytest.raises(batch_codec.Unreadable):
        batch_codec._status_and_etag(part)


def test_the_lean_client_is_on_for_the_locked_sdk_versions_and_switchable(monkeypatch: pytest.MonkeyPatch) -> None:
    assert lean_tables.status() is None  # (else CI would be measuring the SDK's slow path)
    from azure.data.tables.aio import TableClient

    sdk = TableClient.from_connection_string("UseDevelopmentStorage=true", "tbl")
    account = LeanAccount(gate=RequestGate(1), trust_env=False)
    assert isinstance(account.client(sdk, True), LeanTableClient)
    assert account.client(sdk, False) is sdk
    monkeypatch.setenv(lean_tables.ENV_VAR, "0")
    assert account.client(sdk) is sdk
    sas = TableClient(endpoint="http://127.0.0.1:10002/devstoreaccount1", table_name="tbl",
                      credential=AzureSasCredential("sv=2019-02-02&sig=x"))  # (signed otherwise: the SDK's)
    assert account.client(sas, True) is sas


async def test_a_later_page_that_fails_is_asked_of_the_sdks_pager_from_there(sides: Any) -> None:
    sdk, lean, _, lean_seen = sides
    for start in range(0, 1500, 100):
        await sdk.submit_transaction([("upsert", {"PartitionKey": "big", "RowKey": f"{i:05d}"})
                                      for i in range(start, start + 100)])
    real_send = lean._account.send

    async def second_page_fails(method: str, url: str, *args: Any) -> Any:
        if "NextPartitionKey" in url:
            return None  # (as a transport error answers)
        return await real_send(method, url, *args)

    lean._account.send = second_page_fails
    rows = [row["RowKey"] async for row in lean.query_entities("PartitionKey eq 'big'")]
    assert rows == [f"{i:05d}" for i in range(1500)]  # each row once, in order
    sent = lean_seen.take()
    assert len(sent) == 1 and "NextPartitionKey" not in sent[0][1]  # the first page; the SDK the rest


async def test_the_store_runs_on_the_sdk_alone_when_switched_off(azurite: str, unique: str) -> None:
    store = AzureStore(azurite, "leanoff" + unique[:8])
    store.lean_tables = False
    try:
        async with DurableTestHost.start_time_skipping(RECOVERY_APP, store=store) as env:
            assert not any(isinstance(c._client, LeanTableClient) for c in store._t.values())
            instance_id = await env.start("chain", 1)
            assert (await env.wait(instance_id, timeout=60))["output"] == 5
    finally:
        await store.open()
        await store.delete_task_hub()
        await store.close()
