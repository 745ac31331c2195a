"""Which function gets an ``azure.functions.Context``: the worker passes one only to a parameter
named ``context`` that no binding claims (azure_functions_worker/functions.py and
azure_functions_runtime/functions.py, ``Registry.is_context_required``). A durable client bound
to the name ``context`` must receive the client, not an invocation context."""
from __future__ import annotations

from pathlib import Path

from devhost.testing import DurableTestHost

APP = '''
import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)


@app.route(route="client-named-context")
@app.durable_client_input(client_name="context")
async def client_named_context(req: func.HttpRequest, context: df.DurableOrchestrationClient) -> func.HttpResponse:
    return func.HttpResponse(type(context).__name__)


@app.route(route="unbound-context")
def unbound_context(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    return func.HttpResponse(context.function_name)
'''


async def test_context_goes_to_unbound_parameters_only(tmp_path: Path):
    (tmp_path / "function_app.py").write_text(APP)
    async with DurableTestHost.start_time_skipping(tmp_path) as env:
        async with env.request("GET", "/api/client-named-context") as response:
            assert (response.status, await response.text()) == (200, "DurableOrchestrationClient")
        async with env.request("GET", "/api/unbound-context") as response:
            assert (response.status, await response.text()) == (200, "unbound_context")
