"""The dashboard at /_devhost/ in headless Chromium against the served host (tests/host/app).

Every check reads the rendered page; every action is then verified through the management API.
DEVHOST_DASHBOARD_SCREENSHOT=docs/dashboard-timeline.png also saves the timeline picture there.
"""
from __future__ import annotations

import asyncio
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from playwright.async_api import expect

from devhost.protocol import EventType
from devhost.testing import DurableTestHost

from ..conftest import HOST_TEST_APP
from .conftest import open_dashboard

WEBHOOK = "/runtime/webhooks/durabletask"
# activities (one failing, caught), a fan-out, a timer, a sub-orchestration, an entity call, an event
RICH_PROGRAM = {"prefix": "shot-", "steps": [
    {"op": "act", "name": "hello", "arg": "world"},
    {"op": "all", "steps": [{"op": "act", "name": "sleepy", "arg": 0.3}, {"op": "act", "name": "sleepy", "arg": 0.15},
                            {"op": "act", "name": "square", "arg": 7}]},
    {"op": "timer", "seconds": 1},
    {"op": "sub", "steps": [{"op": "act", "name": "hello", "arg": "child"}, {"op": "timer", "seconds": 1}]},
    {"op": "act", "name": "boom", "arg": "on purpose"},
    {"op": "call", "key": "k", "arg": 2},
    {"op": "event", "name": "Approval"},
    {"op": "act", "name": "sleepy", "arg": 0.2},
]}


async def api_status(env: DurableTestHost, instance_id: str) -> tuple[int, Any]:
    async with env.request("GET", f"{WEBHOOK}/instances/{instance_id}", key="master") as response:
        return response.status, await response.json()


async def confirm(page: Any, action: str, **fields: str) -> None:
    await page.click(f"#action-{action}")
    for name, value in fields.items():
        await page.fill(f"#confirm-dialog [name={name}]", value)
    await page.click("#dialog-confirm")


async def test_list_filters_by_status_and_name_and_pages(env, page):
    done = await env.start("chain", "Ada", instance_id="list-chain")
    failed = await env.start("uncaught_failure", instance_id="list-failed")
    waiting = await env.start("wait_event", instance_id="list-waiting")
    await env.wait(done)
    await env.wait(failed)
    await env.settle()

    await open_dashboard(page, env)
    rows = page.locator("#instances tbody tr")
    await rows.nth(2).wait_for()
    assert sorted(await rows.evaluate_all("rs => rs.map(r => r.dataset.instanceId)")) == sorted([done, failed, waiting])

    await page.check("input[name=status][value=Failed]")
    await page.click("#filters button[type=submit]")
    await expect(rows).to_have_count(1)
    assert await rows.first.get_attribute("data-instance-id") == failed
    assert await rows.first.locator(".badge").inner_text() == "Failed"

    await page.uncheck("input[name=status][value=Failed]")
    await page.select_option("#filter-name", "wait_event")
    await page.click("#filters button[type=submit]")
    await expect(rows).to_have_count(1)
    # (the Failed filter's list also had one row: wait for the new one, not for the count)
    await expect(rows.first).to_have_attribute("data-instance-id", waiting)

    await page.select_option("#filter-name", "")
    await page.fill("input[name=createdFrom]", "2999-01-01T00:00")  # created-time filter: none yet
    await page.click("#filters button[type=submit]")
    await expect(page.locator("#empty")).to_have_text("No instances match these filters.")

    await page.fill("input[name=createdFrom]", "2000-01-01T00:00")
    await page.fill("input[name=top]", "2")
    await page.click("#filters button[type=submit]")
    await expect(rows).to_have_count(2)
    first_page = await rows.evaluate_all("rs => rs.map(r => r.dataset.instanceId)")
    await page.click("#next-page")
    await expect(rows).to_have_count(1)
    second_page = await rows.evaluate_all("rs => rs.map(r => r.dataset.instanceId)")
    assert sorted(first_page + second_page) == sorted([done, failed, waiting])
    assert await page.locator("#next-page").is_disabled()


async def run_rich_program(env: DurableTestHost, instance_id: str) -> None:
    """Run RICH_PROGRAM to its event wait (skipping over its timers), then raise the event."""
    await env.start("program", RICH_PROGRAM, instance_id=instance_id)
    # Its 1 s timers fire in real time; the entity call's answer (an EventRaised) comes just
    # before the wait for "Approval".
    async with asyncio.timeout(20):
        while not any(e["EventType"] == EventType.EventRaised for e in await env.history(instance_id)):
            await asyncio.sleep(0.05)
    await env.settle()
    env.advance(timedelta(seconds=2))
    await env.raise_event(instance_id, "Approval", {"approved": True})
    assert (await env.wait(instance_id))["runtimeStatus"] == "Completed"


async def test_instance_page_draws_the_timeline_and_details(env, page, tmp_path):
    instance_id = "timeline-demo"
    await run_rich_program(env, instance_id)

    await open_dashboard(page, env)
    await page.click(f"#instances a:text-is('{instance_id}')")
    await page.wait_for_selector("#timeline")
    assert await page.locator("#instance-status .badge").inner_text() == "Completed"
    kinds = await page.locator("#timeline g.span").evaluate_all("gs => gs.map(g => g.dataset.kind)")
    assert {"activity", "sub", "timer", "event", "lifecycle"} <= set(kinds)
    assert kinds.count("activity") == 6
    assert await page.locator("#timeline g.span.activity.failed").count() == 1  # boom
    assert "raised Approval" in await page.locator("#timeline").text_content()
    assert await page.locator("#output").inner_text() != "null"
    assert '"approved": true' in await page.locator("#output").inner_text()
    assert '"prefix": "shot-"' in await page.locator("#input").inner_text()
    assert "on purpose" in await page.locator("#failure").inner_text()
    assert await page.locator("#history tbody tr").count() >= 10

    # the header, summary, actions and timeline: the picture in docs/
    box = await page.locator("#timeline-section").bounding_box()
    clip = {"x": 0, "y": 0, "width": 1280, "height": box["y"] + box["height"] + 16}
    picture = Path(os.environ.get("DEVHOST_DASHBOARD_SCREENSHOT") or tmp_path / "timeline.png")
    await page.screenshot(path=str(picture), clip=clip)
    assert picture.stat().st_size > 10_000


async def open_instance(page: Any, env: DurableTestHost, instance_id: str) -> None:
    await open_dashboard(page, env)
    await page.click(f"#instances a:text-is('{instance_id}')")
    await page.wait_for_selector("#timeline-section")


async def test_raise_event_from_the_page_completes_the_instance(env, page):
    instance_id = await env.start("wait_event", instance_id="needs-approval")
    await env.settle()
    await open_instance(page, env, instance_id)
    assert await page.locator("#instance-status .badge").inner_text() == "Running"

    await confirm(page, "raise-event", eventName="Approval", data='{"by": "alice"}')
    await expect(page.locator("#notice")).to_contain_text("Event 'Approval' raised")
    await expect(page.locator("#instance-status .badge")).to_have_text("Completed")  # the page refreshes itself
    status, body = await api_status(env, instance_id)
    assert (status, body["runtimeStatus"], body["output"]) == (200, "Completed", {"by": "alice"})
    assert '"by": "alice"' in await page.locator("#output").inner_text()


async def test_invalid_event_data_is_refused_in_the_page(env, page):
    instance_id = await env.start("wait_event", instance_id="bad-data")
    await env.settle()
    await open_instance(page, env, instance_id)
    await confirm(page, "raise-event", eventName="Approval", data="{not json")
    await expect(page.locator("#alert")).to_contain_text("Event data is not valid JSON")
    assert (await api_status(env, instance_id))[1]["runtimeStatus"] == "Running"


async def test_terminate_asks_first_and_a_cancel_changes_nothing(env, page):
    instance_id = await env.start("wait_event", instance_id="to-terminate")
    await env.settle()
    await open_instance(page, env, instance_id)

    await page.click("#action-terminate")
    assert instance_id in await page.locator("#confirm-dialog").inner_text()
    await page.click("#dialog-cancel")
    await expect(page.locator("#confirm-dialog")).to_have_count(0)
    assert (await api_status(env, instance_id))[1]["runtimeStatus"] == "Running"

    await confirm(page, "terminate", reason="not needed")
    await expect(page.locator("#instance-status .badge")).to_have_text("Terminated")
    status, body = await api_status(env, instance_id)
    assert (status, body["runtimeStatus"], body["output"]) == (200, "Terminated", "not needed")
    assert await page.locator("#action-terminate").is_disabled()


async def test_suspend_resume_restart_and_purge(env, page):
    instance_id = await env.start("wait_event", instance_id="lifecycle")
    await env.settle()
    await open_instance(page, env, instance_id)

    await confirm(page, "suspend", reason="pause")
    await expect(page.locator("#instance-status .badge")).to_have_text("Suspended")
    assert (await api_status(env, instance_id))[1]["runtimeStatus"] == "Suspended"
    await confirm(page, "resume")
    await expect(page.locator("#instance-status .badge")).to_have_text("Running")
    assert (await api_status(env, instance_id))[1]["runtimeStatus"] == "Running"

    await confirm(page, "restart")  # with a new instance id: the page moves to it
    await expect(page.locator("#notice")).to_contain_text("Restarted as ")
    new_id = (await page.locator("#notice").inner_text()).strip().removeprefix("Restarted as ").removesuffix(".")
    assert new_id != instance_id
    await expect(page.locator("#instance-title")).to_have_text(new_id)  # the page moves once it has loaded it
    assert (await api_status(env, new_id))[1]["name"] == "wait_event"

    await confirm(page, "purge")
    await expect(page.locator("#notice")).to_have_text(f"Purged {new_id}.")
    await expect(page.locator(f"#instances tr[data-instance-id='{instance_id}']")).to_have_count(1)
    assert (await api_status(env, new_id))[0] == 404


async def test_a_wrong_key_gets_a_clear_error_and_no_data(env, page):
    await env.start("wait_event", instance_id="secret-instance")
    await open_dashboard(page, env, key="not-the-key")
    await expect(page.locator("#alert")).to_contain_text("The host refused the key (401 Unauthorized)")
    await expect(page.locator("#key-form")).to_be_visible()
    assert "secret-instance" not in await page.content()

    # the function key opens the app's routes, not the dashboard
    await page.fill("#key-input", env.keys.function)
    await page.click("#key-form button[type=submit]")
    await expect(page.locator("#alert")).to_contain_text("401")
    assert "secret-instance" not in await page.content()

    await page.fill("#key-input", env.keys.master)
    await page.click("#key-form button[type=submit]")
    await expect(page.locator("#instances tr[data-instance-id='secret-instance']")).to_have_count(1)
    await expect(page.locator("#alert")).to_be_hidden()


async def test_entities_page_lists_entities_with_their_state(env, page):
    await env.signal_entity("Tally", "apples", "add", 5)
    await env.signal_entity("Tally", "pears", "add", 2)
    await env.settle()
    await open_dashboard(page, env)
    await page.click("#nav-entities")
    await expect(page.locator("#entities tbody tr")).to_have_count(2)
    assert (await page.locator("tr[data-entity='@tally@apples'] pre").inner_text()).strip() == "5"
    assert (await page.locator("tr[data-entity='@tally@pears'] pre").inner_text()).strip() == "2"


async def test_without_key_checks_the_dashboard_asks_for_no_key(knobs, page):
    # python -m devhost --no-auth, as `func start` does: no key anywhere
    async with DurableTestHost.start_time_skipping(HOST_TEST_APP, auth=False) as env:
        instance_id = await env.start("chain", "Ada", instance_id="open-host")
        await env.wait(instance_id)
        await page.goto(env.base_url + "/_devhost/")
        await expect(page.locator(f"#instances tr[data-instance-id='{instance_id}']")).to_have_count(1)
        assert await page.locator("#key-form").count() == 0
