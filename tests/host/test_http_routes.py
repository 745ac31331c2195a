"""The app's own HTTP routes: templates, methods, auth levels, errors (spec 10, issue 3 item 5)."""
from __future__ import annotations


async def test_route_parameters_optional_segments_and_query(env):
    async with env.request("GET", "/api/public/ana?q=1", key=None) as response:
        assert response.status == 200
        assert await response.json() == {"name": "ana", "q": "1"}
    async with env.request("GET", "/api/public", key=None) as response:
        assert await response.json() == {"name": None, "q": None}


async def test_function_level_routes_need_a_function_or_master_key(env):
    async with env.request("POST", "/api/orchestrators/chain", key=None, json="x") as response:
        # FunctionInvocationMiddleware.GetResultAsync ~117-121 (Azure/azure-functions-host
        # src/WebJobs.Script.WebHost/Middleware): UnauthorizedResult, a 401 with no body
        assert response.status == 401
        assert await response.read() == b""
    async with env.request("POST", "/api/orchestrators/chain", key="wrong", json="x") as response:
        assert response.status == 401
    async with env.request("POST", "/api/orchestrators/chain", key="master", json="x") as response:
        assert response.status == 202
    async with env.session.post(f"/api/orchestrators/chain?code={env.keys.function}", json="x") as response:
        assert response.status == 202
    async with env.request("POST", "/api/orchestrators/chain", key="system", json="x") as response:
        assert response.status == 401  # the system key is for the durable API only


async def test_admin_level_needs_the_master_key_and_context_is_passed(env):
    async with env.request("GET", "/api/needs-admin", key="function") as response:
        assert response.status == 401
    async with env.request("GET", "/api/needs-admin", key="master") as response:
        assert response.status == 200
        assert await response.text() == "admin_only"


async def test_unknown_route_and_wrong_method_are_a_bare_404(env):
    """The method is a route constraint (WebScriptHostHttpRoutesManager.cs ~53-57,
    HttpMethodRouteConstraint): a wrong method matches no function, and a request that matches
    none gets FunctionInvocationMiddleware's NotFoundResult (~101-104), a 404 with no body."""
    async with env.request("GET", "/api/nothing-here") as response:
        assert response.status == 404
        assert await response.read() == b""
    async with env.request("GET", "/api/orchestrators/chain") as response:
        assert response.status == 404
        assert await response.read() == b""


async def test_s12_5_create_check_status_response_uses_the_request_origin(env):
    async with env.request("POST", "/api/orchestrators/chain", json="x") as response:
        assert response.status == 202
        body = await response.json()
    assert body["statusQueryGetUri"].startswith(env.base_url + "/runtime/webhooks/durabletask/instances/")
    assert response.headers["Retry-After"] == "10"
    assert "rewindPostUri" in body  # the SDK's payload (the extension's own omits it)



async def test_a_function_that_raises_answers_a_bare_500_and_logs_the_exception(env, function_errors):
    """The Functions host's ExceptionMiddleware sets status 500 and writes no body: the exception
    text goes to the log, never to the caller (Azure/azure-functions-host
    src/WebJobs.Script.WebHost/Middleware/ExceptionMiddleware.cs)."""
    async with env.request("POST", "/api/client/no-such-operation", json={}) as response:
        assert response.status == 500
        assert await response.read() == b""
    assert "unknown operation no-such-operation" in function_errors()
