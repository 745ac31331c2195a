"""aiohttp application: the app's routes, the durable API and the host's own endpoints."""
from __future__ import annotations

import logging
import time

import azure.functions as func
from aiohttp import web

from ..app_index import FunctionInfo
from ..host import DurableHost
from .dashboard import dashboard_routes
from .durable_api import DurableApi
from .keys import AuthPolicy
from .routes import AppRoutes, make_app_handler
from .urls import client_binding

log = logging.getLogger("devhost")
HOST_KEY: web.AppKey[DurableHost] = web.AppKey("devhost", DurableHost)


def build_web_app(host: DurableHost, auth: AuthPolicy, rpc_base_url: str, route_prefix: str = "api",
                  client_max_size: int = 100 * 1024 * 1024) -> web.Application:
    """The public port: the app's routes and the keyed management webhooks. The SDK client's RPC
    surface is not here but on its own loopback listener (``rpc.py``), at ``rpc_base_url``."""
    app = web.Application(client_max_size=client_max_size)
    app[HOST_KEY] = host
    app.router.add_routes(DurableApi(host, auth).public_routes())
    app.router.add_routes(dashboard_routes(host.index, auth, host.settings.task_hub))

    routes = AppRoutes(host.index.of_kind("http"), route_prefix)

    async def invoke(info: FunctionInfo, req: func.HttpRequest, request: web.Request) -> func.HttpResponse | str:
        binding = None
        if info.client_param:
            origin = host.settings.webhook_origin or f"{request.scheme}://{request.host}"
            binding = client_binding(origin, rpc_base_url, host.settings.task_hub,
                                     host.settings.connection_name, auth.system_key, info.client_binding)
        t0 = time.perf_counter()
        try:
            response = await host.invoker.http(info, req, binding)
        finally:
            log.info("http %s %s %s (%.1f ms)", info.name, req.method, req.url, (time.perf_counter() - t0) * 1000)
        return response

    async def root(request: web.Request) -> web.Response:
        return web.json_response({"state": "Running"})

    async def not_found(request: web.Request) -> web.Response:
        # Anything else (the SDK's /durabletask RPC paths included) is not served on this port.
        return web.json_response({"error": f"Nothing is served at '{request.path}' with {request.method}."},
                                 status=404)

    app.router.add_get("/", root)
    app.router.add_route("*", "/{tail:.*}",
                         make_app_handler(routes, auth, invoke, host.runtime.options.disabled, not_found))
    return app
