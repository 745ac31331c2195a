"""The dashboard of `python -m devhost` serving the real app (function_app.py) on the Azure Storage
store (Azurite): what a user runs. An approval is decided from the page; a counter's state shows."""
from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any, AsyncIterator

import aiohttp
import pytest_asyncio
from azurite import free_port  # tools/azurite.py, on the path through tests/conftest.py
from playwright.async_api import expect

ROOT = Path(__file__).resolve().parents[3]
MASTER = "dashboard-test-master-key"


@pytest_asyncio.fixture
async def served(azurite, tmp_path) -> AsyncIterator[tuple[str, aiohttp.ClientSession]]:
    port = free_port()
    env = {**os.environ, "AzureWebJobsStorage": azurite, "DEVHOST_MASTER_KEY": MASTER,
           "TASK_HUB_NAME": f"dash{secrets.token_hex(4)}", "PYTHONUNBUFFERED": "1"}
    log_path = tmp_path / "devhost.log"
    with open(log_path, "w") as log:
        host = subprocess.Popen([sys.executable, "-m", "devhost", "--port", str(port), "--store", "azure"],
                                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession(base, headers={"x-functions-key": MASTER}) as session:
            async with asyncio.timeout(60):
                while True:
                    try:
                        async with session.get("/") as response:
                            if response.status == 200:
                                break
                    except aiohttp.ClientConnectionError:
                        assert host.poll() is None, log_path.read_text()
                    await asyncio.sleep(0.1)
            yield base, session
    finally:
        host.terminate()
        host.wait(timeout=10)


async def _json(response: aiohttp.ClientResponse) -> Any:
    assert response.status < 300, await response.text()
    return await response.json()


async def test_decide_an_approval_and_see_a_counter_on_the_real_app(page, served):
    base, session = served
    ids = []
    for title in ("laptop", "monitor"):
        async with session.post("/api/approvals", json={"request": {"title": title}, "timeout_hours": 24}) as r:
            ids.append((await _json(r))["id"])
    async with session.post("/api/counters/visits/add", json=5) as r:
        assert r.status == 202

    await page.goto(base + "/_devhost/")
    await page.fill("#key-input", MASTER)
    await page.click("#key-form button[type=submit]")
    rows = page.locator("#instances tbody tr")
    await page.select_option("#filter-name", "approval_workflow")
    await page.fill("input[name=top]", "1")  # paging through the Azure Storage store's tokens
    await page.click("#filters button[type=submit]")
    await expect(rows).to_have_count(1)
    first = await rows.first.get_attribute("data-instance-id")
    await page.click("#next-page")
    await expect(rows.first).not_to_have_attribute("data-instance-id", first)
    target = await rows.first.get_attribute("data-instance-id")
    assert sorted([first, target]) == sorted(ids)

    await page.click(f"#instances a:text-is('{target}')")
    await expect(page.locator("#custom-status")).to_contain_text('"state": "waiting"')
    await page.click("#action-raise-event")
    await page.fill("#confirm-dialog [name=eventName]", "ApprovalEvent")
    await page.fill("#confirm-dialog [name=data]", '{"approved": true, "approver": "alice"}')
    await page.click("#dialog-confirm")
    await expect(page.locator("#instance-status .badge")).to_have_text("Completed", timeout=30_000)
    async with session.get(f"/api/approvals/{target}") as r:
        decided = (await _json(r))["output"]
    assert (decided["outcome"], decided["approver"]) == ("approved", "alice")
    assert await page.locator("#timeline g.span.timer.open").count() == 0  # the timeout was cancelled

    await page.click("#nav-entities")
    await expect(page.locator("tr[data-entity='@counter@visits'] pre")).to_have_text("5")
