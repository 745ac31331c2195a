"""The app's HTTP routes: template matching and the worker-style invocation of HTTP functions."""
from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import unquote

import azure.functions as func
from aiohttp import web

from ..app_index import FunctionInfo
from ..disabled import DisabledFunctions
from .keys import AuthPolicy, unauthorized

log = logging.getLogger("devhost")

_PARAM = re.compile(r"\{(\*?)([A-Za-z_][A-Za-z0-9_]*)(?::[^}?=]+)*(\?)?(?:=[^}]*)?\}")
_INT_CONSTRAINT = re.compile(r":int\b")


@dataclass
class AppRoute:
    info: FunctionInfo
    pattern: re.Pattern[str]
    literal_weight: int

    def match(self, path: str) -> dict[str, str] | None:
        found = self.pattern.fullmatch(path)
        if found is None:
            return None
        return {k: unquote(v) for k, v in found.groupdict().items() if v is not None}


def compile_route(template: str) -> tuple[re.Pattern[str], int]:
    """ASP.NET-style route template (``{name}``, ``{name?}``, ``{name:int}``, ``{*rest}``) -> regex."""
    template = template.strip("/")
    regex = ""
    position = 0
    literal_weight = 0
    for found in _PARAM.finditer(template):
        literal = template[position:found.start()]
        literal_weight += len(literal)
        regex += re.escape(literal)
        catch_all, name, optional = found.group(1), found.group(2), found.group(3)
        inner = ".*" if catch_all else ("-?[0-9]+" if _INT_CONSTRAINT.search(found.group(0)) else "[^/]+")
        group = f"(?P<{name}>{inner})"
        if optional or catch_all:
            if literal.endswith("/"):
                # the separator belongs to the optional segment: "jobs/{id?}" matches "jobs"
                regex = regex[: -len(re.escape("/"))] + f"(?:/{group})?"
            else:
                regex += f"{group}?"
        else:
            regex += group
        position = found.end()
    literal = template[position:]
    literal_weight += len(literal)
    regex += re.escape(literal)
    return re.compile(regex, re.IGNORECASE), literal_weight


class AppRoutes:
    def __init__(self, functions: list[FunctionInfo], prefix: str = "api") -> None:
        self.prefix = prefix.strip("/")
        routes = []
        for info in functions:
            pattern, weight = compile_route(info.route)
            routes.append(AppRoute(info, pattern, weight))
        # More literal text first, so `jobs/{id}` does not shadow `jobs/status` style routes.
        self.routes = sorted(routes, key=lambda r: -r.literal_weight)

    def resolve(self, path: str, method: str) -> tuple[AppRoute | None, dict[str, str], bool]:
        """Returns (route, params, path_matched_some_route)."""
        path_matched = False
        for route in self.routes:
            params = route.match(path)
            if params is None:
                continue
            path_matched = True
            if route.info.methods is None or method in route.info.methods:
                return route, params, True
        return None, {}, path_matched


def to_func_request(request: web.Request, body: bytes, params: dict[str, str]) -> func.HttpRequest:
    return func.HttpRequest(
        method=request.method,
        url=str(request.url),
        headers={k: v for k, v in request.headers.items()},
        params={k: v for k, v in request.query.items()},
        route_params=params,
        body=body,
    )


def to_aiohttp_response(response: func.HttpResponse) -> web.Response:
    headers = {k: v for k, v in response.headers.items()}
    content_type = headers.pop("Content-Type", None) or headers.pop("content-type", None)
    if content_type is None and response.mimetype:
        content_type = response.mimetype
        if response.charset and "charset" not in content_type:
            content_type += f"; charset={response.charset}"
    resp = web.Response(status=response.status_code, body=response.get_body(), headers=headers)
    if content_type:
        resp.headers["Content-Type"] = content_type
    return resp


def make_app_handler(routes: AppRoutes, auth: AuthPolicy,
                     invoke: Callable[[FunctionInfo, func.HttpRequest, web.Request], Any],
                     disabled: DisabledFunctions = DisabledFunctions()):
    async def handle(request: web.Request) -> web.StreamResponse:
        path = request.match_info.get("tail", "")
        route, params, path_matched = routes.resolve(path, request.method)
        if route is None:
            status = 405 if path_matched else 404
            message = "Method not allowed for this route." if path_matched else f"No function matches '/{routes.prefix}/{path}'."
            return web.json_response({"error": message}, status=status)
        if route.info in disabled and not auth.allows(request, "admin"):
            # FunctionInvocationMiddleware: a disabled function is not found, unless called with admin rights
            return web.json_response({"error": f"No function matches '/{routes.prefix}/{path}'."}, status=404)
        if not auth.allows(request, route.info.auth_level):
            return unauthorized(route.info.auth_level)
        body = await request.read()
        try:
            response = await invoke(route.info, to_func_request(request, body, params), request)
        except Exception:
            # As the Functions host: the exception goes to the log, the caller gets a bare 500
            # (Azure/azure-functions-host Middleware/ExceptionMiddleware.cs sets the status only).
            log.exception("Exception while executing function: Functions.%s", route.info.name)
            return web.Response(status=500)
        return to_aiohttp_response(response)

    return handle


def json_error(status: int, message: str) -> web.Response:
    return web.Response(status=status, text=json.dumps({"error": message}), content_type="application/json")
