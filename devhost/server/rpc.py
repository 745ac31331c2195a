"""The SDK client's RPC endpoint on its own loopback-only listener, as the extension serves it.

The extension's ``LocalHttpListener`` serves ``http://127.0.0.1:17071/durabletask/`` (or a port in
30000-31000 when 17071 is taken) on a Kestrel host of its own; nothing under ``/durabletask`` is
reachable on the public Functions port. The SDK only ever learns the address from the
``rpcBaseUrl`` of its ``durableClient`` binding and appends its paths to it, so the host puts a
per-process random segment in that base URL: a page in a browser on this machine can neither find
nor guess it. Requests that carry browser-only headers (``Origin``, ``Sec-Fetch-*``) are refused
too.
"""
from __future__ import annotations

import ipaddress
import secrets
from dataclasses import dataclass

from aiohttp import web

from ..host import DurableHost
from .durable_api import DurableApi, Handler, message
from .keys import AuthPolicy

RPC_ROOT = "/durabletask"
EXTENSION_DEFAULT_PORT = 17071  # LocalHttpListener.DefaultPort
# Browsers send Origin on cross-origin POSTs and Sec-Fetch-* on every request (a plain GET from
# an <img> included); the SDK's aiohttp client sends neither.
_BROWSER_HEADERS = frozenset({"Origin", "Sec-Fetch-Site", "Sec-Fetch-Mode"})


@web.middleware
async def _local_callers_only(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not _is_loopback(request.remote):
        return message(403, "The durable RPC endpoint only accepts loopback connections.")
    if any(name in request.headers for name in _BROWSER_HEADERS):  # case-insensitive lookup
        return message(403, "The durable RPC endpoint does not accept browser requests.")
    return await handler(request)


@dataclass
class RpcListener:
    runner: web.AppRunner
    port: int
    secret: str

    @property
    def base_url(self) -> str:
        """The ``rpcBaseUrl`` of the ``durableClient`` binding (trailing slash: the SDK appends)."""
        return f"http://127.0.0.1:{self.port}{RPC_ROOT}/{self.secret}/"

    async def close(self) -> None:
        await self.runner.cleanup()


async def start_rpc_listener(host: DurableHost, auth: AuthPolicy, port: int = 0) -> RpcListener:
    """Serve the durable API for the SDK on 127.0.0.1:``port`` (0: any free port); when ``port``
    is taken, fall back to a free one, as the extension does."""
    secret = secrets.token_urlsafe(24)
    # LocalHttpListener lifts Kestrel's request body limit (MaxRequestBodySize = null).
    app = web.Application(middlewares=[_local_callers_only], client_max_size=1024 ** 4)
    app.router.add_routes(DurableApi(host, auth).rpc_routes(f"{RPC_ROOT}/{secret}"))
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    try:
        await site.start()
    except OSError:
        if port == 0:
            raise
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
    sockets = site._server.sockets if site._server else []  # type: ignore[union-attr]
    return RpcListener(runner, sockets[0].getsockname()[1], secret)


def _is_loopback(remote: str | None) -> bool:
    if not remote:
        return False
    try:
        return ipaddress.ip_address(remote).is_loopback
    except ValueError:
        return False
