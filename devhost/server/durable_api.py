"""The extension's HTTP API: public webhooks (``/runtime/webhooks/durabletask``, system key)
and the local RPC endpoint the SDK's client calls (served by ``rpc.py`` on its own listener).

One handler set serves both, as ``HttpApiHandler`` does in the extension (spec 8.2, 9): routes as
``webhook_routes.py`` matches them, query parameters as ``dotnet_query.py`` reads them.
"""
from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any, Awaitable, Callable

from aiohttp import web

from ..host import MAX_INSTANCE_ID_LENGTH, DurableHost, HostError, WrongStateError, input_text_from_client_body
from ..protocol import format_newtonsoft_time
from ..store.base import ACTIVE_STATUSES, FAILED, InstanceQuery, TERMINAL_STATUSES
from .dotnet_query import QueryPairs, dotnet_seconds, try_datetime, try_int, try_seconds, try_statuses
from .keys import AuthPolicy
from .urls import WEBHOOK_PATH, management_urls
from .webhook_routes import ENTITY_ACTIONS, resolve

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_RESTART_ARGUMENT_MESSAGE = "InstanceId does not match a valid orchestration instance."


def _reply(data: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """JSON as ``JsonConvert.SerializeObject`` writes it: no spaces, non-ASCII text as is."""
    return web.json_response(data, status=status, headers=headers, dumps=_compact)


def _compact(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def message(status: int, text: str, **extra: Any) -> web.Response:
    return _reply({"Message": text, **extra}, status=status)


class ArgumentError(Exception):
    """An ``ArgumentException`` the extension turns into a 400 (``message`` is its Message)."""

    def __init__(self, exception_message: str,
                 message_text: str = "One or more of the arguments submitted is incorrect") -> None:
        super().__init__(exception_message)
        self.exception_message = exception_message
        self.message_text = message_text


class _InvalidJson(Exception):
    """A body the extension's JSON reader refuses (HttpApiHandler: JsonReaderException -> 400)."""


class DurableApi:
    def __init__(self, host: DurableHost, auth: AuthPolicy) -> None:
        self.host = host
        self.auth = auth

    # ----------------------------------------------------------------- wiring
    def public_routes(self) -> list[web.RouteDef]:
        """The management webhooks on the public port: system or master key."""
        return self._routes(WEBHOOK_PATH, keyed=True)

    def rpc_routes(self, prefix: str) -> list[web.RouteDef]:
        """The same handlers for the SDK's client, mounted on the local RPC listener (``rpc.py``)."""
        return self._routes(prefix, keyed=False)

    def _routes(self, base: str, *, keyed: bool) -> list[web.RouteDef]:
        async def handle(request: web.Request) -> web.StreamResponse:
            if keyed and not self.auth.allows(request, "system"):
                # The Functions host's webhook handler ([Authorize(Policy = SystemKeyAuthLevel)] on
                # HostController.ExtensionWebHookHandler): a 401 with no body, as for app routes.
                return web.Response(status=401)
            response = await self._safe(request, request.rel_url.raw_path[len(base):])
            if not keyed and response.status in (404, 410):
                # The extension answers these with CreateResponse(status), no content; the SDK's client
                # reads that body (get_status of an unknown id: DurableOrchestrationStatus(message="")).
                # The public webhooks keep the host's JSON message for people reading the answer.
                return web.Response(status=response.status)
            return response
        return [web.route("*", base, handle), web.route("*", base + "/{tail:.*}", handle)]

    async def _safe(self, request: web.Request, raw_path: str) -> web.StreamResponse:
        found = resolve(raw_path, request.method)
        if found is None:
            return message(404, "The durable HTTP API has no such route.")
        query = QueryPairs(request.query)
        hub = (query.get("taskHub") or "").strip()
        if hub and hub.casefold() != self.host.settings.task_hub.casefold():  # (HttpApiHandler.GetClient)
            return message(400, f"This host serves the task hub '{self.host.settings.task_hub}' only; the request "
                                f"names '{hub}' (taskHub). Another task hub is another app's state, and is not "
                                "served here.")
        try:
            return await getattr(self, found.action)(request, query, **found.params)
        except WrongStateError as exc:  # HttpApiHandler's catch-all: 500 with the exception's details
            return message(500, "Something went wrong while processing your request", ExceptionMessage=exc.message,
                           ExceptionType="System.InvalidOperationException", StackTrace=None)
        except ArgumentError as exc:  # the extension's ArgumentException shape; the SDK reads ExceptionMessage
            return message(400, exc.message_text, ExceptionMessage=exc.exception_message,
                           ExceptionType="System.ArgumentException", StackTrace=None)
        except HostError as exc:
            if exc.status == 400 and found.action not in ENTITY_ACTIONS:
                return message(400, "One or more of the arguments submitted is incorrect",
                               ExceptionMessage=exc.message, ExceptionType="System.ArgumentException")
            return message(exc.status, exc.message)
        except (json.JSONDecodeError, _InvalidJson):
            return message(400, "Invalid JSON content")

    def _origin(self, request: web.Request) -> str:
        return f"{request.scheme}://{request.host}"

    def _check_status(self, request: web.Request, instance_id: str) -> web.Response:
        urls = management_urls(self._origin(request), instance_id, self.host.settings.task_hub,
                               self.host.settings.connection_name, self.auth.system_key)
        return _reply(urls, status=202, headers={
            "Location": urls["statusQueryGetUri"], "Retry-After": "10"})

    # ----------------------------------------------------------------- orchestrations
    async def start(self, request: web.Request, query: QueryPairs, functionName: str,
                    instanceId: str | None) -> web.StreamResponse:
        input_text = _input_text(await request.read())
        instance_id = await self.host.start_new(functionName, instanceId, input_text)
        return await self._respond_started(request, query, instance_id)

    async def restart(self, request: web.Request, query: QueryPairs, instanceId: str) -> web.StreamResponse:
        try:
            instance_id = await self.host.restart(instanceId, query.flag("restartWithNewInstanceId", True))
            return await self._respond_started(request, query, instance_id)
        except ArgumentError as exc:  # HandleRestartInstanceRequestAsync's own catch
            raise ArgumentError(exc.exception_message, _RESTART_ARGUMENT_MESSAGE) from None
        except HostError as exc:
            if exc.status != 400:
                raise
            raise ArgumentError(exc.message, _RESTART_ARGUMENT_MESSAGE) from None

    async def _respond_started(self, request: web.Request, query: QueryPairs, instance_id: str) -> web.StreamResponse:
        """``WaitForCompletionOrCreateCheckStatusResponseAsync`` only when both ``timeout`` and
        ``pollingInterval`` parse; otherwise (or when time runs out) the 202 check-status answer."""
        timeout, interval = try_seconds(query.get("timeout")), try_seconds(query.get("pollingInterval"))
        if timeout is None or interval is None:
            return self._check_status(request, instance_id)
        if interval > timeout:
            raise ArgumentError(f"Total timeout {dotnet_seconds(timeout)} should be bigger than retry timeout "
                                f"{dotnet_seconds(interval)}")
        status = await self.host.status(instance_id)
        if status is not None and status["runtimeStatus"] not in TERMINAL_STATUSES and timeout > 0:
            if interval < 0:  # Task.Delay(negative)
                raise ArgumentError("The value needs to translate in milliseconds to -1 (signifying an infinite "
                                    "timeout), 0, or a positive integer less than or equal to the maximum allowed "
                                    "timer duration. (Parameter 'delay')")
            try:
                await self.host.wait(instance_id, timeout)
            except TimeoutError:
                pass
            status = await self.host.status(instance_id)
        if status is None or status["runtimeStatus"] not in TERMINAL_STATUSES:
            return self._check_status(request, instance_id)
        if status["runtimeStatus"] == "Completed":
            return _reply(status.get("output"), status=200)
        return await self.get_status(request, query, instance_id, server_error_on_failure=False)

    async def get_status(self, request: web.Request, query: QueryPairs, instanceId: str, *,
                     server_error_on_failure: bool | None = None) -> web.StreamResponse:
        status = await self.host.status(
            instanceId, show_history=query.flag("showHistory", False),
            show_history_output=query.flag("showHistoryOutput", False), show_input=query.flag("showInput", True))
        if status is None:
            return message(404, f"No instance with ID '{instanceId}' found.")
        runtime_status = status["runtimeStatus"]
        if runtime_status in ACTIVE_STATUSES:
            return _reply(status, status=202, headers={"Location": str(request.url), "Retry-After": "5"})
        if server_error_on_failure is None:
            server_error_on_failure = query.flag("returnInternalServerErrorOnFailure", False)
        if runtime_status == FAILED and server_error_on_failure:
            return _reply(status, status=500)
        return _reply(status, status=200)

    async def list_instances(self, request: web.Request, query: QueryPairs, instanceId: None) -> web.StreamResponse:
        condition = InstanceQuery(
            created_from=try_datetime(query.get("createdTimeFrom")), created_to=try_datetime(query.get("createdTimeTo")),
            statuses=try_statuses(query.all("runtimeStatus"), ("Unknown",)), prefix=query.get("instanceIdPrefix"),
            top=_page_size(query), continuation=request.headers.get("x-ms-continuation-token") or None,
        )
        try:
            rows, token = await self.host.query(condition, show_input=query.flag("showInput", True))
        except (ValueError, KeyError, TypeError) as exc:  # a token the store cannot decode
            if condition.continuation is None:
                raise
            raise HostError(400, "Invalid continuation token.") from exc
        return _reply(rows, headers={"x-ms-continuation-token": token or "null"})

    async def purge_one(self, request: web.Request, query: QueryPairs, instanceId: str) -> web.StreamResponse:
        deleted = await self.host.purge(instanceId)
        if not deleted:
            return message(404, "No instance found to purge.")
        return _reply({"instancesDeleted": deleted})

    async def purge_many(self, request: web.Request, query: QueryPairs, instanceId: None) -> web.StreamResponse:
        created_from = try_datetime(query.get("createdTimeFrom"))
        if created_from is None:  # (CreateResponse with a string: the body is a JSON string)
            return _reply("Please provide value for 'createdTimeFrom' parameter.", status=400)
        deleted = await self.host.purge_by(created_from, try_datetime(query.get("createdTimeTo")),
                                           try_statuses(query.all("runtimeStatus")))
        if not deleted:
            return message(404, "No instances matched the purge filter.")
        return _reply({"instancesDeleted": deleted})

    async def raise_event(self, request: web.Request, query: QueryPairs, instanceId: str,
                          eventName: str) -> web.StreamResponse:
        record = await self.host.get_instance(instanceId)
        if record is None:
            return message(404, f"No instance with ID '{instanceId}' found.")
        if record.status in TERMINAL_STATUSES:
            return message(410, f"The instance '{instanceId}' is {record.status} and cannot receive events.")
        if request.content_type != "application/json":
            return message(400, "Only application/json request content is supported")
        body = await request.read()
        if not body.strip():  # MessagePayloadDataConverter.ConvertToJToken: JToken.Load of nothing throws
            raise _InvalidJson()
        await self.host.raise_event(instanceId, eventName, _input_text(body))
        return web.Response(status=202)

    async def _lifecycle(self, action: Callable[[str, str | None], Awaitable[None]], query: QueryPairs,
                         instance_id: str) -> web.StreamResponse:
        """terminate / suspend / resume / rewind: ``?reason=``, 202 once the request is stored."""
        await action(instance_id, query.get("reason"))
        return web.Response(status=202)

    async def terminate(self, request: web.Request, query: QueryPairs, instanceId: str) -> web.StreamResponse:
        return await self._lifecycle(self.host.terminate, query, instanceId)

    async def suspend(self, request: web.Request, query: QueryPairs, instanceId: str) -> web.StreamResponse:
        return await self._lifecycle(self.host.suspend, query, instanceId)

    async def resume(self, request: web.Request, query: QueryPairs, instanceId: str) -> web.StreamResponse:
        return await self._lifecycle(self.host.resume, query, instanceId)

    async def rewind(self, request: web.Request, query: QueryPairs, instanceId: str) -> web.StreamResponse:
        return await self._lifecycle(self.host.rewind, query, instanceId)

    # ----------------------------------------------------------------- entities
    # (the entity route has its own ArgumentException catch: a 400 with the exception's message only,
    # which _safe gives a HostError(400) from these handlers)
    async def read_entity(self, request: web.Request, query: QueryPairs, entityName: str,
                          entityKey: str) -> web.StreamResponse:
        key = "" if entityKey == "$" else entityKey  # "$" stands for the empty key, on reads only
        record = await self.host.read_entity(entityName, _checked_key(entityName, key))
        if record is None:
            return message(404, f"Entity '@{entityName.lower()}@{key}' not found.")
        return web.Response(status=200, text=record.state or "null", content_type="application/json")

    async def list_entities(self, request: web.Request, query: QueryPairs, entityName: str | None,
                            entityKey: None) -> web.StreamResponse:
        """``ListEntitiesAsync``: entities that exist, ``top`` (100) a page, in id order, between
        ``lastOperationTimeFrom`` and ``lastOperationTimeTo`` (now)."""
        page_size = _page_size(query)
        after = _entity_token(request.headers.get("x-ms-continuation-token") or None)
        low, high = try_datetime(query.get("lastOperationTimeFrom")), try_datetime(query.get("lastOperationTimeTo"))
        high = high or self.host.clock.now()
        records = [r for r in await self.host.list_entities(entityName)
                   if (after is None or r.entity_id > after) and (low is None or low <= r.last_modified) and
                   r.last_modified <= high]
        page = records[:page_size]
        token = base64.urlsafe_b64encode(page[-1].entity_id.encode()).decode() if len(records) > page_size else None
        fetch_state = query.flag("fetchState", False)
        rows = [{"entityId": {"name": r.name, "key": r.key}, "lastOperationTime": format_newtonsoft_time(r.last_modified),
                 "state": (json.loads(r.state) if r.state else None) if fetch_state else None} for r in page]
        return _reply(rows, headers={"x-ms-continuation-token": token or "null"})

    async def signal_entity(self, request: web.Request, query: QueryPairs, entityName: str | None,
                            entityKey: str | None) -> web.StreamResponse:
        if not entityName:
            return message(400, "Invalid entity id: entity name must not be a null or empty string. "
                                "(Parameter 'entityName')")
        key = _checked_key(entityName, entityKey or "")
        operation = "delete" if request.method == "DELETE" else (query.get("op") or "")
        body = await request.read()
        if not body:
            input_text = None
        elif request.content_type == "application/json":
            try:
                input_text = _input_text(body)  # (None for a body of whitespace)
            except _InvalidJson:
                return message(400, "Could not parse JSON content: the body is not valid JSON.")
            if input_text is None:
                return message(400, "Could not parse JSON content: the body is empty.")
        else:  # any other content is the operation's input as a string
            input_text = json.dumps(body.decode("utf-8", errors="replace"))
        await self.host.signal_entity(entityName, key, operation, input_text)
        return web.Response(status=202)


def _input_text(body: bytes) -> str | None:
    try:
        return input_text_from_client_body(body)
    except (ValueError, RecursionError) as exc:  # not UTF-8, the int-str digit limit, deep nesting
        raise _InvalidJson() from exc


def _page_size(query: QueryPairs) -> int:
    """``top`` (PageSize), 100 unless it parses; a page of none or fewer is refused with a 400
    (the providers refuse it with an exception, which the extension answers with a 500)."""
    top = try_int(query.get("top"))
    if top is not None and top < 1:
        raise HostError(400, "top must be a positive integer.")
    return 100 if top is None else top


def _checked_key(name: str, key: str) -> str:
    # An entity's instance id is "@name@key": held to the extension's instance id limit
    # (DurableClient.MaxInstanceIdLength) so it also fits a storage partition key (1 KiB).
    if len(name) + len(key) + 2 > MAX_INSTANCE_ID_LENGTH:
        raise HostError(400, f"Entity IDs ('@name@key') must not exceed {MAX_INSTANCE_ID_LENGTH} characters.")
    return key


def _entity_token(token: str | None) -> str | None:
    """The entity id a page ended at (the host's own opaque token)."""
    if token is None:
        return None
    try:
        return base64.urlsafe_b64decode(token.encode("ascii")).decode("utf-8")
    except (ValueError, UnicodeError) as exc:
        raise HostError(400, "Invalid continuation token.") from exc


__all__ = ["DurableApi"]
