"""SDK client operations the host tests run through ``POST /api/client/{operation}``."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import azure.durable_functions as df


def _status(status: Any) -> dict[str, Any] | None:
    if not status:
        return None
    return {
        "name": status.name,
        "instance_id": status.instance_id,
        "runtime_status": status.runtime_status.value if status.runtime_status else None,
        "input": status.input_,
        "output": status.output,
        "custom_status": status.custom_status,
        "history": getattr(status, "historyEvents", None),
    }


async def run(client: df.DurableOrchestrationClient, operation: str, args: dict[str, Any]) -> Any:
    if operation == "start_new":
        return await client.start_new(args["name"], args.get("instance_id"), args.get("input"))
    if operation == "get_status":
        return _status(await client.get_status(args["instance_id"], show_history=args.get("show_history", False),
                                                show_history_output=args.get("show_history", False),
                                                show_input=True))
    if operation == "get_status_all":
        return [_status(s) for s in await client.get_status_all()]
    if operation == "get_status_by":
        statuses = [df.OrchestrationRuntimeStatus(s) for s in args["statuses"]]
        return [_status(s) for s in await client.get_status_by(
            created_time_from=datetime(2000, 1, 1), created_time_to=datetime(2999, 1, 1), runtime_status=statuses)]
    if operation == "raise_event":
        await client.raise_event(args["instance_id"], args["name"], args.get("data"))
        return "raised"
    if operation == "terminate":
        await client.terminate(args["instance_id"], args["reason"])
        return "terminated"
    if operation == "suspend":
        await client.suspend(args["instance_id"], args["reason"])
        return "suspended"
    if operation == "resume":
        await client.resume(args["instance_id"], args["reason"])
        return "resumed"
    if operation == "restart":
        return await client.restart(args["instance_id"], args.get("new_id", True))
    if operation == "purge":
        return (await client.purge_instance_history(args["instance_id"])).instances_deleted
    if operation == "signal_entity":
        await client.signal_entity(df.EntityId(args["name"], args["key"]), args["op"], args.get("input"))
        return "signalled"
    if operation == "read_entity":
        response = await client.read_entity_state(df.EntityId(args["name"], args["key"]))
        return {"exists": response.entity_exists, "state": response.entity_state}
    if operation == "status_message":  # what an unknown id's status object carries
        return getattr(await client.get_status(args["instance_id"]), "message", "<no message attribute>")
    if operation == "raise_event_in_hub":
        await client.raise_event(args["instance_id"], args["name"], args.get("data"), task_hub_name=args["hub"])
        return "raised"
    if operation == "purge_by":
        statuses = [df.OrchestrationRuntimeStatus(s) for s in args["statuses"]]
        return (await client.purge_instance_history_by(
            created_time_from=datetime(2000, 1, 1), created_time_to=datetime(2999, 1, 1),
            runtime_status=statuses)).instances_deleted
    if operation == "binding":  # the durableClient binding's URLs and connection, as the SDK holds them
        bindings = client._orchestration_bindings
        return {"management_urls": bindings.management_urls, "creation_urls": bindings.creation_urls,
                "connection_name": getattr(bindings.client_data, "connectionName", None)}
    if operation == "rpc_base_url":  # what the durableClient binding handed the SDK
        return client._orchestration_bindings.rpc_base_url
    if operation == "wait_or_check":
        response = await client.wait_for_completion_or_create_check_status_response(
            None, args["instance_id"], timeout_in_milliseconds=args.get("timeout_ms", 2000))
        return {"status_code": response.status_code, "body": response.get_body().decode()}
    raise ValueError(f"unknown operation {operation}")
