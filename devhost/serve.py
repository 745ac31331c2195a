"""Run a ``DurableHost`` behind its aiohttp server on a TCP port, with the SDK client's RPC
endpoint on a second, loopback-only listener (``server/rpc.py``)."""
from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from .host import DurableHost
from .server import AuthPolicy, build_web_app
from .server.rpc import RpcListener, start_rpc_listener


@dataclass
class RunningServer:
    runner: web.AppRunner
    host: str
    port: int
    rpc: RpcListener

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def rpc_base_url(self) -> str:
        return self.rpc.base_url

    async def close(self) -> None:
        await self.runner.cleanup()
        await self.rpc.close()


async def serve(host: DurableHost, auth: AuthPolicy, *, bind: str = "127.0.0.1", port: int = 0,
                route_prefix: str = "api", rpc_port: int = 0) -> RunningServer:
    rpc = await start_rpc_listener(host, auth, rpc_port)
    app = build_web_app(host, auth, rpc.base_url, route_prefix)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, bind, port)
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        await rpc.close()
        raise
    sockets = site._server.sockets if site._server else []  # type: ignore[union-attr]
    actual = sockets[0].getsockname()[1] if sockets else port
    host.settings.webhook_origin = f"http://localhost:{actual}"  # as Core Tools sets WEBSITE_HOSTNAME
    return RunningServer(runner, "127.0.0.1" if bind in ("0.0.0.0", "::") else bind, actual, rpc)
