"""The host's dashboard: static pages at ``/_devhost/`` over the keyed management API.

The pages hold no data and need no key; every call they make goes to the management API
(``/runtime/webhooks/durabletask/...``) with the master key in the ``x-functions-key`` header,
plus one master-key-only call here for the app's orchestrator and entity names (the extension's
API has no way to list entity names). No cookies: a cross-origin page cannot ride the key.
"""
from __future__ import annotations

from pathlib import Path

from aiohttp import web

from ..app_index import AppIndex
from .keys import AuthPolicy, unauthorized

DASHBOARD_PATH = "/_devhost/"
STATIC_DIR = Path(__file__).resolve().parents[1] / "dashboard" / "static"

# Same-origin scripts and calls only, never framed (the actions are clicks), nothing inline.
_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}


def dashboard_routes(index: AppIndex, auth: AuthPolicy, task_hub: str) -> list[web.RouteDef]:
    files = {path.name: path for path in STATIC_DIR.iterdir() if path.suffix in _TYPES}

    async def static(request: web.Request) -> web.StreamResponse:
        name = request.match_info.get("name") or "index.html"
        path = files.get(name)  # a fixed set of names: nothing outside STATIC_DIR can be asked for
        if path is None:
            return web.json_response({"error": f"Nothing is served at '{request.path}'."}, status=404)
        return web.Response(body=path.read_bytes(), headers=_HEADERS,
                            content_type=_TYPES[path.suffix], charset="utf-8")

    async def app_info(request: web.Request) -> web.StreamResponse:
        if not auth.allows(request, "admin"):
            return unauthorized("admin")
        return web.json_response({"taskHub": task_hub, "orchestrators": index.names("orchestrator"),
                                  "entities": index.names("entity")}, headers={"Cache-Control": "no-store"})

    async def to_slash(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(DASHBOARD_PATH)

    return [
        web.get(DASHBOARD_PATH.rstrip("/"), to_slash),
        web.get(DASHBOARD_PATH, static),
        web.get(DASHBOARD_PATH + "api/app", app_info),
        web.get(DASHBOARD_PATH + "{name:[A-Za-z0-9_-]+\\.(?:html|js|css|svg)}", static),
    ]


__all__ = ["DASHBOARD_PATH", "dashboard_routes"]
