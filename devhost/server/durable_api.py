"""The extension's HTTP API: public webhooks (``/runtime/webhooks/durabletask``, system key)
and the local RPC endpoint the SDK's client calls (served by ``rpc.py`` on its own listener).

One handler set serves both, as ``HttpApiHandler`` does in the extension (spec 8.2, 9).
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Awaitable, Callable

from aiohttp import web

from ..host import MAX_INSTANCE_ID_LENGTH, DurableHost, HostError, WrongStateError, input_text_from_client_body
from ..protocol import parse_timestamp
from ..store.base import ACTIVE_STATUSES, FAILED, InstanceQuery, TERMINAL_STATUSES
from .keys import AuthPolicy, unauthorized
from .urls import WEBHOOK_PATH, management_urls

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_RUNTIME_STATUSES = {"Running", "Completed", "ContinuedAsNew", "Failed", "Canceled", "Terminated",
                     "Pending", "Suspended"}


def message(status: int, text: str, **extra: Any) -> web.Response:
    return web.json_response({"Message": text, **extra}, status=status)


def _flag(request: web.Request, name: str, default: bool) -> bool:
    value = request.query.get(name)
    if value is None:
        return default
    return value.strip().lower() == "true"


def _time(request: web.Request, name: str) -> datetime | None:
    value = request.query.get(name)
    if not value:
        return None
    try:
        return parse_timestamp(value)
    except (ValueError, OverflowError) as exc:
        raise HostError(400, f"Invalid '{name}' value: {value!r}.") from exc


def _statuses(request: web.Request) -> frozenset[str] | None:
    values = [part.strip() for raw in request.query.getall("runtimeStatus", []) for part in raw.split(",")]
    values = [v for v in values if v]
    if not values:
        return None
    unknown = [v for v in values if v not in _RUNTIME_STATUSES]
    if unknown:
        raise HostError(400, f"Unknown runtimeStatus value(s): {', '.join(unknown)}.")
    return frozenset(values)


class DurableApi:
    def __init__(self, host: DurableHost, auth: AuthPolicy) -> None:
        self.host = host
        self.auth = auth

    # ----------------------------------------------------------------- wiring
    def _table(self) -> list[tuple[str, str, Handler]]:
        return [
            ("POST", "/orchestrators/{functionName}", self.start),
            ("POST", "/orchestrators/{functionName}/{instanceId}", self.start),
            ("GET", "/instances", self.list_instances),
            ("GET", "/instances/", self.list_instances),
            ("DELETE", "/instances", self.purge_many),
            ("DELETE", "/instances/", self.purge_many),
            ("GET", "/instances/{instanceId}", self.get_status),
            ("DELETE", "/instances/{instanceId}", self.purge_one),
            ("POST", "/instances/{instanceId}/raiseEvent/{eventName}", self.raise_event),
            ("POST", "/instances/{instanceId}/terminate", self._lifecycle(self.host.terminate)),
            ("POST", "/instances/{instanceId}/suspend", self._lifecycle(self.host.suspend)),
            ("POST", "/instances/{instanceId}/resume", self._lifecycle(self.host.resume)),
            ("POST", "/instances/{instanceId}/rewind", self._lifecycle(self.host.rewind)),
            ("POST", "/instances/{instanceId}/restart", self.restart),
            ("GET", "/entities/{entityName}", self.list_entities),
            ("GET", "/entities/{entityName}/{entityKey}", self.read_entity),
            ("POST", "/entities/{entityName}/{entityKey}", self.signal_entity),
            ("DELETE", "/entities/{entityName}/{entityKey}", self.delete_entity),
        ]

    def public_routes(self) -> list[web.RouteDef]:
        """The management webhooks on the public port: system or master key."""
        return [web.route(method, WEBHOOK_PATH + path, self._keyed(handler)) for method, path, handler in self._table()]

    def rpc_routes(self, prefix: str) -> list[web.RouteDef]:
        """The same handlers for the SDK's client, mounted on the local RPC listener (``rpc.py``)."""
        return [web.route(method, prefix + path, self._unkeyed(handler)) for method, path, handler in self._table()]

    def _keyed(self, handler: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            if not self.auth.allows(request, "system"):
                return unauthorized("system")
            return await self._safe(handler, request)
        return guarded

    def _unkeyed(self, handler: Handler) -> Handler:
        async def safe(request: web.Request) -> web.StreamResponse:
            return await self._safe(handler, request)
        return safe

    async def _safe(self, handler: Handler, request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except WrongStateError as exc:  # HttpApiHandler's catch-all: 500 with the exception's details
            return message(500, "Something went wrong while processing your request", ExceptionMessage=exc.message,
                           ExceptionType="System.InvalidOperationException", StackTrace=None)
        except HostError as exc:
            if exc.status == 400:  # the extension's ArgumentException shape; the SDK reads ExceptionMessage
                return message(400, "One or more of the arguments submitted is incorrect",
                               ExceptionMessage=exc.message, ExceptionType="System.ArgumentException")
            return message(exc.status, exc.message)
        except (json.JSONDecodeError, _InvalidJson):
            return message(400, "Invalid JSON content.")

    def _origin(self, request: web.Request) -> str:
        return f"{request.scheme}://{request.host}"

    def _check_status(self, request: web.Request, instance_id: str) -> web.Response:
        urls = management_urls(self._origin(request), instance_id, self.host.settings.task_hub,
                               self.host.settings.connection_name, self.auth.system_key)
        return web.json_response(urls, status=202, headers={
            "Location": urls["statusQueryGetUri"], "Retry-After": "10"})

    # ----------------------------------------------------------------- orchestrations
    async def start(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        input_text = _input_text(body)
        instance_id = await self.host.start_new(request.match_info["functionName"],
                                                request.match_info.get("instanceId"), input_text)
        return await self._respond_started(request, instance_id)

    async def _respond_started(self, request: web.Request, instance_id: str) -> web.StreamResponse:
        timeout = request.query.get("timeout")
        if timeout is None:
            return self._check_status(request, instance_id)
        try:
            seconds = float(timeout)
        except ValueError as exc:
            raise HostError(400, "timeout must be a number of seconds.") from exc
        try:
            status = await self.host.wait(instance_id, seconds)
        except TimeoutError:
            return self._check_status(request, instance_id)
        return web.json_response(status.get("output"), status=200) if status["runtimeStatus"] == "Completed" \
            else web.json_response(status, status=200)

    async def get_status(self, request: web.Request) -> web.StreamResponse:
        instance_id = request.match_info["instanceId"]
        status = await self.host.status(
            instance_id,
            show_history=_flag(request, "showHistory", False),
            show_history_output=_flag(request, "showHistoryOutput", False),
            show_input=_flag(request, "showInput", True),
        )
        if status is None:
            return message(404, f"No instance with ID '{instance_id}' found.")
        runtime_status = status["runtimeStatus"]
        if runtime_status in ACTIVE_STATUSES:
            return web.json_response(status, status=202, headers={"Location": str(request.url), "Retry-After": "5"})
        if runtime_status == FAILED and _flag(request, "returnInternalServerErrorOnFailure", False):
            return web.json_response(status, status=500)
        return web.json_response(status, status=200)

    async def list_instances(self, request: web.Request) -> web.StreamResponse:
        top = request.query.get("top")
        if top is not None and (not top.isdigit() or int(top) < 1):
            raise HostError(400, "top must be a positive integer.")
        query = InstanceQuery(
            created_from=_time(request, "createdTimeFrom"), created_to=_time(request, "createdTimeTo"),
            statuses=_statuses(request), prefix=request.query.get("instanceIdPrefix"),
            top=int(top) if top else 100, continuation=request.headers.get("x-ms-continuation-token") or None,
        )
        try:
            rows, token = await self.host.query(query, show_input=_flag(request, "showInput", False))
        except (ValueError, KeyError, TypeError) as exc:  # a token the store cannot decode
            if query.continuation is None:
                raise
            raise HostError(400, "Invalid continuation token.") from exc
        return web.json_response(rows, headers={"x-ms-continuation-token": token or "null"})

    async def purge_one(self, request: web.Request) -> web.StreamResponse:
        deleted = await self.host.purge(request.match_info["instanceId"])
        if not deleted:
            return message(404, "No instance found to purge.")
        return web.json_response({"instancesDeleted": deleted})

    async def purge_many(self, request: web.Request) -> web.StreamResponse:
        created_from = _time(request, "createdTimeFrom")
        if created_from is None:
            raise HostError(400, "Please provide value for 'createdTimeFrom' parameter.")
        deleted = await self.host.purge_by(created_from, _time(request, "createdTimeTo"), _statuses(request))
        if not deleted:
            return message(404, "No instances matched the purge filter.")
        return web.json_response({"instancesDeleted": deleted})

    async def raise_event(self, request: web.Request) -> web.StreamResponse:
        instance_id = request.match_info["instanceId"]
        record = await self.host.get_instance(instance_id)
        if record is None:
            return message(404, f"No instance with ID '{instance_id}' found.")
        if record.status in TERMINAL_STATUSES:
            return message(410, f"The instance '{instance_id}' is {record.status} and cannot receive events.")
        if request.content_type != "application/json":
            return message(400, "Only application/json request content is supported")
        body = await request.read()
        data_text = _input_text(body)
        await self.host.raise_event(instance_id, request.match_info["eventName"], data_text)
        return web.Response(status=202)

    def _lifecycle(self, action: Callable[[str, str | None], Awaitable[None]]) -> Handler:
        """terminate / suspend / resume / rewind: ``?reason=``, 202 once the request is stored."""
        async def handle(request: web.Request) -> web.StreamResponse:
            await action(request.match_info["instanceId"], request.query.get("reason"))
            return web.Response(status=202)
        return handle

    async def restart(self, request: web.Request) -> web.StreamResponse:
        new_id = _flag(request, "restartWithNewInstanceId", True)
        instance_id = await self.host.restart(request.match_info["instanceId"], new_id)
        return await self._respond_started(request, instance_id)

    # ----------------------------------------------------------------- entities
    async def read_entity(self, request: web.Request) -> web.StreamResponse:
        name, key = request.match_info["entityName"], _entity_key(request)
        record = await self.host.read_entity(name, key)
        if record is None:
            return message(404, f"Entity '@{name.lower()}@{key}' not found.")
        return web.Response(status=200, text=record.state or "null", content_type="application/json")

    async def list_entities(self, request: web.Request) -> web.StreamResponse:
        fetch_state = _flag(request, "fetchState", False)
        rows = []
        for record in await self.host.list_entities(request.match_info["entityName"]):
            row: dict[str, Any] = {"entityId": {"name": record.name, "key": record.key},
                                   "lastOperationTime": record.last_modified.strftime("%Y-%m-%dT%H:%M:%SZ")}
            if fetch_state:
                row["state"] = json.loads(record.state) if record.state else None
            rows.append(row)
        return web.json_response(rows, headers={"x-ms-continuation-token": "null"})

    async def signal_entity(self, request: web.Request) -> web.StreamResponse:
        operation = request.query.get("op")
        if not operation:
            raise HostError(400, "The 'op' query parameter is required.")
        body = await request.read()
        if not body:
            input_text = None
        elif request.content_type == "application/json":
            input_text = _input_text(body)
        else:
            input_text = body.decode("utf-8", errors="replace")
        await self.host.signal_entity(request.match_info["entityName"], _entity_key(request), operation, input_text)
        return web.Response(status=202)

    async def delete_entity(self, request: web.Request) -> web.StreamResponse:
        await self.host.signal_entity(request.match_info["entityName"], _entity_key(request), "delete", None)
        return web.Response(status=202)


class _InvalidJson(Exception):
    """A body the extension's JSON reader refuses (HttpApiHandler: JsonReaderException -> 400)."""


def _input_text(body: bytes) -> str | None:
    try:
        return input_text_from_client_body(body)
    except (ValueError, RecursionError) as exc:  # not UTF-8, the int-str digit limit, deep nesting
        raise _InvalidJson() from exc


def _entity_key(request: web.Request) -> str:
    key = request.match_info["entityKey"]
    key = "" if key == "$" else key
    # An entity's instance id is "@name@key": held to the extension's instance id limit
    # (DurableClient.MaxInstanceIdLength) so it also fits a storage partition key (1 KiB).
    if len(request.match_info["entityName"]) + len(key) + 2 > MAX_INSTANCE_ID_LENGTH:
        raise HostError(400, f"Entity IDs ('@name@key') must not exceed {MAX_INSTANCE_ID_LENGTH} characters.")
    return key


__all__ = ["DurableApi"]
