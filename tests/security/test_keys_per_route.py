"""The README's table of which key each route needs matches the app; the 401s each route gives."""
from __future__ import annotations

import re
from pathlib import Path

from devhost.testing import DurableTestHost
from tests.host.conftest import HOST_TEST_APP

ROOT = Path(__file__).resolve().parents[2]
KEY_NAMES = {"function": "function key", "admin": "master key", "system": "system key"}


def readme_key_table() -> dict[str, str]:
    """``"POST /api/jobs"`` (and the management API row) -> the key named in its row."""
    text = (ROOT / "README.md").read_text()
    table = text[text.index("**Which key each route needs**"):].split("\n\n")[1]  # the paragraph after
    rows: dict[str, str] = {}
    for line in table.splitlines()[2:]:
        routes, key = line.strip("|").split("|")[:2]
        for route in re.findall(r"`([^`]+)`", routes):
            rows[route] = next(name for name in KEY_NAMES.values() if name in key)
    return rows


def _fill(route: str) -> str:
    return re.sub(r"\{[^}]+\}", "x1", route)


async def test_the_readme_table_lists_every_app_route_with_its_key(durable_host: DurableTestHost):
    table = readme_key_table()
    app_routes = {f"{method} /api/{info.route}": KEY_NAMES[info.auth_level]
                  for info in durable_host.host.index.of_kind("http") for method in info.methods}
    assert {route: key for route, key in table.items() if route.startswith(("GET", "POST", "DELETE"))} == app_routes
    assert table["/runtime/webhooks/durabletask/..."] == "system key"


async def test_an_app_route_401_and_the_management_api_401_are_bare(durable_host: DurableTestHost):
    """The app's routes: FunctionInvocationMiddleware.GetResultAsync ~117-121 (Azure/azure-functions-host
    src/WebJobs.Script.WebHost/Middleware) answers UnauthorizedResult, a 401 with no body; the
    management webhooks too (HostController.ExtensionWebHookHandler's SystemKeyAuthLevel policy)."""
    keys = durable_host.keys
    requests = [(*route.split(" "), key) for route, key in readme_key_table().items() if " " in route]
    requests.append(("GET", "/runtime/webhooks/durabletask/instances", "system key"))
    for method, path, key_name in requests:
        for wrong in (None, keys.function if key_name == "system key" else "not-a-key"):
            async with durable_host.request(method, _fill(path), key=wrong, json={}) as response:
                text = await response.text()
            assert response.status == 401, (method, path)
            assert text == "", (method, path, text)


async def test_an_admin_route_401_is_bare():
    async with DurableTestHost.start_time_skipping(HOST_TEST_APP) as env:
        async with env.request("GET", "/api/needs-admin", key="function") as response:
            assert response.status == 401
            assert await response.read() == b""
