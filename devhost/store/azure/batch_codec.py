"""Table transactions without the ``email`` package: the same bytes on the wire, a fraction of the CPU.

``TableClient.submit_transaction`` (azure-data-tables) builds its ``multipart/mixed`` body with
``email.message.Message`` + ``email.generator`` and parses the answer with ``email.parser``:
measured on Azurite, a two-operation transaction cost this process 5.7-6.7 ms of CPU against
1.3 ms for a single upsert, and an episode commits one transaction, an activity result another.
``fast_batch_send`` replaces the client's ``_batch_send`` (per client instance, never the class):

* the request body is written directly, byte-identical to what azure-core's
  ``_prepare_multipart_body_helper`` generates for the same sub-requests and boundaries (each
  sub-request still gets ``StorageHeadersPolicy`` and azure-core's own ``serialize()``);
* an answer whose every part succeeded is split on its boundaries and read with
  ``http.client`` (as azure-core does per part); the result is the same ``[{"etag": ...}]``;
* anything else (a failed operation, a part it cannot read) goes through the SDK's own parsing
  of the same response, so errors are the SDK's exceptions exactly.

Installed only on the versions it was checked against and when the SDK's code it stands in for
hashes to the recorded values (``status()`` says why not); ``tests/host/store/test_batch_codec.py``
compares bodies byte for byte and parses real Azurite answers both ways. Switch:
``DEVHOST_FAST_BATCH=0``.
"""
from __future__ import annotations

import functools
import types
from http.client import HTTPResponse
from typing import Any, Sequence
from uuid import uuid4

from ... import switches
from ...switches import env_on

ENV_VAR = "DEVHOST_FAST_BATCH"
CHECKED = {"azure-data-tables": ("12.7.0",), "azure-core": ("1.41.0",)}
CRLF = b"\r\n"


def _sources() -> dict[str, Any]:
    from azure.core.utils import _pipeline_transport_rest_shared as shared
    from azure.data.tables.aio._base_client_async import AsyncTablesBaseClient

    return {"_batch_send": AsyncTablesBaseClient._batch_send,
            "_prepare_multipart_body_helper": shared._prepare_multipart_body_helper,
            "_decode_parts_helper": shared._decode_parts_helper,
            "_get_raw_parts_helper": shared._get_raw_parts_helper}


# switches.source_hash of the code checked against (switches.source_hashes(_sources()) recomputes them)
SOURCE_SHA256 = {
    "_batch_send": "be0c9aa9919c50a8",
    "_prepare_multipart_body_helper": "8d1d3a8a6e4f4cd4",
    "_decode_parts_helper": "42432e278d0b6f58",
    "_get_raw_parts_helper": "b1054b7095611e45",
}


@functools.cache
def status() -> str | None:
    """None when the fast path may be installed, else why not (the installed SDK cannot change
    under a running process)."""
    return switches.checked_code_status(CHECKED, SOURCE_SHA256, _sources)


def install(table_client: Any, enabled: bool | None = None) -> bool:
    """Give ``table_client`` (an ``aio.TableClient``) the fast ``_batch_send``; False if off."""
    if enabled is None:
        enabled = env_on(ENV_VAR)
    if not enabled or status() is not None:
        return False
    table_client._batch_send = types.MethodType(fast_batch_send, table_client)
    return True


# ---------------------------------------------------------------------------- the request
def encode(requests: Sequence[Any], batch_boundary: str, changeset_boundary: str) -> bytes:
    """The body azure-core writes for one changeset holding ``requests`` (each an ``HttpRequest``
    ready to ``serialize()``, or its serialized bytes)."""
    out = [b"--", batch_boundary.encode(), CRLF,
           b"Content-Type: multipart/mixed; boundary=", changeset_boundary.encode(), CRLF, CRLF]
    delimiter = b"--" + changeset_boundary.encode()
    for index, request in enumerate(requests):
        out += [delimiter, CRLF, b"Content-Type: application/http", CRLF,
                b"Content-Transfer-Encoding: binary", CRLF, b"Content-ID: ", str(index).encode(), CRLF, CRLF,
                request if isinstance(request, bytes) else request.serialize(), CRLF]
    out += [delimiter, b"--", CRLF, CRLF, b"--", batch_boundary.encode(), b"--", CRLF]
    return b"".join(out)


# ---------------------------------------------------------------------------- the answer
class Unreadable(ValueError):
    """The answer is not in the shape this parser knows: let the SDK read it."""


def _boundary(content_type: str) -> bytes:
    for parameter in content_type.split(";")[1:]:
        name, _, value = parameter.strip().partition("=")
        if name.lower() == "boundary" and value:
            return value.strip('"').encode()
    raise Unreadable(f"no boundary in {content_type!r}")


def _parts(body: bytes, boundary: bytes) -> list[tuple[dict[str, str], bytes]]:
    """(headers, content) of each part of a multipart body (RFC 2046: a delimiter starts a line)."""
    chunks = (CRLF + body).split(CRLF + b"--" + boundary)
    parts = []
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            return parts
        _, eol, rest = chunk.partition(CRLF)  # (the rest of the delimiter line: transport padding)
        head, sep, content = rest.partition(CRLF + CRLF)
        if not eol or not sep:
            raise Unreadable("a part without headers")
        headers = {}
        for line in head.split(CRLF):
            name, colon, value = line.decode("latin-1").partition(":")
            if not colon:
                raise Unreadable(f"bad part header {line!r}")
            headers[name.strip().lower()] = value.strip()
        parts.append((headers, content))
    raise Unreadable("no closing delimiter")


def _response_parts(body: bytes, content_type: str) -> list[bytes]:
    """The raw HTTP responses inside a batch answer (one changeset, or plain parts)."""
    responses: list[bytes] = []
    for headers, content in _parts(body, _boundary(content_type)):
        kind = headers.get("content-type", "")
        if kind.startswith("multipart/mixed"):
            responses += _response_parts(content, kind)
        elif kind.split(";")[0].strip().lower() == "application/http":
            responses.append(content)
        else:
            raise Unreadable(f"part of type {kind!r}")
    return responses


def _status_and_etag(data: bytes) -> tuple[int, str | None]:
    """Status and ETag of one part's response in the shape Azure Storage and Azurite write
    (status line, ``Name: value`` headers); ``Unreadable`` for anything else."""
    head, sep, _ = data.partition(CRLF + CRLF)
    lines = head.split(CRLF)
    version, _, rest = lines[0].partition(b" ")
    code = rest[:3]
    if not sep or version not in (b"HTTP/1.1", b"HTTP/1.0") or len(code) != 3 or not code.isdigit():
        raise Unreadable("not a plain status line")
    etags = []
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon or line[:1] in (b" ", b"\t"):
            raise Unreadable(f"header line {line!r}")
        if name.strip().lower() == b"etag":
            etags.append(value.strip().decode("latin-1"))
    if len(etags) > 1:
        raise Unreadable("more than one ETag")
    return int(code), etags[0] if etags else None


def _status_and_etag_by_http_client(data: bytes) -> tuple[int, str | None]:
    # (imported here: a private name of the checked azure-core, used only once status() allowed it)
    from azure.core.utils._pipeline_transport_rest_shared import BytesIOSocket

    response = HTTPResponse(BytesIOSocket(data))  # type: ignore[arg-type] (as azure-core reads a part)
    response.begin()
    return response.status, response.getheader("ETag")


def read_success(body: bytes, content_type: str, count: int) -> list[dict[str, Any]] | None:
    """The SDK's result for an answer whose ``count`` parts all succeeded; None otherwise. A part
    in a shape the quick reader does not know is read with ``http.client``, as azure-core does."""
    raw = _response_parts(body, content_type)
    if len(raw) != count:
        return None
    results = []
    for data in raw:
        try:
            status, etag = _status_and_etag(data)
        except Unreadable:
            status, etag = _status_and_etag_by_http_client(data)
        if not 200 <= status < 300:
            return None
        results.append({"etag": etag} if etag is not None else {})
    return results


# ---------------------------------------------------------------------------- the replacement
async def fast_batch_send(self: Any, table_name: str, *reqs: Any, **kwargs: Any) -> list[Any]:
    """``AsyncTablesBaseClient._batch_send`` (azure-data-tables 12.7.0) with the body written and,
    when every operation succeeded, the answer read without ``email``; the rest is the SDK's."""
    from azure.core.pipeline import PipelineContext, PipelineRequest
    from azure.core.rest import HttpRequest
    from azure.data.tables._error import (
        RequestTooLargeError, TableTransactionError, _decode_error, _validate_tablename_error,
    )
    from azure.data.tables._base_client import extract_batch_part_metadata
    from azure.data.tables._policies import StorageHeadersPolicy

    policies = [StorageHeadersPolicy()]
    for req in reqs:  # what the pipeline's _prepare_multipart_mixed_request does to each part
        for policy in policies:
            policy.on_request(PipelineRequest(req, PipelineContext(None)))
    changeset_boundary, batch_boundary = f"changeset_{uuid4()}", f"batch_{uuid4()}"
    request = HttpRequest(
        method="POST",
        url=f"{self.scheme}://{self._primary_hostname}/$batch",
        headers={
            "x-ms-version": self.api_version,
            "DataServiceVersion": "3.0",
            "MaxDataServiceVersion": "3.0;NetFx",
            "Content-Type": "application/json",
            "Accept": "application/json",
        },
    )
    request.set_bytes_body(encode(reqs, batch_boundary, changeset_boundary))
    request.headers["Content-Type"] = "multipart/mixed; boundary=" + batch_boundary

    response = await self._client.send_request(request, stream=True, **kwargs)
    await response.read()
    if response.status_code == 413:
        raise _decode_error(response, error_message="The transaction request was too large",
                            error_type=RequestTooLargeError)
    if response.status_code != 202:
        decoded = _decode_error(response)
        _validate_tablename_error(decoded, table_name)
        raise decoded
    try:
        results = read_success(response.body(), response.content_type or "", len(reqs))
    except (Unreadable, ValueError, OSError):
        results = None
    if results is not None:
        return results

    # A failed operation (or an answer this reader does not know): the SDK's own parsing.
    changeset = HttpRequest("POST", "")
    changeset.set_multipart_mixed(*reqs, policies=policies, boundary=changeset_boundary)
    # (send_request sends a copy: the answer refers to that one)
    response.request.set_multipart_mixed(changeset, policies=policies, enforce_https=False, boundary=batch_boundary)
    parts = []
    async for part in response.parts():
        await part.read()
        parts.append(part)
    error_parts = [p for p in parts if not 200 <= p.status_code < 300]
    if any(error_parts):
        if error_parts[0].status_code == 413:
            raise _decode_error(response, error_message="The transaction request was too large",
                                error_type=RequestTooLargeError)
        decoded = _decode_error(response=error_parts[0], error_type=TableTransactionError)
        _validate_tablename_error(decoded, table_name)
        raise decoded
    return [extract_batch_part_metadata(p) for p in parts]
