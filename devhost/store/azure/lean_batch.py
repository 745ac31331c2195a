"""A table transaction's sub-requests written directly: the bytes ``TableBatchOperations`` and
azure-core's ``HttpRequest.serialize()`` write for them, without building an ``HttpRequest`` per
operation (an episode's commit is one transaction of a few operations; building them through the
generated request builders cost more CPU than sending the whole transaction).

``sub_requests`` knows the operation shapes the store uses (``create``, ``upsert`` with a mode,
``update`` with a mode and an optional ETag condition, ``delete`` with an optional ETag
condition, on plain dicts) and answers None for anything else, or for anything the SDK would
refuse (partition keys that differ, a missing key, a property it cannot serialize, a condition
without an ETag): the caller then lets the SDK make the transaction, so the SDK raises its own
error. ``tests/host/store/test_lean_tables.py`` compares the bytes with the SDK's for every shape.
"""
from __future__ import annotations

import json
from typing import Any, Sequence
from urllib.parse import quote

from azure.core import MatchConditions
from azure.data.tables import TableEntity, UpdateMode
# (private helpers of the SDK: lean_tables imports this module only where they exist, and uses it
# only once its status() has checked their source)
from azure.data.tables._serialize import _add_entity_properties, _get_match_condition, _prepare_key

_KWARGS = {"create": frozenset(), "upsert": frozenset({"mode"}),
           "update": frozenset({"mode", "etag", "match_condition"}), "delete": frozenset({"etag", "match_condition"})}


def key_path(table: str, partition_key: str, row_key: str) -> str:
    """``/<table>(PartitionKey='..',RowKey='..')`` as the SDK writes an entity's path."""
    return (f"/{quote(table, safe='')}(PartitionKey='{quote(_prepare_key(partition_key), safe='')}',"
            f"RowKey='{quote(_prepare_key(row_key), safe='')}')")


def if_match(etag: str | None, match_condition: MatchConditions | None) -> str:
    """The ``If-Match`` the SDK sends for a conditional write or delete (its ``ValueError`` for a
    condition it refuses): the ETag for ``IfNotModified``, else ``*``."""
    condition = _get_match_condition(etag=etag, match_condition=match_condition or MatchConditions.Unconditionally)
    return etag if condition == MatchConditions.IfNotModified else "*"  # type: ignore[return-value]


def _line(name: str, value: str) -> str:
    return f"{name}: {value}\r\n"


def sub_requests(base_url: str, table: str, version: str, operations: Sequence[Any], date: str) -> list[bytes] | None:
    """The serialized sub-request of each operation (``date``: their ``x-ms-date``/``Date``), or
    None when the SDK should make this transaction."""
    partition_key = None
    out = []
    for operation in operations:
        if not isinstance(operation, tuple) or len(operation) not in (2, 3):
            return None
        kind, entity = operation[0], operation[1]
        kwargs = operation[2] if len(operation) == 3 else {}
        if (not isinstance(kind, str) or kind.lower() not in _KWARGS or not isinstance(kwargs, dict)
                or set(kwargs) - _KWARGS[kind.lower()] or not isinstance(entity, dict)
                or isinstance(entity, TableEntity)):
            return None
        kind = kind.lower()
        if "PartitionKey" not in entity or "RowKey" not in entity:
            return None
        if partition_key is None:
            partition_key = entity["PartitionKey"]
        elif entity["PartitionKey"] != partition_key:
            return None
        try:
            written = _sub_request(base_url, table, version, kind, entity, kwargs, date)
        except (TypeError, ValueError, AttributeError):
            return None
        if written is None:
            return None
        out.append(written)
    return out or None


def _sub_request(base_url: str, table: str, version: str, kind: str, entity: dict[str, Any],
                 kwargs: dict[str, Any], date: str) -> bytes | None:
    keyed = base_url + key_path(table, entity["PartitionKey"], entity["RowKey"])
    if kind == "delete":
        head = [f"DELETE {keyed} HTTP/1.1\r\n", _line("x-ms-version", version), _line("DataServiceVersion", "3.0"),
                _line("Accept", "application/json;odata=minimalmetadata"),
                _line("If-Match", if_match(kwargs.get("etag"), kwargs.get("match_condition")))]
        body = ""
    else:
        body = json.dumps(_add_entity_properties(entity))
        if kind == "create":
            request_line = f"POST {base_url}/{quote(table, safe='')} HTTP/1.1\r\n"
            accept = "application/json;odata=minimalmetadata"
        else:
            mode = kwargs.get("mode", UpdateMode.MERGE)
            if mode == UpdateMode.REPLACE:
                method = "PUT"
            elif mode == UpdateMode.MERGE:
                method = "PATCH"
            else:
                return None
            request_line, accept = f"{method} {keyed} HTTP/1.1\r\n", "application/json"
        head = [request_line, _line("Content-Type", "application/json"), _line("Content-Length", str(len(body))),
                _line("x-ms-version", version), _line("DataServiceVersion", "3.0"), _line("Accept", accept)]
        if kind == "update":
            head.append(_line("If-Match", if_match(kwargs.get("etag"), kwargs.get("match_condition"))))
    head += [_line("x-ms-date", date), _line("Date", date), "\r\n", body]
    return "".join(head).encode("latin-1")
