"""The fast table transactions (``devhost/store/azure/batch_codec.py``) send the bytes azure-core
would send and read Azurite's answers as the SDK does; errors are the SDK's own."""
from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from azure.core import MatchConditions
from azure.core.exceptions import HttpResponseError
from azure.core.pipeline import PipelineContext, PipelineRequest
from azure.core.rest import HttpRequest
from azure.data.tables import TableClient, UpdateMode
from azure.data.tables._policies import StorageHeadersPolicy
from azure.data.tables._table_batch import TableBatchOperations
from azure.data.tables.aio import TableServiceClient

from devhost.store.azure import batch_codec

ENTITIES = [
    {"PartitionKey": "p", "RowKey": "plain", "A": "x"},
    {"PartitionKey": "p", "RowKey": "tricky", "A": "line\r\n--changeset_X\r\n--batch_Y--\r\n", "N": 2**30,
     "F": 1.5, "B": True, "U": "naïve ✓ 日本"},
    {"PartitionKey": "p", "RowKey": "large", "A": "z" * 60_000},
]


def _operations(count: int) -> list[tuple[Any, ...]]:
    shapes = [lambda e: ("upsert", e, {"mode": UpdateMode.REPLACE}),
              lambda e: ("upsert", e, {"mode": UpdateMode.MERGE}),
              lambda e: ("create", e),
              lambda e: ("update", e, {"mode": UpdateMode.REPLACE, "etag": 'W/"datetime\'2026-01-01T00%3A00%3A00Z\'"',
                                       "match_condition": MatchConditions.IfNotModified}),
              lambda e: ("delete", {"PartitionKey": e["PartitionKey"], "RowKey": e["RowKey"]})]
    return [shapes[i % len(shapes)]({**ENTITIES[i % len(ENTITIES)], "RowKey": f"r{i}"}) for i in range(count)]


@pytest.mark.parametrize("count", [1, 3, 5, 100])
def test_the_body_is_the_one_azure_core_writes(count: int) -> None:
    client = TableClient.from_connection_string("UseDevelopmentStorage=true", "tbl")
    batch = TableBatchOperations(config=client._client._config, endpoint="http://127.0.0.1:10002/devstoreaccount1",
                                 table_name="tbl", is_cosmos_endpoint=False)
    for operation in _operations(count):
        batch.add_operation(operation)
    policies = [StorageHeadersPolicy()]
    for request in batch.requests:
        policies[0].on_request(PipelineRequest(request, PipelineContext(None)))
    changeset = HttpRequest("POST", "")
    changeset.set_multipart_mixed(*batch.requests, policies=policies, boundary="changeset_X")
    outer = HttpRequest("POST", "http://127.0.0.1:10002/devstoreaccount1/$batch")
    outer.set_multipart_mixed(changeset, policies=policies, enforce_https=False, boundary="batch_Y")
    outer.prepare_multipart_body()
    assert batch_codec.encode(batch.requests, "batch_Y", "changeset_X") == outer.content
    assert outer.headers["Content-Type"] == "multipart/mixed; boundary=batch_Y"


def test_the_fast_path_is_on_for_the_locked_sdk_versions() -> None:
    assert batch_codec.status() is None  # (else CI would be measuring the SDK's slow path)


class _Answers:
    """Captures each batch answer's raw bytes (azure-core's ``raw_response_hook``)."""

    def __init__(self) -> None:
        self.response: Any = None  # (streamed: read once the transaction has returned)

    def __call__(self, pipeline_response: Any) -> None:
        if pipeline_response.http_request.url.endswith("$batch"):
            self.response = pipeline_response.http_response

    @property
    def last(self) -> tuple[bytes, str]:
        return self.response.body(), self.response.content_type


async def _outcome(table: Any, operations: list[tuple[Any, ...]]) -> tuple[str, Any]:
    try:
        return "ok", await table.submit_transaction(operations)
    except HttpResponseError as exc:  # (each answer names its own request id and time)
        def same(text: str) -> str:
            return re.sub(r"(RequestId:|Time:)[-0-9a-fT:.Z]+", r"\1*", text)

        return type(exc).__name__, (exc.status_code, exc.error_code, same(exc.message), same(str(exc)))


async def test_answers_read_as_the_sdk_reads_them(azurite: str) -> None:
    answers = _Answers()
    name = "codec" + uuid.uuid4().hex[:8]
    async with TableServiceClient.from_connection_string(azurite, raw_response_hook=answers) as service:
        table = await service.create_table_if_not_exists(name)
        fast = service.get_table_client(name)
        assert batch_codec.install(fast, True) and not batch_codec.install(table, False)
        try:
            row = {"PartitionKey": "p", "RowKey": "a", "V": "1"}
            cases = {
                "success": [("upsert", row, {"mode": UpdateMode.REPLACE}), ("upsert", {**row, "RowKey": "b"}),
                            ("create", {**row, "RowKey": "c"})],
                "exists": [("create", row)],
                "stale etag": [("update", row, {"mode": UpdateMode.REPLACE,
                                                "etag": 'W/"datetime\'2001-01-01T00%3A00%3A00Z\'"',
                                                "match_condition": MatchConditions.IfNotModified})],
                "missing": [("upsert", {**row, "RowKey": "d"}), ("delete", {"PartitionKey": "p", "RowKey": "nope"})],
            }
            for case, operations in cases.items():
                for target in (table, fast):  # the same request, the SDK's path then the fast one
                    if case == "success":
                        await table.delete_entity("p", "c")
                    outcome = await _outcome(target, operations)
                    if target is table:
                        expected, (body, content_type) = outcome, answers.last
                        read = batch_codec.read_success(body, content_type, len(operations))
                        assert read == (expected[1] if expected[0] == "ok" else None), case
                assert outcome[0] == expected[0], case
                if case == "success":
                    assert len(outcome[1]) == 3 and all(set(meta) == {"etag"} for meta in outcome[1])
                else:
                    assert outcome == expected, case
                    assert expected[0] == "TableTransactionError", case
        finally:
            await service.delete_table(name)


def test_an_answer_it_cannot_read_is_left_to_the_sdk() -> None:
    for body in (b"", b"--b\r\nno headers", b"--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b--\r\n"):
        with pytest.raises(batch_codec.Unreadable):
            batch_codec.read_success(body, "multipart/mixed; boundary=b", 1)
    with pytest.raises(batch_codec.Unreadable):
        batch_codec.read_success(b"", "multipart/mixed", 1)
