"""The app's HTTP routes: template matching and the worker-style invocation of HTTP functions."""
from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import Any, Callable

import azure.functions as func
from aiohttp import web

from ..app_index import FunctionInfo
from ..disabled import DisabledFunctions
from .http_convert import to_aiohttp_response, to_worker_request
from .keys import AuthPolicy

log = logging.getLogger("devhost")

_PARAM = re.compile(r"\{(\*?)([A-Za-z_][A-Za-z0-9_]*)(?::[^}?=]+)*(\?)?(?:=[^}]*)?\}")
_INT_CONSTRAINT = re.compile(r":int\b")


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


@dataclass
class AppRoute:
    info: FunctionInfo
    pattern: re.Pattern[str]
    literal_weight: int

    def match(self, path: str) -> dict[str, str] | None:
        found = self.pattern.fullmatch(path)
        if found is None:
            return None
        # aiohttp has decoded the path once already, as ASP.NET routing sees it
        return {k: v for k, v in found.groupdict().items() if v is not None}


class AppRoutes:
    def __init__(self, functions: list[FunctionInfo], prefix: str = "api") -> None:
        self.prefix = prefix.strip("/")
        routes = []
        for info in functions:
            pattern, weight = compile_route(info.route)
            routes.append(AppRoute(info, pattern, weight))
        # More literal text first, so `jobs/{id}` does not shadow `jobs/status` style routes.
        self.routes = sorted(routes, key=lambda r: -r.literal_weight)

    def resolve(self, path: str, method: str) -> tuple[AppRoute | None, dict[str, str]]:
        for route in self.routes:
            # HttpMethodRouteConstraint: the method is one more constraint of the route
            if route.info.methods is not None and method.upper() not in {m.upper() for m in route.info.methods}:
                continue
            params = route.match(path)
            if params is not None:
                return route, params
        return None, {}


def make_app_handler(routes: AppRoutes, auth: AuthPolicy,
                     invoke: Callable[[FunctionInfo, func.HttpRequest, web.Request], Any],
                     disabled: DisabledFunctions = DisabledFunctions()):
    async def handle(request: web.Request) -> web.StreamResponse:
        path = request.match_info.get("tail", "")
        route, params = routes.resolve(path, request.method)
        # The Functions host's own answers carry no body. The method is a route constraint
        # (WebScriptHostHttpRoutesManager.cs ~53-57, HttpMethodRouteConstraint), so a wrong method
        # is no match either: FunctionInvocationMiddleware.GetResultAsync ~101-104 NotFoundResult.
        if route is None:
            return web.Response(status=404)
        # ~117-128: the key is checked first (UnauthorizedResult), then disabled (NotFoundResult,
        # unless called with admin rights)
        if not auth.allows(request, route.info.auth_level):
            return web.Response(status=401)
        if route.info in disabled and not auth.allows(request, "admin"):
            return web.Response(status=404)
        body = await request.read()
        try:
            result = await invoke(route.info, to_worker_request(request, body, params), request)
            return to_aiohttp_response(result)
        except Exception:
            # As the Functions host: the exception goes to the log, the caller gets a bare 500
            # (Azure/azure-functions-host Middleware/ExceptionMiddleware.cs sets the status only).
            log.exception("Exception while executing function: Functions.%s", route.info.name)
            return web.Response(status=500)

    return handle


def json_error(status: int, message: str) -> web.Response:
    return web.Response(status=status, text=json.dumps({"error": message}), content_type="application/json")
