"""The app's HTTP routes: template matching and the worker-style invocation of HTTP functions."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable

import azure.functions as func
from aiohttp import web

from ..app_index import FunctionInfo
from ..disabled import DisabledFunctions
from .http_convert import to_aiohttp_response, to_worker_request
from .keys import AuthPolicy
from .route_template import RouteTemplate, RouteTemplateError

log = logging.getLogger("devhost")

RESERVED_ROUTE = "The specified route conflicts with one or more built in routes."


@dataclass
class AppRoute:
    info: FunctionInfo
    template: RouteTemplate
    methods: frozenset[str] | None = field(init=False)  # upper-cased; None: any

    def __post_init__(self) -> None:
        self.methods = None if self.info.methods is None else frozenset(m.upper() for m in self.info.methods)


class AppRoutes:
    """The app's HTTP routes, registered as WebScriptHostHttpRoutesManager does: in the order of
    the functions' metadata, by name ignoring case (FunctionMetadataManager.cs ~192), into a
    RouteCollection whose first matching route wins (WebJobsRouteBuilder.Build)."""

    def __init__(self, functions: list[FunctionInfo], prefix: str = "api") -> None:
        self.prefix = prefix.strip("/")
        self.routes: list[AppRoute] = []
        self.errors: dict[str, str] = {}
        for info in sorted(functions, key=lambda f: f.name.upper()):
            error = self._refusal(info)
            if error is None:
                template = f"{self.prefix}/{info.route.strip('/')}" if self.prefix else info.route
                try:
                    self.routes.append(AppRoute(info, RouteTemplate.parse(template)))
                    continue
                except RouteTemplateError as exc:
                    error = str(exc)
            # ScriptHost.GetFunctionDescriptorsAsync ~843-854: the function is in error and not
            # loaded; the host and the other functions run on
            self.errors[info.name] = error
            log.error("The '%s' function is in error: %s", info.name, error)

    def _refusal(self, info: FunctionInfo) -> str | None:
        # ScriptHost.ValidateHttpFunction ~918-924 and HttpRoutesConflict ~927-946
        route = info.route.strip("/").lower()
        if route.startswith(("admin", "runtime")):
            return RESERVED_ROUTE
        for other in self.routes:
            if other.info.route.strip("/").lower() == route and (
                    not info.methods or not other.info.methods or set(info.methods) & set(other.info.methods)):
                return f"The route specified conflicts with the route defined by function '{other.info.name}'."
        return None

    def under_prefix(self, path: str) -> bool:
        return not self.prefix or path.lower() == self.prefix.lower() or path.lower().startswith(self.prefix.lower() + "/")

    def resolve(self, path: str, method: str) -> tuple[AppRoute | None, dict[str, str]]:
        for route in self.routes:
            # HttpMethodRouteConstraint: the method is one more constraint of the route
            if route.methods is not None and method.upper() not in route.methods:
                continue
            params = route.template.match(path)
            if params is not None:
                return route, params
        return None, {}


def make_app_handler(routes: AppRoutes, auth: AuthPolicy,
                     invoke: Callable[[FunctionInfo, func.HttpRequest, web.Request], Any],
                     disabled: DisabledFunctions = DisabledFunctions(),
                     elsewhere: Callable[[web.Request], Any] | None = None):
    """``elsewhere`` answers paths outside the route prefix (the prefix is matched ignoring case,
    as part of each route's template)."""
    async def handle(request: web.Request) -> web.StreamResponse:
        path = request.match_info.get("tail", "")
        if elsewhere is not None and not routes.under_prefix(path):
            return await elsewhere(request)
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

