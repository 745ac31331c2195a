"""What /_devhost/ serves without a browser: keyless static files that hold no data, with headers
that keep other origins out, and the one data call of its own behind the master key."""
from __future__ import annotations

import pytest

PAGES = ["/_devhost/", "/_devhost/index.html", "/_devhost/app.js", "/_devhost/timeline.js", "/_devhost/style.css"]


@pytest.mark.parametrize("path", PAGES)
async def test_static_files_load_without_a_key_with_a_strict_policy(env, path):
    async with env.request("GET", path, key=None) as response:
        assert response.status == 200
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        policy = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy and "unsafe" not in policy
        assert "Access-Control-Allow-Origin" not in response.headers
        assert env.keys.master not in await response.text()


async def test_the_bare_path_redirects_to_the_page(env):
    async with env.request("GET", "/_devhost", key=None, allow_redirects=False) as response:
        assert (response.status, response.headers["Location"]) == (302, "/_devhost/")


@pytest.mark.parametrize("path", ["/_devhost/missing.js", "/_devhost/..%2fhost.py", "/_devhost/%2e%2e/__init__.py",
                                  "/_devhost/static/app.js", "/_devhost/__init__.py"])
async def test_nothing_else_is_served(env, path):
    async with env.request("GET", path, key=None) as response:
        assert response.status == 404
        assert "import" not in await response.text()


@pytest.mark.parametrize("key", [None, "function", "system", "wrong"])
async def test_the_app_names_need_the_master_key(env, key):
    async with env.request("GET", "/_devhost/api/app", key=key) as response:
        assert response.status == 401
        assert "orchestrators" not in await response.text()


async def test_the_app_names_with_the_master_key(env):
    async with env.request("GET", "/_devhost/api/app", key="master") as response:
        assert response.status == 200
        body = await response.json()
    assert "program" in body["orchestrators"] and body["entities"] == ["Tally"]
    assert body["taskHub"] == env.host.settings.task_hub


async def test_a_cross_origin_preflight_gets_no_cors_grant(env):
    # The page sends the key in a header, so another origin's script needs a preflight: refused.
    headers = {"Origin": "http://evil.example", "Access-Control-Request-Method": "POST",
               "Access-Control-Request-Headers": "x-functions-key"}
    async with env.request("OPTIONS", "/runtime/webhooks/durabletask/instances/x/terminate", key=None,
                           headers=headers) as response:
        assert "Access-Control-Allow-Origin" not in response.headers
        assert "Access-Control-Allow-Headers" not in response.headers
