"""Counter routes: ``POST /api/counters/{key}/add`` (body: a JSON integer), ``POST
/api/counters/{key}/reset``, ``DELETE /api/counters/{key}`` (202: signals, applied
asynchronously) and ``GET /api/counters/{key}`` (200 ``{"key", "value"}``, 404 if absent).

``add`` answers 409 when the value it reads now plus the amount would leave ±(2^53-1), or when
the stored state is not a safe integer (GET too). That check is advisory: signals are one-way and
may race, so the entity checks again when it applies the ``add`` (the authoritative check)."""
from __future__ import annotations

import azure.durable_functions as df
import azure.functions as func

from app_common import blueprints, names
from app_common.http import error, json_response, read_json
from app_common.payloads.counter import (
    CounterAddInput,
    CounterRangeError,
    CounterStateError,
    added,
    check_amount,
    stored_value,
    unreadable_state,
)
from app_common.registration import client_route
from app_common.validation import SAFE_ID, ValidationError

bp = blueprints.counter


def _entity(req: func.HttpRequest) -> tuple[str, df.EntityId | None]:
    key = req.route_params.get("key", "")
    return key, df.EntityId(names.COUNTER, key) if SAFE_ID.fullmatch(key) else None


def _signalled(key: str, operation: str, **extra: object) -> func.HttpResponse:
    return json_response({"key": key, "operation": operation, **extra}, 202)


def _bad_key(key: str) -> func.HttpResponse:
    return error(400, f"invalid counter key ({len(key)} characters; allowed: {SAFE_ID.pattern})")


async def _current_value(client: df.DurableOrchestrationClient, entity_id: df.EntityId) -> int | None:
    """The stored value, None if the counter does not exist; CounterStateError if unreadable.

    A deleted counter reads back as existing with a null state on Azure Storage (the SDK's
    ``destruct_on_exit`` leaves the state text "null", which the extension's read reports as an
    existing entity: azure-functions-durable-python#316); the SDK's client hands that null body
    back as "" (``http_utils.get_async_request``). Either counts as absent."""
    try:
        state = await client.read_entity_state(entity_id)
    except ValueError:  # the client could not decode the stored JSON
        raise unreadable_state() from None
    if not state.entity_exists or state.entity_state in (None, ""):
        return None
    return stored_value(state.entity_state)


@client_route(bp, "counter_add", "counters/{key}/add", ["POST"])
async def counter_add(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    key, entity_id = _entity(req)
    if entity_id is None:
        return _bad_key(key)
    try:
        amount = check_amount(read_json(req), "body")
    except ValidationError as exc:
        return error(400, f"{exc} (send a JSON integer, e.g. 5)")
    try:
        current = await _current_value(client, entity_id)
        added(current or 0, amount)
    except (CounterStateError, CounterRangeError) as exc:
        return error(409, str(exc), key=key)
    await client.signal_entity(entity_id, names.COUNTER_ADD, CounterAddInput(amount).to_json())
    return _signalled(key, names.COUNTER_ADD, amount=amount)


async def _signal_without_input(req: func.HttpRequest, client: df.DurableOrchestrationClient,
                                operation: str) -> func.HttpResponse:
    key, entity_id = _entity(req)
    if entity_id is None:
        return _bad_key(key)
    await client.signal_entity(entity_id, operation)
    return _signalled(key, operation)


@client_route(bp, "counter_reset", "counters/{key}/reset", ["POST"])
async def counter_reset(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    return await _signal_without_input(req, client, names.COUNTER_RESET)


@client_route(bp, "counter_delete", "counters/{key}", ["DELETE"])
async def counter_delete(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    return await _signal_without_input(req, client, names.COUNTER_DELETE)


@client_route(bp, "counter_get", "counters/{key}", ["GET"])
async def counter_get(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    key, entity_id = _entity(req)
    if entity_id is None:
        return _bad_key(key)
    try:
        value = await _current_value(client, entity_id)
    except CounterStateError as exc:
        return error(409, str(exc), key=key)
    if value is None:
        return error(404, f"no counter '{key}'")
    return json_response({"key": key, "value": value})
