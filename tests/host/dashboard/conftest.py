"""Browser fixtures: Debian's Chromium driven headless by Playwright (never a downloaded browser).

Without Chromium or the driver the browser tests skip with the reason, except under CI=true,
where scripts/test.sh must have installed Chromium (and bootstrap.sh the driver): there they fail.
"""
from __future__ import annotations

import os
import shutil
from typing import Any, AsyncIterator

import pytest
import pytest_asyncio

from devhost.testing import DurableTestHost

CHROMIUM = os.environ.get("DEVHOST_CHROMIUM", "/usr/bin/chromium")
# As root on these machines: no sandbox; no background networking (the network is closed).
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _missing() -> str | None:
    if not shutil.which(CHROMIUM):
        return f"no Chromium at {CHROMIUM} (./scripts/test.sh installs Debian's chromium as root)"
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        return "the Python playwright package is not installed (requirements-dev.txt)"
    return None


@pytest_asyncio.fixture
async def page() -> AsyncIterator[Any]:
    reason = _missing()
    if reason:
        if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
            pytest.fail(f"browser tests cannot run under CI: {reason}")
        pytest.skip(f"BROWSER TESTS SKIPPED: {reason}")
    from playwright.async_api import async_playwright

    async with async_playwright() as driver:
        browser = await driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(viewport={"width": 1280, "height": 900})
            context.set_default_timeout(15_000)
            yield await context.new_page()
        finally:
            await browser.close()


async def open_dashboard(page: Any, env: DurableTestHost, key: str | None = None) -> None:
    """Load the dashboard and enter the key (the master key unless told), as a user does."""
    await page.goto(env.base_url + "/_devhost/")
    await page.fill("#key-input", key if key is not None else env.keys.master)
    await page.click("#key-form button[type=submit]")
