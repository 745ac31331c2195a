"""Management URLs and the ``durableClient`` binding JSON (spec 8.1, 9)."""
from __future__ import annotations

import json
from urllib.parse import quote

WEBHOOK_PATH = "/runtime/webhooks/durabletask"


def _suffix(task_hub: str, connection: str, key: str | None) -> str:
    suffix = f"taskHub={quote(task_hub)}&connection={quote(connection)}"
    return suffix + (f"&code={quote(key)}" if key else "")


def management_urls(origin: str, instance_id: str, task_hub: str, connection: str,
                    key: str | None, *, include_rewind: bool = False) -> dict[str, str]:
    base = origin.rstrip("/") + WEBHOOK_PATH
    iid = quote(instance_id, safe="") if instance_id != "INSTANCEID" else instance_id
    q = _suffix(task_hub, connection, key)
    urls = {
        "id": instance_id,
        "statusQueryGetUri": f"{base}/instances/{iid}?{q}",
        "sendEventPostUri": f"{base}/instances/{iid}/raiseEvent/{{eventName}}?{q}",
        "terminatePostUri": f"{base}/instances/{iid}/terminate?reason={{text}}&{q}",
        "rewindPostUri": f"{base}/instances/{iid}/rewind?reason={{text}}&{q}",
        "purgeHistoryDeleteUri": f"{base}/instances/{iid}?{q}",
        "restartPostUri": f"{base}/instances/{iid}/restart?{q}",
        "suspendPostUri": f"{base}/instances/{iid}/suspend?reason={{text}}&{q}",
        "resumePostUri": f"{base}/instances/{iid}/resume?reason={{text}}&{q}",
    }
    if not include_rewind:
        del urls["rewindPostUri"]
    return urls


def client_binding(origin: str, rpc_base_url: str, task_hub: str, connection: str,
                   key: str | None, binding: dict[str, str] | None = None) -> str:
    """The JSON string the extension passes to a ``durable_client_input`` parameter."""
    hub = (binding or {}).get("taskHub") or task_hub
    connection = (binding or {}).get("connectionName") or connection  # (the URLs carry it; the field is null)
    base = origin.rstrip("/") + WEBHOOK_PATH
    code = f"?code={quote(key)}" if key else ""
    code_amp = f"&code={quote(key)}" if key else ""
    value = {
        "taskHubName": hub,
        "connectionName": None,  # BindingHelper.DurableOrchestrationClientToString never sets it
        "creationUrls": {
            "createNewInstancePostUri": f"{base}/orchestrators/{{functionName}}[/{{instanceId}}]{code}",
            "createAndWaitOnNewInstancePostUri": (
                f"{base}/orchestrators/{{functionName}}[/{{instanceId}}]?timeout={{timeoutInSeconds}}"
                f"&pollingInterval={{intervalInSeconds}}{code_amp}"),
        },
        "managementUrls": management_urls(origin, "INSTANCEID", hub, connection, key, include_rewind=True),
        "baseUrl": base,
        "requiredQueryStringParameters": f"code={quote(key)}" if key else "",
        "rpcBaseUrl": rpc_base_url,
        "httpBaseUrl": None,
    }
    return json.dumps(value)
