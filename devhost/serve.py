"""Run a ``DurableHost`` behind its aiohttp server on a TCP port."""
from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from .host import DurableHost
from .server import AuthPolicy, build_web_app


@dataclass
class RunningServer:
    runner: web.AppRunner
    host: str
    port: int

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def close(self) -> None:
        await self.runner.cleanup()


async def serve(host: DurableHost, auth: AuthPolicy, *, bind: str = "127.0.0.1", port: int = 0,
                route_prefix: str = "api") -> RunningServer:
    app = build_web_app(host, auth, route_prefix)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, bind, port)
    await site.start()
    sockets = site._server.sockets if site._server else []  # type: ignore[union-attr]
    actual = sockets[0].getsockname()[1] if sockets else port
    return RunningServer(runner, "127.0.0.1" if bind in ("0.0.0.0", "::") else bind, actual)
