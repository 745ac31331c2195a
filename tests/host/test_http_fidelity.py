"""The app's HTTP functions see requests and give answers as on Azure (the Functions host plus the
Python worker), read from their sources:

* host: Azure/azure-functions-host, src/WebJobs.Script.Grpc/MessageExtensions/
  GrpcMessageConversionExtensions.cs (ToRpcHttp), src/WebJobs.Script/Binding/Http/HttpBinding.cs,
  src/WebJobs.Script/Binding/Http/RawScriptResult.cs;
* worker: Azure/azure-functions-python-worker azure_functions_worker/bindings/meta.py (get_datum);
* library: azure-functions azure/functions/http.py (HttpRequestConverter, HttpResponseConverter).
"""
from __future__ import annotations

from pathlib import Path
from typing import AsyncIterator

import pytest_asyncio
from yarl import URL

from devhost.testing import DurableTestHost

HTTP_APP = Path(__file__).resolve().parent / "http_app"


@pytest_asyncio.fixture
async def web() -> AsyncIterator[DurableTestHost]:
    async with DurableTestHost.start_time_skipping(HTTP_APP) as host:
        yield host


# -- finding 1: the request object -------------------------------------------------------------

async def test_get_json_on_a_body_that_is_not_json_raises_the_workers_value_error(web):
    """The worker asks for RawHttpBodyBytes, so the body arrives as bytes and
    HttpRequestConverter.decode builds azure.functions.http.HttpRequest(body_type='bytes'), whose
    get_json raises ValueError('HTTP request does not contain valid JSON data') (http.py ~55-67);
    an empty body arrives as b'' (worker bindings/datumdef.py from_typed_data ~80-83)."""
    expected = "builtins.ValueError: HTTP request does not contain valid JSON data"
    for body in (b"not json", b""):
        async with web.request("POST", "/api/getjson", data=body) as response:
            assert response.status == 200
            assert await response.text() == expected
    async with web.request("POST", "/api/getjson", data=b'{"a": [1]}') as response:
        assert await response.text() == '{"a": [1]}'


async def test_the_request_is_the_workers_http_request_class(web):
    async with web.request("GET", "/api/dump/x") as response:
        assert (await response.json())["type"] == "azure.functions.http.HttpRequest"


# -- finding 2: return values ------------------------------------------------------------------

async def test_a_return_that_is_neither_str_nor_http_response_fails_the_invocation(web, caplog):
    """HttpResponseConverter.encode handles str and HttpResponse only and raises
    NotImplementedError otherwise (http.py ~80-131); get_datum turns that into a TypeError
    (worker bindings/meta.py ~206-213), the invocation fails and the host answers a bare 500."""
    for what in ("none", "bytes", "dict"):
        async with web.request("GET", f"/api/returns/{what}") as response:
            assert response.status == 500, what
            assert await response.read() == b""
    assert 'unsupported type "http" for Python type "NoneType"' in caplog.text
    assert 'Python type "bytes"' in caplog.text


async def test_a_returned_string_is_sniffed_as_a_response_object_by_http_binding(web):
    """HttpBinding.CreateResult (~64-105) deserializes a string with Json.NET; a JSON object with
    a body key is a response object: body, headers, statusCode or status (an integer or a string
    int.TryParse accepts, ~145-181), keys compared ignoring case (~118-150)."""
    returned = '{"Body": "hi", "status": "418", "headers": {"X-A": "1", "content-type": "application/json"}}'
    async with web.request("POST", "/api/returns/text", data=returned) as response:
        assert response.status == 418
        assert await response.text() == "hi"
        assert response.headers["X-A"] == "1"
        # RawScriptResult writes a string body through StringOutputFormatter, which adds the charset
        assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    async with web.request("POST", "/api/returns/text", data='{"body": {"x": 1}, "statusCode": 201}') as response:
        assert response.status == 201
        assert await response.text() == '{"x":1}'  # the ExpandoObject body, re-serialized (Utility.ToJson)


async def test_a_plain_returned_string_is_text_plain_utf8_and_an_object_without_body_is_reserialized(web):
    async with web.request("POST", "/api/returns/text", data="hello") as response:
        assert response.status == 200
        assert await response.text() == "hello"
        assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    async with web.request("POST", "/api/returns/text", data='{"a": 1, "status": 500}') as response:
        # no body key: not a response object; the ExpandoObject is written back as compact JSON
        assert response.status == 200
        assert await response.text() == '{"a":1,"status":500}'
    async with web.request("POST", "/api/returns/text", data='"quoted"') as response:
        assert await response.text() == "quoted"  # a JSON string token: JValue.ToString()
    async with web.request("POST", "/api/returns/text", data="") as response:
        assert response.status == 200
        assert await response.read() == b""


async def test_an_unparseable_status_string_leaves_200(web):
    async with web.request("POST", "/api/returns/text", data='{"body": "b", "status": "teapot"}') as response:
        assert response.status == 200
        assert await response.text() == "b"


# -- finding 5: the response conversion --------------------------------------------------------

async def test_only_text_mimetypes_get_a_charset(web):
    """HttpResponseConverter.encode (http.py ~87-92): 'mimetype; charset=...' for text/*, the bare
    mimetype otherwise; the host sends the bytes body as it is."""
    async with web.request("GET", "/api/mimetype") as response:
        assert response.headers["Content-Type"] == "application/json"
    async with web.request("GET", "/api/mimetype?m=text/html") as response:
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"


async def test_every_set_cookie_header_is_sent(web):
    """encode turns every Set-Cookie header into a cookie (http.py ~113-116); the host appends each
    (GrpcMessageExtensionUtilities.RpcHttpCookieConverter, RawScriptResult.cs ~76-88), and ASP.NET
    writes them lower-case, path defaulting to '/'."""
    async with web.request("GET", "/api/cookies") as response:
        assert response.headers.getall("Set-Cookie") == ["a=1; path=/", "b=2; path=/x; httponly"]
        # any other repeated header: encode builds a dict of them, the last value stays
        assert response.headers.getall("X-Dup") == ["2"]


# -- finding 6: the request conversion ---------------------------------------------------------

async def test_repeated_values_are_joined_empty_query_values_dropped_header_names_lower_cased(web):
    """ToRpcHttp (GrpcMessageConversionExtensions.cs ~139-170): StringValues.ToString() joins a
    repeated name's values with ','; an empty query value is left out; header names are
    lower-cased (the Python worker declares neither UseNullableValueDictionary nor
    IgnoreEmptyValuedRpcHttpHeaders: azure_functions_worker/dispatcher.py ~376-380)."""
    headers = [("X-Multi", "1"), ("X-Multi", "2"), ("X-Empty", "")]
    async with web.session.get(URL("/api/dump/n?a=1&a=2&empty=&b=x", encoded=True), headers=headers) as response:
        seen = await response.json()
    assert seen["params"] == {"a": "1,2", "b": "x"}
    assert seen["headers"]["x-multi"] == "1,2"
    assert seen["headers"]["x-empty"] == ""
    assert all(name == name.lower() for name in seen["headers"])


async def test_route_values_are_decoded_once(web):
    """ASP.NET routing matches the decoded request path (one decoding): 'a%2525b' is 'a%25b'."""
    async with web.session.get(URL("/api/dump/a%2525b", encoded=True)) as response:
        assert (await response.json())["route_params"] == {"name": "a%25b"}


# -- finding 7: route matching -----------------------------------------------------------------

async def _served_by(web, path: str, method: str = "GET") -> str | None:
    async with web.session.request(method, URL(path, encoded=True)) as response:
        if response.status == 404:
            assert await response.read() == b""
            return None
        assert response.status == 200, (path, response.status)
        return (await response.json())["function"]


async def test_routes_are_tried_in_function_name_order_and_the_first_match_wins(web):
    """WebScriptHostHttpRoutesManager.InitializeHttpFunctionRoutes (~48-76) maps host.Functions in
    metadata order, ordered by name ignoring case (FunctionMetadataManager.cs ~192), into
    WebJobsRouteBuilder's RouteCollection (azure-webjobs-sdk-extensions
    src/WebJobs.Extensions.Http/Routing/WebJobsRouteBuilder.cs Build): the first match wins,
    not the most literal one."""
    assert await _served_by(web, "/api/prec/lit") == "prec_lit"  # prec_lit < prec_param
    assert await _served_by(web, "/api/prec2/lit") == "a_param"  # a_param < b_lit


async def test_the_prefix_is_part_of_the_template_matched_ignoring_case_and_a_trailing_slash_is_ignored(web):
    assert await _served_by(web, "/API/Prec/lit") == "prec_lit"
    assert await _served_by(web, "/api/prec/lit/") == "prec_lit"
    assert await _served_by(web, "/api/prec/lit//") is None


async def test_inline_constraints_are_aspnet_route_constraints(web):
    """IntRouteConstraint: int.TryParse(NumberStyles.Integer, InvariantCulture), so a sign is
    allowed and the value must fit Int32; the others as ASP.NET's DefaultInlineConstraintResolver."""
    assert await _served_by(web, "/api/items/%2B5") == "items"
    assert await _served_by(web, "/api/items/-2147483648") == "items"
    assert await _served_by(web, "/api/items/2147483648") is None
    assert await _served_by(web, "/api/items/1.5") is None
    assert await _served_by(web, "/api/g/0f8fad5b-d9cb-469f-a165-70867728950e") == "guid_route"
    assert await _served_by(web, "/api/g/{0f8fad5bd9cb469fa16570867728950e}") is None
    assert await _served_by(web, "/api/g/not-a-guid") is None
    assert await _served_by(web, "/api/sized/ab/10") == "sized"
    assert await _served_by(web, "/api/sized/abcd/5") is None
    assert await _served_by(web, "/api/sized/ab/11") is None
    assert await _served_by(web, "/api/flag/TRUE") == "flag"
    assert await _served_by(web, "/api/flag/yes") is None
    async with web.session.get("/api/defaults") as response:
        assert (await response.json())["route_params"] == {"x": "dflt"}


async def test_reserved_and_conflicting_routes_put_the_function_in_error_and_the_rest_runs(web, caplog):
    """ScriptHost.ValidateHttpFunction (~918-924): a route starting with 'admin' or 'runtime'
    (after Trim('/') and ToLowerInvariant) is refused; HttpRoutesConflict (~927-946): the same
    route with a common method. ScriptHost.GetFunctionDescriptorsAsync (~843-854) records a
    function error and goes on without that function."""
    assert await _served_by(web, "/api/administer") is None
    assert await _served_by(web, "/api/Runtime/info") is None
    assert await _served_by(web, "/api/dup", "POST") == "dup_a"
    assert await _served_by(web, "/api/dup", "DELETE") == "dup_c"
    assert await _served_by(web, "/api/prec/lit") == "prec_lit"


def test_the_errors_are_reported_as_the_host_reports_function_errors(caplog):
    import logging

    from devhost.app_index import load_app
    from devhost.server.routes import AppRoutes

    with caplog.at_level(logging.ERROR, logger="devhost"):
        routes = AppRoutes(load_app(HTTP_APP).of_kind("http"))
    assert routes.errors == {
        "administer": "The specified route conflicts with one or more built in routes.",
        "runtime_info": "The specified route conflicts with one or more built in routes.",
        "dup_b": "The route specified conflicts with the route defined by function 'dup_a'.",
    }
    assert "The 'administer' function is in error: The specified route conflicts" in caplog.text
