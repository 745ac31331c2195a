"""End-to-end fixtures: the real app on the local host (virtual time, real HTTP) over a real Azurite."""
from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio

from devhost.testing import DurableTestHost
from tests.api.conformance import check

WEBHOOKS = "/runtime/webhooks/durabletask"


@pytest_asyncio.fixture
async def env(azurite: str, durable_host: DurableTestHost) -> AsyncIterator[DurableTestHost]:
    # `azurite` first: it exports AzureWebJobsStorage before the host (and the app) starts.
    yield durable_host


async def all_instances(env: DurableTestHost) -> list[dict[str, Any]]:
    """Every instance, via the public management API (system key)."""
    async with env.request("GET", f"{WEBHOOKS}/instances", key="system") as resp:
        assert resp.status == 200
        return await resp.json()


async def post_json(env: DurableTestHost, path: str, body: Any = None, *, raw: bytes | None = None,
                    key: str | None = "function") -> tuple[int, Any, dict[str, str]]:
    """POST and return (status, parsed JSON body, headers); an /api answer must match docs/openapi.json."""
    kwargs: dict[str, Any] = {"data": raw, "headers": {"Content-Type": "application/json"}} if raw is not None \
        else ({"json": body} if body is not None else {})
    return await _answer(env, "POST", path, key, **kwargs)


async def get_json(env: DurableTestHost, path: str, *, key: str | None = "function") -> tuple[int, Any, dict[str, str]]:
    return await _answer(env, "GET", path, key)


async def _answer(env: DurableTestHost, method: str, path: str, key: str | None,
                  **kwargs: Any) -> tuple[int, Any, dict[str, str]]:
    async with env.request(method, path, key=key, **kwargs) as resp:
        text = await resp.text()
        body = json.loads(text) if text else None
    if path.startswith("/api/"):
        check(method, path, resp.status, body)
    return resp.status, body, dict(resp.headers)


def assert_no_system_key(env: DurableTestHost, status: int, body: Any, headers: dict[str, str]) -> None:
    """Responses of the app's own routes never carry management URLs or keys."""
    text = json.dumps(body) + json.dumps(headers)
    assert env.keys.system not in text and env.keys.master not in text
    assert "code=" not in text and "/runtime/webhooks" not in text, (status, body, headers)


@pytest.fixture(scope="session", autouse=True)
def _close_app_storage_clients(azurite: str) -> Iterator[None]:
    yield
    from app_common import storage

    storage.close_clients()  # release the app's cached connections before the emulator goes
