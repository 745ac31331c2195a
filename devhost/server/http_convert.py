"""The request and response conversions between aiohttp and the app, done as Azure does them.

Request: the host's ``ToRpcHttp`` (Azure/azure-functions-host
src/WebJobs.Script.Grpc/MessageExtensions/GrpcMessageConversionExtensions.cs ~128-172) then the
worker's ``HttpRequestConverter.decode`` (azure/functions/http.py), which builds
``azure.functions.http.HttpRequest`` with the body as bytes (the worker asks for RawHttpBodyBytes).

Response: the worker's ``HttpResponseConverter.encode`` (azure/functions/http.py ~80-131), then
the host's ``HttpBinding.CreateResult`` (src/WebJobs.Script/Binding/Http/HttpBinding.cs ~64-199)
and ``RawScriptResult.ExecuteResultAsync`` (src/WebJobs.Script/Binding/Http/RawScriptResult.cs).
"""
from __future__ import annotations

import json
from email.utils import format_datetime
from http.cookies import Morsel, SimpleCookie
from typing import Any, Iterable

import azure.functions as func
from aiohttp import web
from azure.functions.http import HttpRequest as WorkerHttpRequest
from multidict import CIMultiDict

from .dotnet_query import INT32, try_int



def _joined(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """StringValues.ToString(): the values of a repeated name joined with ',' (names compared
    case-insensitively, as ASP.NET's query and header collections do; the first spelling kept)."""
    grouped: dict[str, tuple[str, list[str]]] = {}
    for name, value in pairs:
        grouped.setdefault(name.lower(), (name, []))[1].append(value)
    return {name: ",".join(values) for name, values in grouped.values()}


def to_worker_request(request: web.Request, body: bytes, route_params: dict[str, str]) -> func.HttpRequest:
    # ToRpcHttp: query values that are empty are dropped, header names lower-cased (the Python
    # worker declares neither UseNullableValueDictionary nor IgnoreEmptyValuedRpcHttpHeaders).
    query = {k: v for k, v in _joined(request.query.items()).items() if v}
    headers = {k.lower(): v for k, v in _joined(request.headers.items()).items()}
    return WorkerHttpRequest(method=request.method, url=str(request.url), headers=headers, params=query,
                             route_params=route_params, body_type="bytes", body=body)


def to_aiohttp_response(result: func.HttpResponse | str) -> web.Response:
    if isinstance(result, str):
        return _string_result(result)
    return _http_result(result)


def _http_result(response: func.HttpResponse) -> web.Response:
    headers = response.headers
    if "content-type" not in headers:
        # HttpResponseConverter.encode: only text/* gets the charset
        mimetype = response.mimetype
        headers["content-type"] = f"{mimetype}; charset={response.charset}" if mimetype.startswith("text/") else mimetype
    cookies: list[Morsel[str]] = []
    if "Set-Cookie" in headers:
        for raw in headers.get_all("Set-Cookie"):
            cookies.extend(SimpleCookie(raw).values())
        headers.pop("Set-Cookie")
    # encode keeps the last value of a name (a dict); RawScriptResult adds a header only when the
    # response has none of that name yet, ignoring case (~59-66)
    out: CIMultiDict[str] = CIMultiDict()
    for name, value in dict(headers.items()).items():
        if name not in out:
            out[name] = value
    for morsel in cookies:
        out.add("Set-Cookie", _set_cookie(morsel))
    return web.Response(status=response.status_code, body=response.get_body() or b"", headers=out)


def _set_cookie(morsel: Morsel[str]) -> str:
    """RpcHttpCookieConverter + ASP.NET's SetCookieHeaderValue: attributes in its order and
    spelling; CookieOptions.Path defaults to '/'."""
    parts = [f"{morsel.key}={morsel.value}"]
    if morsel["expires"]:
        from dateutil import parser

        parts.append("expires=" + format_datetime(parser.parse(morsel["expires"]), usegmt=True))
    if morsel["max-age"]:
        parts.append(f"max-age={int(float(morsel['max-age']))}")
    if morsel["domain"]:
        parts.append(f"domain={morsel['domain']}")
    parts.append(f"path={morsel['path'] or '/'}")
    if morsel["secure"]:
        parts.append("secure")
    same_site = str(morsel["samesite"] or "").lower()
    if same_site in ("lax", "strict", "none"):
        parts.append(f"samesite={same_site}")
    if morsel["httponly"]:
        parts.append("httponly")
    return "; ".join(parts)


def _string_result(text: str) -> web.Response:
    """HttpBinding.CreateResult on a returned string: JSON-sniffed (Json.NET); a JSON object with a
    ``body`` key is a response object (``headers``, ``statusCode``/``status``), any other object
    is re-serialized; what is not JSON is sent as it is. The string goes through ASP.NET's
    StringOutputFormatter: text/plain unless a content-type header is given, charset utf-8."""
    try:
        content: Any = json.loads(text) if text.strip() else None
    except ValueError:
        content = text
    status = 200
    headers: dict[str, Any] = {}
    if isinstance(content, dict):
        lowered = {k.lower(): v for k, v in content.items()}
        if "body" in lowered:
            content = lowered["body"]
            if isinstance(lowered.get("headers"), dict):
                headers = lowered["headers"]
            status = _status_code(lowered)
    elif not isinstance(content, (str, type(None))):
        content = _json_token_text(text, content)
    return _raw_script_result(status, _dotnet_text(content), headers)


def _status_code(response_object: dict[str, Any]) -> int:
    # HttpBinding.TryParseStatusCode: statusCode, else status; integers, or strings parsed with
    # NumberStyles.Integer; anything else leaves 200
    value = response_object.get("statuscode", response_object.get("status"))
    if isinstance(value, bool):
        return 200
    if isinstance(value, int) and -2**63 <= value < 2**63:  # larger ones are BigInteger: not parsed
        if value not in INT32:  # Convert.ToInt32 throws: the invocation fails
            raise OverflowError("Value was either too large or too small for an Int32.")
        return value
    if isinstance(value, str) and (parsed := try_int(value)) is not None:
        return parsed
    return 200


def _json_token_text(text: str, content: Any) -> str:
    """A top-level JSON value that is not an object: RawScriptResult writes JToken.ToString()."""
    if isinstance(content, bool):
        return "True" if content else "False"
    return text.strip() if not isinstance(content, list) else json.dumps(content, indent=2).replace("\n", "\r\n")


def _dotnet_text(content: Any) -> str:
    """What RawScriptResult writes for a body value deserialized into an ExpandoObject."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, bool):
        return "True" if content else "False"
    if isinstance(content, dict):
        return json.dumps(content, separators=(",", ":"), ensure_ascii=False)
    if isinstance(content, list):
        return "System.Collections.Generic.List`1[System.Object]"
    return str(content)


def _raw_script_result(status: int, body: str, headers: dict[str, Any]) -> web.Response:
    out: CIMultiDict[str] = CIMultiDict()
    content_type = "text/plain"
    for name, value in headers.items():
        if name.lower() == "content-type":
            if value is None:
                raise ValueError("content-type header cannot be null")
            content_type = str(value)
        elif name not in out:
            out[name] = _dotnet_text(value)
    if "charset=" not in content_type.lower():
        content_type += "; charset=utf-8"
    out["Content-Type"] = content_type
    return web.Response(status=status, body=body.encode("utf-8"), headers=out)
