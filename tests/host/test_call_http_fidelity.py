"""``context.call_http`` as the extension's built-in ``BuiltIn::HttpActivity`` runs it.

Sources (Azure/azure-functions-durable-extension, src/WebJobs.Extensions.DurableTask/):
- ``Listener/TaskHttpActivityShim.cs``: ``RunAsync`` (lines 39-96) sends the request and
  serializes a ``DurableHttpResponse``; only an ``HttpRequestException`` becomes a
  ``TaskFailureException(ex.Message, ...)`` (91-95); ``ConvertToHttpRequestMessage`` (107-161)
  builds the request: ``Content-Type`` taken out of the headers (multipart refused), the content a
  ``StringContent`` typed ``text/plain`` by default, the token source's bearer token.
- ``DurableHttpClientFactory.cs`` (16-32): one ``HttpClient``, ``Timeout`` 240 s, the
  extension's ``User-Agent``, on a plain ``HttpClientHandler`` (``DurableHttpMessageHandlerFactory.cs``).
- ``DurableHttpResponse.cs`` (61-83): headers from ``HttpResponseMessage.Headers`` only (the
  content headers live on ``Content.Headers``), every value of a name kept;
  ``HttpHeadersConverter.cs`` (63-88) writes one value as a string, several as an array.
- ``ManagedIdentityTokenSource.cs`` (26-79): the token comes from ``DefaultAzureCredential``.
DTFx ``TaskActivityDispatcher.cs``: any other exception from the activity is a TaskFailed with
``e.Message`` and ``"Unhandled exception while executing task: {e}"``. The Python SDK raises
``Exception(f"{Reason} \\n {Details}")`` (``TaskOrchestrationExecutor.set_task_value``) and returns
the JSON of a success as a dict.
"""
from __future__ import annotations

import socket

import pytest
from aiohttp import web

from devhost import http_activity
from tests.host.http_target import serving


class Target:
    """A local endpoint: records each request, answers with ``self.respond``."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, str], bytes]] = []
        self.respond = lambda: web.Response(text="ok")
        self.url = ""

    async def handler(self, request: web.Request) -> web.StreamResponse:
        self.seen.append((request.method, dict(request.headers), await request.read()))
        return self.respond()


@pytest.fixture
async def target():
    t = Target()
    async with serving(t.handler) as t.url:
        yield t


async def probe(env, **spec) -> dict:
    instance_id = await env.start("http_probe", spec)
    status = await env.wait(instance_id)
    assert status["runtimeStatus"] == "Completed", status
    return status["output"]


async def test_response_headers_are_the_response_headers_only_with_every_value(env, target):
    """``CreateStringValuesHeaderDictionary(httpResponseMessage.Headers)``: Content-Type and
    Content-Length are content headers in .NET, not in ``HttpResponseMessage.Headers``; two
    Set-Cookie lines stay two values, written as an array (``HttpHeadersConverter.WriteJson``)."""
    def respond():
        response = web.Response(text='{"x": 1}', content_type="application/json", status=404,
                                headers={"X-One": "1"})
        response.headers.add("Set-Cookie", "a=1")
        response.headers.add("Set-Cookie", "b=2")
        return response
    target.respond = respond
    out = await probe(env, uri=target.url)
    response = out["response"]
    assert response["statusCode"] == 404  # a 4xx is a response, not a failure
    assert response["content"] == '{"x": 1}'
    headers = {k.lower(): v for k, v in response["headers"].items()}
    assert "content-type" not in headers and "content-length" not in headers
    assert headers["x-one"] == "1"
    assert headers["set-cookie"] == ["a=1", "b=2"]


async def test_request_headers_and_content_as_the_extension_sends_them(env, target):
    """The SDK's JSON content goes as ``StringContent`` typed ``text/plain`` (no charset); the
    client's ``User-Agent`` is the extension's; a plain ``HttpClientHandler`` sends no
    ``Accept``/``Accept-Encoding`` of its own."""
    await probe(env, method="POST", uri=target.url, content={"a": 1})
    method, headers, body = target.seen[-1]
    assert (method, body) == ("POST", b'{"a": 1}')
    assert headers["Content-Type"] == "text/plain"
    assert headers["User-Agent"] == http_activity.USER_AGENT
    assert headers["User-Agent"].startswith("Microsoft.Azure.WebJobs.Extensions.DurableTask/")
    assert "Accept-Encoding" not in headers and "Accept" not in headers

    await probe(env, method="POST", uri=target.url, content="a=1&b=2", raw=True,
                headers={"content-type": "application/x-www-form-urlencoded", "User-Agent": "mine"})
    _, headers, body = target.seen[-1]
    assert body == b"a=1&b=2"
    assert headers["Content-Type"] == "application/x-www-form-urlencoded; charset=utf-8"
    assert headers["User-Agent"] == "mine"  # the request's own header wins over the client default


async def test_content_type_rules_fail_as_the_extension_does(env, target):
    """Multipart is refused (``FunctionFailedException``, TaskHttpActivityShim.cs:119-121); a
    Content-Type with parameters fails ``new MediaTypeHeaderValue(contentType)`` (line 150);
    both are thrown outside the ``HttpRequestException`` catch, so DTFx reports ``e.Message``.
    Nothing is sent."""
    out = await probe(env, method="POST", uri=target.url, content="x", raw=True,
                      headers={"Content-Type": "multipart/form-data; boundary=b"})
    assert out["error"].startswith("Multipart content is not supported with CallHttpAsync. \n ")
    out = await probe(env, method="POST", uri=target.url, content="x", raw=True,
                      headers={"Content-Type": "application/json; charset=utf-8"})
    assert out["error"].startswith("The format of value 'application/json; charset=utf-8' is invalid. \n ")
    assert target.seen == []


async def test_connection_refused_fails_with_the_http_request_exception_message(env):
    """An ``HttpRequestException`` fails the task with its message (TaskHttpActivityShim.cs:91-95):
    .NET's SocketsHttpHandler writes ``"<socket error> (<host>:<port>)"``; Python apps run on Linux."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, not listening: refused
        out = await probe(env, uri=f"http://127.0.0.1:{port}/x")
    reason, _, details = out["error"].partition(" \n ")
    assert reason == f"Connection refused (127.0.0.1:{port})"
    assert "System.Net.Http.HttpRequestException" in details
    assert "BuiltIn::HttpActivity" not in out["error"]


async def test_the_timeout_is_the_clients_240_seconds(env, monkeypatch):
    """``durableHttpClient.Timeout = TimeSpan.FromSeconds(240)`` (DurableHttpClientFactory.cs:21);
    the SDK cannot set the request's own timeout, so the client's ``TaskCanceledException`` is
    what fails the task, outside the ``HttpRequestException`` catch: DTFx reports its message."""
    import asyncio
    assert http_activity.HTTP_TIMEOUT_SECONDS == 240
    monkeypatch.setattr(http_activity, "HTTP_TIMEOUT_SECONDS", 0.2)

    async def slow(request):
        await asyncio.sleep(2)
        return web.Response(text="late")
    async with serving(slow) as url:
        out = await probe(env, uri=url)
    reason, _, details = out["error"].partition(" \n ")
    assert reason == "The request was canceled due to the configured HttpClient.Timeout of 0.2 seconds elapsing."
    assert details.startswith("Unhandled exception while executing task: System.Threading.Tasks.TaskCanceledException")


async def test_a_managed_identity_token_source_adds_the_credentials_bearer_token(env, target, monkeypatch):
    """``requestMessage.Headers.Authorization = Bearer <GetTokenAsync()>`` (TaskHttpActivityShim.cs:
    154-158), the token from ``DefaultAzureCredential`` for the resource, ARM's and Graph's
    resource turned into their ``/.default`` scope (ManagedIdentityTokenSource.cs:31-38). Never
    sent without it."""
    scopes: list[str] = []

    async def fake_token(scope: str) -> str:
        scopes.append(scope)
        return "tok-123"
    monkeypatch.setattr(http_activity, "get_token", fake_token)
    await probe(env, uri=target.url, token_resource="https://management.core.windows.net",
                headers={"Authorization": "Basic xyz"})
    assert target.seen[-1][1]["Authorization"] == "Bearer tok-123"
    await probe(env, uri=target.url, token_resource="https://vault.azure.net")
    assert scopes == ["https://management.core.windows.net/.default", "https://vault.azure.net"]


async def test_a_token_source_that_cannot_get_a_token_fails_the_call(env, target, monkeypatch):
    """``GetTokenAsync`` throws outside the ``HttpRequestException`` catch: the task fails with the
    credential's message and nothing is sent."""
    async def no_token(scope: str) -> str:
        raise RuntimeError("DefaultAzureCredential failed to retrieve a token from the included credentials.")
    monkeypatch.setattr(http_activity, "get_token", no_token)
    out = await probe(env, uri=target.url, token_resource="https://graph.microsoft.com")
    assert out["error"].startswith("DefaultAzureCredential failed to retrieve a token")
    assert target.seen == []
