"""Aggregator from inside an orchestration: signal ``add`` for each increment (fire and forget),
then call ``get`` (waits for the answer, delivered after this orchestration's signals)."""
from __future__ import annotations

from collections.abc import Generator
from typing import Any

import azure.durable_functions as df

from app_common import blueprints, names
from app_common.payloads.counter import CounterAddInput, CounterWorkflowInput, CounterWorkflowResult
from app_common.registration import orchestrator
from app_common.validation import JsonDict


@orchestrator(blueprints.counter, names.COUNTER_WORKFLOW)
def counter_workflow(context: df.DurableOrchestrationContext) -> Generator[Any, Any, JsonDict]:
    request = CounterWorkflowInput.from_json(context.get_input())
    entity_id = df.EntityId(names.COUNTER, request.key)
    for amount in request.increments:
        context.signal_entity(entity_id, names.COUNTER_ADD, CounterAddInput(amount).to_json())
    value = yield context.call_entity(entity_id, names.COUNTER_GET)
    return CounterWorkflowResult.from_json(
        {"key": request.key, "signals": len(request.increments), "value": value}).to_json()
