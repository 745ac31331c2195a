"""``context.call_http``'s built-in activity (``BuiltIn::HttpActivity``), run as the Durable
extension's ``TaskHttpActivityShim`` runs it (src/WebJobs.Extensions.DurableTask/ in
Azure/azure-functions-durable-extension; tests/host/test_call_http_fidelity.py):

- the request (``ConvertToHttpRequestMessage``, TaskHttpActivityShim.cs:107-161): ``Content-Type``
  taken out of the headers (multipart refused), content as a UTF-8 ``StringContent`` typed
  ``text/plain`` unless given, the token source's bearer token; the client's ``User-Agent``, its
  240 s timeout and a plain ``HttpClientHandler`` (no ``Accept-Encoding``, no decompression)
  (DurableHttpClientFactory.cs:16-32);
- the answer (``DurableHttpResponse.cs``:61-83, ``HttpHeadersConverter.cs``:63-88): status as a
  number, ``HttpResponseMessage.Headers`` only (no content headers), one value a string, several
  an array; any status is a result, 202 included (SDK 1.x never asks for the 202 polling);
- failures: an ``HttpRequestException`` fails the task with its message (.NET's on Linux, where
  Python apps run); anything else (the client's timeout, a refused header, the token) fails it
  as DTFx's ``TaskActivityDispatcher`` reports an unhandled exception.
"""
from __future__ import annotations

import asyncio
import json
import os
import re
import socket
from typing import Any

from .invoke import ActivityOutcome

#: ``durableHttpClient.Timeout = TimeSpan.FromSeconds(240)`` (DurableHttpClientFactory.cs:21).
HTTP_TIMEOUT_SECONDS: float = 240
#: ``ProductInfoHeaderValue(assembly name, file version)`` (DurableHttpClientFactory.cs:26-28);
#: the extension's version as of the source this host follows (WebJobs.Extensions.DurableTask.csproj).
USER_AGENT = "Microsoft.Azure.WebJobs.Extensions.DurableTask/2.13.7"

# .NET's HttpContentHeaders: not in HttpResponseMessage.Headers, and refused by
# HttpRequestMessage.Headers.Add, as are the response-only headers.
_CONTENT_HEADERS = frozenset({
    "allow", "content-disposition", "content-encoding", "content-language", "content-length",
    "content-location", "content-md5", "content-range", "content-type", "expires", "last-modified"})
_RESPONSE_HEADERS = frozenset({
    "accept-ranges", "age", "etag", "location", "proxy-authenticate", "retry-after", "server",
    "vary", "www-authenticate"})
_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_MEDIA_TYPE = re.compile(rf"{_TOKEN}[ \t]*/[ \t]*{_TOKEN}")


class _DotNetError(Exception):
    """An exception as .NET would throw it: its type name and message."""

    def __init__(self, type_name: str, message: str) -> None:
        super().__init__(message)
        self.type_name = type_name
        self.message = message


async def get_token(scope: str) -> str:
    """``ManagedIdentityTokenSource.GetTokenAsync`` (ManagedIdentityTokenSource.cs:55-79):
    ``DefaultAzureCredential`` for the one scope. Without azure-identity the call fails: the
    request is never sent without its token."""
    try:
        from azure.identity.aio import DefaultAzureCredential
    except ImportError:
        raise _DotNetError(
            "System.InvalidOperationException",
            "call_http with a ManagedIdentityTokenSource needs a token from DefaultAzureCredential, "
            "as on Azure; install the azure-identity package (and sign in, e.g. `az login`).") from None
    async with DefaultAzureCredential() as credential:
        return (await credential.get_token(scope)).token


def _scope(resource: str) -> str:
    """ManagedIdentityTokenSource.cs:31-38: ARM's and Graph's resource become ``/.default``."""
    if resource in ("https://management.core.windows.net", "https://management.core.windows.net/"):
        return "https://management.core.windows.net/.default"
    if resource in ("https://graph.microsoft.com", "https://graph.microsoft.com/"):
        return "https://graph.microsoft.com/.default"
    return resource


def _values(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


async def _request_message(request: dict[str, Any]) -> tuple[str, str, list[tuple[str, str]], bytes | None]:
    """``ConvertToHttpRequestMessage`` (TaskHttpActivityShim.cs:107-161), then what
    ``HttpClient.SendAsync`` checks before sending."""
    from yarl import URL

    uri = str(request.get("uri") or "")
    url = URL(uri)
    if not url.is_absolute():
        raise _DotNetError("System.InvalidOperationException",
                           "An invalid request URI was provided. Either the request URI must be an "
                           "absolute URI or BaseAddress must be set.")
    if url.scheme.lower() not in ("http", "https"):
        raise _DotNetError("System.NotSupportedException", f"The '{url.scheme}' scheme is not supported.")
    content_type = ""
    headers: list[tuple[str, str]] = []
    for name, value in (request.get("headers") or {}).items():
        if name.lower() == "content-type":
            for v in _values(value):
                if "multipart" in v:
                    raise _DotNetError("Microsoft.Azure.WebJobs.FunctionFailedException",
                                       "Multipart content is not supported with CallHttpAsync.")
                content_type = v
        elif name.lower() in _CONTENT_HEADERS or name.lower() in _RESPONSE_HEADERS:
            raise _DotNetError(
                "System.InvalidOperationException",
                f"Misused header name, '{name}'. Make sure request headers are used with HttpRequestMessage, "
                "response headers with HttpResponseMessage, and content headers with HttpContent objects.")
        else:
            headers.extend((name, v) for v in _values(value))
    body: bytes | None = None
    content = request.get("content")
    if content is not None:
        content_type = content_type or "text/plain"
        if content_type.lower() == "application/x-www-form-urlencoded":
            content_type += "; charset=utf-8"  # StringContent(content, Encoding.UTF8, contentType)
        elif not _MEDIA_TYPE.fullmatch(content_type):  # new MediaTypeHeaderValue(contentType)
            raise _DotNetError("System.FormatException", f"The format of value '{content_type}' is invalid.")
        headers.append(("Content-Type", content_type))
        body = str(content).encode("utf-8")
    token_source = request.get("tokenSource")
    if token_source is not None:
        kind = token_source.get("kind") if isinstance(token_source, dict) else None
        if kind != "AzureManagedIdentity":  # DurableHttpRequest.cs TokenSourceConverter
            raise _DotNetError("System.NotSupportedException",
                               f"The token source kind '{json.dumps(kind)}' is not supported.")
        token = await get_token(_scope(str(token_source.get("resource"))))
        headers = [(k, v) for k, v in headers if k.lower() != "authorization"]
        headers.append(("Authorization", f"Bearer {token}"))
    if not any(k.lower() == "user-agent" for k, _ in headers):  # DefaultRequestHeaders fill in
        headers.append(("User-Agent", USER_AGENT))
    return str(request.get("method") or "GET"), uri, headers, body


def _read_string(raw: bytes, content_type: str | None) -> str:
    """``HttpContent.ReadAsStringAsync``: a byte order mark wins, then the charset, then UTF-8;
    bad bytes become U+FFFD."""
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if raw.startswith(bom):
            return raw[len(bom):].decode(codec, errors="replace")
    charset = None
    if content_type:
        match = re.search(r";\s*charset\s*=\s*\"?([^\";\s]+)", content_type, re.IGNORECASE)
        charset = match.group(1) if match else None
    try:
        return raw.decode(charset or "utf-8", errors="replace")
    except LookupError:
        return raw.decode("utf-8", errors="replace")


def _response_headers(items: Any) -> dict[str, str | list[str]]:
    """``CreateStringValuesHeaderDictionary(httpResponseMessage.Headers)`` written by
    ``HttpHeadersConverter``: names case-insensitive (the first spelling kept), content headers
    left out, one value a string, several an array."""
    grouped: dict[str, tuple[str, list[str]]] = {}
    for name, value in items:
        if name.lower() in _CONTENT_HEADERS:
            continue
        grouped.setdefault(name.lower(), (name, []))[1].append(value)
    return {name: values[0] if len(values) == 1 else values for name, values in grouped.values()}


def _http_request_exception(exc: BaseException) -> _DotNetError:
    """The ``HttpRequestException`` .NET's SocketsHttpHandler throws for what aiohttp raised."""
    import aiohttp

    if isinstance(exc, (aiohttp.ClientSSLError, aiohttp.ServerFingerprintMismatch)):
        message = "The SSL connection could not be established, see inner exception."
    elif isinstance(exc, aiohttp.ClientConnectorError):
        os_error = exc.os_error
        if isinstance(os_error, socket.gaierror):
            reason = os_error.strerror or str(os_error)
        elif os_error.errno:
            reason = os.strerror(os_error.errno)
        else:
            reason = str(os_error)
        message = f"{reason} ({exc.host}:{exc.port})"  # HttpConnectionPool: "{error.Message} ({host}:{port})"
    else:
        message = "An error occurred while sending the request."
    return _DotNetError("System.Net.Http.HttpRequestException", message)


def _failure(exc: _DotNetError, handled: bool) -> ActivityOutcome:
    """``handled``: TaskHttpActivityShim.cs:91-95, ``TaskFailureException(ex.Message, ex,
    Utils.SerializeCause(ex, ...))`` (the serialized exception, reduced here to its type and
    message); otherwise DTFx ``TaskActivityDispatcher``: ``e.Message`` and ``"Unhandled exception
    while executing task: {e}"``."""
    if handled:
        assembly = exc.type_name.rsplit(".", 1)[0]
        details = json.dumps({"$type": f"{exc.type_name}, {assembly}", "ClassName": exc.type_name,
                              "Message": exc.message})
    else:
        details = f"Unhandled exception while executing task: {exc.type_name}: {exc.message}"
    return ActivityOutcome(ok=False, reason=exc.message, details=details)


async def run_http_activity(request: dict[str, Any]) -> ActivityOutcome:
    """One request, as ``TaskHttpActivityShim.RunAsync`` (TaskHttpActivityShim.cs:39-96) sends it."""
    import aiohttp

    try:
        method, uri, headers, body = await _request_message(request)
    except _DotNetError as exc:
        return _failure(exc, handled=False)
    except Exception as exc:  # the credential's own errors
        return _failure(_DotNetError(type(exc).__name__, str(exc)), handled=False)
    timeout = HTTP_TIMEOUT_SECONDS
    try:
        async with aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=timeout), auto_decompress=False,
                skip_auto_headers=("Accept", "Accept-Encoding", "User-Agent", "Content-Type")) as session:
            async with session.request(method, uri, data=body, headers=headers, max_redirects=50) as response:
                raw = await response.read()
                payload = {"statusCode": response.status,
                           "headers": _response_headers(response.headers.items()),
                           "content": _read_string(raw, response.headers.get("Content-Type"))}
        return ActivityOutcome(ok=True, result=json.dumps(payload))
    except asyncio.TimeoutError:  # HttpClient.Timeout: a TaskCanceledException, not caught by the shim
        return _failure(_DotNetError(
            "System.Threading.Tasks.TaskCanceledException",
            f"The request was canceled due to the configured HttpClient.Timeout of {timeout:g} seconds elapsing."),
            handled=False)
    except aiohttp.ClientError as exc:
        return _failure(_http_request_exception(exc), handled=True)
    except Exception as exc:
        return _failure(_DotNetError(type(exc).__name__, str(exc)), handled=False)
