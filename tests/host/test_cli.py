"""``python -m devhost`` end to end: a real process, real HTTP, the way a developer uses it."""
from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import pytest

from tests.host.conftest import HOST_TEST_APP

ROOT = Path(__file__).resolve().parents[2]
MASTER = "cli-test-master-key"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
async def served():
    port = _free_port()
    env = {**os.environ, "DEVHOST_MASTER_KEY": MASTER, "PYTHONUNBUFFERED": "1"}
    env.pop("AzureWebJobsStorage", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "devhost", "--app-dir", str(HOST_TEST_APP), "--port", str(port), "--store", "memory"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession(base_url=base) as session:
        for _ in range(200):
            try:
                async with session.get("/") as response:
                    if response.status == 200:
                        break
            except aiohttp.ClientError:
                await asyncio.sleep(0.05)
        else:
            process.kill()
            raise AssertionError(process.stdout.read() if process.stdout else "devhost did not start")
        yield session, process
    process.terminate()
    output, _ = process.communicate(timeout=10)
    assert process.returncode == 0, output


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


async def _poll(session, url: str, want: str, tries: int = 200) -> dict:
    for _ in range(tries):
        async with session.get(_path(url)) as response:
            body = await response.json()
        if body["runtimeStatus"] == want:
            return body
        await asyncio.sleep(0.02)
    raise AssertionError(f"never reached {want}: {body}")


async def test_generic_starter_status_and_send_event_over_http(served):
    session, _ = served
    headers = {"x-functions-key": MASTER}
    async with session.post("/api/orchestrators/chain", json="Lima", headers=headers) as response:
        assert response.status == 202
        urls = await response.json()
    assert {"statusQueryGetUri", "sendEventPostUri", "terminatePostUri"} <= set(urls)
    done = await _poll(session, urls["statusQueryGetUri"], "Completed")
    assert done["output"] == ["Hello Lima!", "Hello Seattle!"]

    async with session.post("/api/orchestrators/wait_event", headers=headers) as response:
        urls = await response.json()
    await _poll(session, urls["statusQueryGetUri"], "Running")
    event_url = urls["sendEventPostUri"].replace("{eventName}", "Approval")
    async with session.post(_path(event_url), json={"by": "curl"}) as response:
        assert response.status == 202
    done = await _poll(session, urls["statusQueryGetUri"], "Completed")
    assert done["output"] == {"by": "curl"}


async def test_bad_input_gets_json_errors_and_the_host_survives(served):
    session, process = served
    webhook = "/runtime/webhooks/durabletask"
    headers = {"x-functions-key": MASTER}
    cases = [
        ("POST", f"{webhook}/orchestrators/no_such_function", {}, None, 400),
        ("POST", f"{webhook}/orchestrators/chain", {"Content-Type": "application/json"}, "{oops", 400),
        ("GET", f"{webhook}/instances/no-such-instance", {}, None, 404),
        ("POST", f"{webhook}/instances/no-such-instance/raiseEvent/x", {"Content-Type": "application/json"}, "1", 404),
    ]
    for method, path, extra, data, expected in cases:
        async with session.request(method, path, headers={**headers, **extra}, data=data) as response:
            assert response.status == expected, (path, await response.text())
            assert isinstance(await response.json(), dict)
    async with session.get(f"{webhook}/instances", headers={"x-functions-key": "wrong"}) as response:
        assert response.status == 401
        assert await response.read() == b""  # the Functions host's bare 401 (tests/security/test_keys_per_route.py)
    async with session.post("/api/orchestrators/chain", json="x") as response:
        assert response.status == 401
    assert process.poll() is None
