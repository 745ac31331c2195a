"""Generic starter: ``POST /api/orchestrators/{functionName}``.

The one route that answers with the extension's check-status payload, i.e. management URLs
carrying the system key (terminate, raise any event, purge). Give its caller's key only to
operators. Each startable orchestrator's input is validated before anything is started.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import azure.durable_functions as df
import azure.functions as func

from app_common import blueprints, names, settings
from app_common.http import error, read_json
from app_common.payloads.async_http_api import JobInput
from app_common.payloads.chaining import OrderInput
from app_common.payloads.counter import CounterWorkflowInput
from app_common.payloads.fan_out_fan_in import FanOutInput
from app_common.payloads.human_interaction import ApprovalStartRequest
from app_common.registration import client_route
from app_common.validation import JsonDict, ValidationError

# name -> body parser returning the validated orchestrator input (a missing body is parsed as {}).
STARTABLE: dict[str, Callable[[Any], JsonDict]] = {
    names.CHAINING: lambda body: OrderInput.from_json(body).to_json(),
    names.FAN_OUT_FAN_IN: lambda body: FanOutInput.from_json(body).to_json(),
    names.ASYNC_JOB: lambda body: JobInput.from_json(body).to_json(),
    names.APPROVAL_WORKFLOW: lambda body: ApprovalStartRequest.from_json(body).to_input(
        settings.approval_timeout_hours()).to_json(),
    names.COUNTER_WORKFLOW: lambda body: CounterWorkflowInput.from_json(body).to_json(),
}
# Known, but started only by their own route (singleton id / settings-derived defaults).
OWN_ROUTE = {
    names.MONITOR_JOB_STATUS: "POST /api/monitors/{jobId}",
}


@client_route(blueprints.starter, "start_orchestrator", "orchestrators/{functionName}", ["POST"])
async def start_orchestrator(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    name = req.route_params.get("functionName", "")
    parse = STARTABLE.get(name)
    if parse is None:
        if name in OWN_ROUTE:
            return error(404, f"orchestrator '{name}' is started with {OWN_ROUTE[name]}")
        return error(404, f"unknown orchestrator '{name}'; known: {', '.join(sorted(STARTABLE))}")
    try:
        body = read_json(req, optional=True)
        orchestrator_input = parse({} if body is None else body)
    except ValidationError as exc:
        return error(400, str(exc))
    instance_id = await client.start_new(name, None, orchestrator_input)
    return client.create_check_status_response(req, instance_id)
