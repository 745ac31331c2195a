"""Single-entity table operations without azure-core's pipeline: the same requests, a fraction of
the CPU.

An ``aio.TableClient`` call runs some ten pipeline policies, the generated serializer and
azure-core's response wrappers around one aiohttp request: measured on Azurite, about 1.5-2 ms of
this process's CPU per request, more than Azurite itself spends answering it (issue 13, the Azure
store's throughput). ``LeanTableClient`` stands in front of the SDK's client and sends the store's
hot operations itself:

* **the same request**: method, URL, headers (``x-ms-version``, ``DataServiceVersion``,
  ``Accept``, ``Content-Type``, ``If-Match``, dates, client request id, user agent) and JSON
  body as the SDK's, built with the SDK's own helpers (``_add_entity_properties``,
  ``_prepare_key``, ``_get_match_condition``, ``_parameter_filter_substitution``) and signed
  with SharedKey exactly as its ``SharedKeyCredentialPolicy`` signs;
* **the same answer** on success, shaped by the SDK's own ``_convert_to_entity`` and
  ``_trim_service_metadata``;
* **anything else goes to the SDK**: an answer that is not a success, a transport error, or a
  call shape this module does not know (a ``select`` on ``get_entity``, ``results_per_page``,
  a ``TableEntity`` whose ETag the SDK would take...) is made again by the SDK's client with
  the same arguments. Its error decoding and retry policy then apply unchanged: the caller sees
  the SDK's exceptions exactly, after one more attempt (the SDK itself retries a request that
  failed in transport, whatever its method; a write that failed on a condition fails again).

Installed only with a shared-key credential, on the versions checked and when the SDK code it
mirrors hashes to the recorded values (``status()`` says why not). ``tests/host/store/
test_lean_tables.py`` compares its requests with the SDK's, field by field, and its answers and
errors on a real Azurite. Switch: ``DEVHOST_LEAN_TABLES=0``.
"""
from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import hmac
import json
import time
import uuid
from email.utils import parsedate_to_datetime
from types import SimpleNamespace
from typing import Any, AsyncIterable, AsyncIterator, Callable
from urllib.parse import quote, urlparse
from wsgiref.handlers import format_date_time

import aiohttp
from azure.core import MatchConditions
from azure.core.credentials import AzureNamedKeyCredential
from azure.core.exceptions import ServiceResponseError
from azure.core.pipeline.policies import UserAgentPolicy
from azure.data.tables import TableEntity, UpdateMode
from yarl import URL

from ... import switches
from ...switches import env_on
from . import batch_codec
from .gate import RequestGate

try:  # (the SDK's private helpers, used only once status() has checked their source)
    from azure.data.tables._deserialize import _convert_to_entity, _trim_service_metadata

    from . import lean_batch
    from azure.data.tables._serialize import (
        _add_entity_properties, _parameter_filter_substitution,
    )
except ImportError as missing:  # pragma: no cover - another SDK version
    _MISSING: ImportError | None = missing
else:
    _MISSING = None

ENV_VAR = "DEVHOST_LEAN_TABLES"
CHECKED = {"azure-data-tables": ("12.7.0",), "azure-core": ("1.41.0",), "aiohttp": ("3.14.5",)}
SDK_SECONDS = 300  # azure-core's default connection and read timeouts


def _sources() -> dict[str, Any]:
    from azure.core.pipeline.transport import AioHttpTransport
    from azure.core.utils import _pipeline_transport_rest_shared as shared
    from azure.data.tables import _table_batch
    from azure.data.tables import _authentication, _deserialize, _policies, _serialize
    from azure.data.tables._generated.operations import _operations as built
    from azure.data.tables.aio import TableClient

    return {
        **{f"TableClient.{name}": getattr(TableClient, name) for name in (
            "create_entity", "update_entity", "upsert_entity", "delete_entity", "get_entity",
            "query_entities", "list_entities", "submit_transaction")},
        **{name: getattr(built, f"build_table_{name}_request") for name in (
            "insert_entity", "update_entity", "merge_entity", "delete_entity",
            "query_entity_with_partition_and_row_key", "query_entities")},
        "SharedKeyCredentialPolicy": _authentication.SharedKeyCredentialPolicy,
        "StorageHeadersPolicy": _policies.StorageHeadersPolicy,
        "_add_entity_properties": _serialize._add_entity_properties,
        "_prepare_key": _serialize._prepare_key,
        "_get_match_condition": _serialize._get_match_condition,
        "_parameter_filter_substitution": _serialize._parameter_filter_substitution,
        "_convert_to_entity": _deserialize._convert_to_entity,
        "_trim_service_metadata": _deserialize._trim_service_metadata,
        "AioHttpTransport.send": AioHttpTransport.send,
        "TableBatchOperations": _table_batch.TableBatchOperations,
        "_serialize_request": shared._serialize_request,
        "_HTTPSerializer": shared._HTTPSerializer,
    }


# switches.source_hash of the code checked against (switches.source_hashes(_sources()) recomputes them)
SOURCE_SHA256 = {
    "TableClient.create_entity": "1fee1cf3544d6b77",
    "TableClient.update_entity": "43cb76ff5bd7261f",
    "TableClient.upsert_entity": "a2410456138f8d21",
    "TableClient.delete_entity": "044ce0b216fca035",
    "TableClient.get_entity": "75f465e57970946b",
    "TableClient.query_entities": "edec9f5568bd1017",
    "TableClient.list_entities": "0e76ad5351458e51",
    "TableClient.submit_transaction": "5319c7c4f999c7d3",
    "insert_entity": "125bb8062cfcaa37",
    "update_entity": "96ea706c0322943d",
    "merge_entity": "c6dc5eef028ad1ff",
    "delete_entity": "bf349aaf5eb09054",
    "query_entity_with_partition_and_row_key": "a7b96050d6854aa6",
    "query_entities": "d7f11b2a28a3e939",
    "SharedKeyCredentialPolicy": "bb31fb0e71e758d3",
    "StorageHeadersPolicy": "8d5bad2afb02ee45",
    "_add_entity_properties": "5481c2852789faf1",
    "_prepare_key": "66ac711605f0fb66",
    "_get_match_condition": "3f2c63e2308d6e8c",
    "_parameter_filter_substitution": "a6bb0411e512cbab",
    "_convert_to_entity": "dec8b0708f57bed9",
    "_trim_service_metadata": "72aafff33ebac605",
    "AioHttpTransport.send": "c20b10dfc469b067",
    "TableBatchOperations": "340405d491747b47",
    "_serialize_request": "8431f9c888293017",
    "_HTTPSerializer": "58e04117d27874fc",
}


@functools.cache
def status() -> str | None:
    """None when the lean client may be used, else why not."""
    if _MISSING is not None:
        return f"the SDK's helpers are missing: {_MISSING}"
    return switches.checked_code_status(CHECKED, SOURCE_SHA256, _sources)


class LeanAccount:
    """The HTTP session and SharedKey signing shared by the lean clients of one store."""

    def __init__(self, *, gate: RequestGate, trust_env: bool,
                 request_hook: Callable[[Any], None] | None = None) -> None:
        self._gate = gate
        self._trust_env = trust_env
        self._hook = request_hook
        self._session: aiohttp.ClientSession | None = None
        self._timeout = aiohttp.ClientTimeout(sock_connect=SDK_SECONDS, sock_read=SDK_SECONDS)

    def client(self, sdk_client: Any, enabled: bool | None = None, *, transactions: bool = False) -> Any:
        """``sdk_client`` fronted by a ``LeanTableClient``, or itself when the lean path is off;
        ``transactions``: send its transactions too (when batch_codec's fast path is on for it,
        whose body and answer reader they use)."""
        if enabled is None:
            enabled = env_on(ENV_VAR)
        if (not enabled or status() is not None or sdk_client._cosmos_endpoint
                or not isinstance(sdk_client.credential, AzureNamedKeyCredential)):
            return sdk_client
        return LeanTableClient(sdk_client, self, transactions)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(self, method: str, url: str, headers: dict[str, str], body: bytes | None,
                   key: Any) -> tuple[int, Any, bytes] | None:
        """(status, headers, body) of the answer; None if the request failed in transport."""
        date = format_date_time(time.time())
        headers["x-ms-client-request-id"] = str(uuid.uuid1())
        headers["x-ms-date"] = date
        headers["Date"] = date
        headers["User-Agent"] = key.user_agent
        path = str(URL(urlparse(url).path))  # (as the SDK's policy canonicalizes for an async transport)
        to_sign = (f"{method}\n\n{headers.get('Content-Type', '')}\n{date}\n"
                   f"/{key.account}{path}")
        digest = hmac.new(key.secret, to_sign.encode("utf-8"), hashlib.sha256).digest()
        headers["Authorization"] = f"SharedKey {key.account}:{base64.b64encode(digest).decode('utf-8')}"
        if self._hook is not None:
            self._hook(SimpleNamespace(http_request=SimpleNamespace(method=method, url=url, headers=headers,
                                                                    body=body)))
        if self._session is None:
            self._session = aiohttp.ClientSession(trust_env=self._trust_env, cookie_jar=aiohttp.DummyCookieJar())
        try:
            async with self._gate.admit():
                return await self._request(method, url, headers, body)
        except (aiohttp.ClientError, OSError, asyncio.TimeoutError):
            return None

    async def _request(self, method: str, url: str, headers: dict[str, str],
                       body: bytes | None) -> tuple[int, Any, bytes]:
        assert self._session is not None
        skip = () if body else ("Content-Type",)
        async with self._session.request(method, url, headers=headers, data=body, timeout=self._timeout,
                                         allow_redirects=False, skip_auto_headers=skip) as response:
            return response.status, response.headers, await response.read()


def _metadata(headers: Any, content: Any = None) -> dict[str, Any]:
    """What the SDK returns for a write: ``_trim_service_metadata`` of the answer's headers."""
    date = headers.get("Date")
    metadata = {"date": parsedate_to_datetime(date) if date else None, "etag": headers.get("ETag"),
                "version": headers.get("x-ms-version"), "preference_applied": headers.get("Preference-Applied")}
    return _trim_service_metadata(metadata, content=content)


def _user_agent(sdk_client: Any) -> str:
    """The User-Agent the client's pipeline sends (its ``UserAgentPolicy``, SDK moniker and all)."""
    return next(policy.user_agent for policy in sdk_client._policies if isinstance(policy, UserAgentPolicy))


class LeanTableClient:
    """An ``aio.TableClient`` whose hot single-entity operations skip the pipeline (module doc)."""

    def __init__(self, sdk_client: Any, account: LeanAccount, transactions: bool = False) -> None:
        named_key = sdk_client.credential.named_key
        self._sdk = sdk_client
        self._account = account
        self._transactions = transactions
        self._endpoint = sdk_client._client._config.url.rstrip("/")
        self._batch_base = f"{sdk_client.scheme}://{sdk_client._primary_hostname}"  # (as the SDK's transactions)
        self._key = SimpleNamespace(account=named_key.name, secret=base64.b64decode(named_key.key),
                                    user_agent=_user_agent(sdk_client),
                                    version=sdk_client._client._config.version)
        self.table_name: str = sdk_client.table_name

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sdk, name)

    def _headers(self, accept: str, content_type: str | None = None) -> dict[str, str]:
        headers = {"x-ms-version": self._key.version, "DataServiceVersion": "3.0", "Accept": accept}
        if content_type is not None:
            return {"Content-Type": content_type, **headers}
        return headers

    async def _send(self, method: str, path: str, headers: dict[str, str], body: Any = None,
                    ok: tuple[int, ...] = (200,)) -> tuple[Any, bytes] | None:
        data = None
        if body is not None:  # (Content-Type first, then Content-Length, as the SDK's request has them)
            data = json.dumps(body).encode("utf-8")
            headers = {"Content-Type": headers["Content-Type"], "Content-Length": str(len(data)), **headers}
        answer = await self._account.send(method, self._endpoint + path, headers, data, self._key)
        if answer is None or answer[0] not in ok:
            return None
        return answer[1], answer[2]

    # ------------------------------------------------------------------ writes
    async def create_entity(self, entity: Any, **kwargs: Any) -> Any:
        if kwargs:
            return await self._sdk.create_entity(entity, **kwargs)
        body = _add_entity_properties(entity)
        answer = await self._send("POST", f"/{quote(self.table_name, safe='')}",
                                  self._headers("application/json;odata=minimalmetadata",
                                                "application/json;odata=nometadata"), body, ok=(201, 204))
        if answer is None:
            return await self._sdk.create_entity(entity)
        headers, content = answer
        return _metadata(headers, json.loads(content) if content else None)

    async def upsert_entity(self, entity: Any, mode: Any = UpdateMode.MERGE, **kwargs: Any) -> Any:
        if kwargs or mode not in (UpdateMode.MERGE, UpdateMode.REPLACE):
            return await self._sdk.upsert_entity(entity, mode, **kwargs)
        return await self._write(entity, mode, None, self._sdk.upsert_entity, {})

    async def update_entity(self, entity: Any, mode: Any = UpdateMode.MERGE, *, etag: str | None = None,
                            match_condition: MatchConditions | None = None, **kwargs: Any) -> Any:
        if kwargs or mode not in (UpdateMode.MERGE, UpdateMode.REPLACE) or isinstance(entity, TableEntity):
            return await self._sdk.update_entity(entity, mode, etag=etag, match_condition=match_condition, **kwargs)
        return await self._write(entity, mode, lean_batch.if_match(etag, match_condition), self._sdk.update_entity,
                                 {"etag": etag, "match_condition": match_condition})

    async def _write(self, entity: Any, mode: Any, if_match: str | None,
                     sdk_call: Callable[..., Any], sdk_kwargs: dict[str, Any]) -> Any:
        body = _add_entity_properties(entity)
        headers = self._headers("application/json", "application/json")
        if if_match is not None:
            headers["If-Match"] = if_match
        method = "PUT" if mode == UpdateMode.REPLACE else "PATCH"
        path = lean_batch.key_path(self.table_name, entity["PartitionKey"], entity["RowKey"])
        answer = await self._send(method, path, headers, body, ok=(204,))
        if answer is None:
            return await sdk_call(entity, mode, **sdk_kwargs)
        return _metadata(answer[0])

    async def delete_entity(self, *args: Any, **kwargs: Any) -> None:
        if len(args) != 2 or not all(isinstance(a, str) for a in args) or set(kwargs) - {"etag", "match_condition"}:
            return await self._sdk.delete_entity(*args, **kwargs)
        headers = self._headers("application/json;odata=minimalmetadata")
        headers["If-Match"] = lean_batch.if_match(kwargs.get("etag"), kwargs.get("match_condition"))
        answer = await self._send("DELETE", lean_batch.key_path(self.table_name, *args), headers, ok=(204, 404))
        if answer is None:
            return await self._sdk.delete_entity(*args, **kwargs)
        return None  # (the SDK answers a missing entity with None as well)

    async def submit_transaction(self, operations: Any, **kwargs: Any) -> Any:
        """Sub-requests written by lean_batch in batch_codec's body. An answer whose every
        operation succeeded is read here; anything else is the SDK's to make again: a transaction
        that failed changed nothing, so it fails the same way, and a transport error is one the
        SDK's retry policy would have retried (``TableBatchOperations`` builds the same bytes)."""
        if kwargs or not self._transactions or isinstance(operations, AsyncIterable):
            return await self._sdk.submit_transaction(operations, **kwargs)
        sdk = self._sdk
        operations = list(operations)
        date = format_date_time(time.time())
        parts = lean_batch.sub_requests(self._batch_base, self.table_name, self._key.version, operations, date)
        if parts is None:
            return await sdk.submit_transaction(operations)
        boundary = f"batch_{uuid.uuid4()}"
        body = batch_codec.encode(parts, boundary, f"changeset_{uuid.uuid4()}")
        headers = {"x-ms-version": self._key.version, "DataServiceVersion": "3.0", "MaxDataServiceVersion": "3.0;NetFx",
                   "Content-Type": "multipart/mixed; boundary=" + boundary, "Accept": "application/json",
                   "Content-Length": str(len(body))}
        answer = await self._account.send("POST", f"{self._batch_base}/$batch", headers, body, self._key)
        if answer is None or answer[0] != 202:
            return await sdk.submit_transaction(operations)
        try:
            results = batch_codec.read_success(answer[2], answer[1].get("Content-Type", ""), len(parts))
        except (batch_codec.Unreadable, ValueError, OSError) as exc:
            # Never made again: it may have been applied. (Azure Storage and Azurite answer in
            # the one shape read_success reads; this is the SDK's error for an unreadable answer.)
            raise ServiceResponseError(f"the answer to a transaction on {self.table_name} could not be read: "
                                       f"{exc}", error=exc) from exc
        if results is None:
            return await sdk.submit_transaction(operations)
        return results

    # ------------------------------------------------------------------ reads
    async def get_entity(self, partition_key: str, row_key: str, **kwargs: Any) -> Any:
        if kwargs:
            return await self._sdk.get_entity(partition_key, row_key, **kwargs)
        answer = await self._send("GET", lean_batch.key_path(self.table_name, partition_key, row_key),
                                  self._headers("application/json;odata=minimalmetadata"))
        if answer is None:
            return await self._sdk.get_entity(partition_key, row_key)
        return _convert_to_entity(json.loads(answer[1]))

    def query_entities(self, query_filter: str, **kwargs: Any) -> Any:
        if set(kwargs) - {"parameters", "select"}:
            return self._sdk.query_entities(query_filter, **kwargs)
        return self._query(_parameter_filter_substitution(kwargs.get("parameters"), query_filter),
                           kwargs.get("select"), lambda: self._sdk.query_entities(query_filter, **kwargs))

    def list_entities(self, **kwargs: Any) -> Any:
        if set(kwargs) - {"select"}:
            return self._sdk.list_entities(**kwargs)
        return self._query(None, kwargs.get("select"), lambda: self._sdk.list_entities(**kwargs))

    async def _query(self, query_filter: str | None, select: Any, sdk_pager: Callable[[], Any]) -> AsyncIterator[Any]:
        """Every page of the query, following the continuation headers as the SDK's pager does; a
        page that fails is asked again of the SDK's pager, from that page's continuation on."""
        if select and not isinstance(select, str):
            select = ",".join(select)
        base = [f"$select={quote(select, safe='')}"] if select else []
        if query_filter is not None:
            base.append(f"$filter={quote(query_filter, safe='')}")
        token: dict[str, str] = {}
        while True:
            query = "&".join([*base, *(f"Next{key}={quote(value, safe='')}" for key, value in token.items())])
            answer = await self._send("GET", f"/{quote(self.table_name, safe='')}()" + (f"?{query}" if query else ""),
                                      self._headers("application/json;odata=minimalmetadata"))
            if answer is None:
                async for page in sdk_pager().by_page(continuation_token=token or None):
                    async for row in page:
                        yield row
                return
            headers, content = answer
            for row in json.loads(content)["value"]:
                yield _convert_to_entity(row)
            token = {key: value for key in ("PartitionKey", "RowKey")
                     if (value := headers.get(f"x-ms-continuation-Next{key}"))}
            if not token:
                return
