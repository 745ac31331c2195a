"""Function chaining: each activity consumes the previous one's output; a failure once stock
may be held releases the reservation before the orchestration fails."""
from __future__ import annotations

from collections.abc import Generator
from typing import Any

import azure.durable_functions as df

from app_common import blueprints, names
from app_common.orchestration import RETRY, failure_message
from app_common.payloads.chaining import OrderInput, Receipt, ReleaseInput
from app_common.registration import orchestrator
from app_common.validation import JsonDict


class OrderFailedError(Exception):
    pass


@orchestrator(blueprints.chaining, names.CHAINING)
def chaining(context: df.DurableOrchestrationContext) -> Generator[Any, Any, JsonDict]:
    order = OrderInput.from_json(context.get_input())
    validated = yield context.call_activity(names.VALIDATE_ORDER, order.to_json())
    priced = yield context.call_activity(names.PRICE_ORDER, validated)
    try:
        reservation = yield context.call_activity(names.RESERVE_INVENTORY, priced)
        receipt = yield context.call_activity(names.WRITE_RECEIPT, reservation)
    except Exception as exc:  # noqa: BLE001 - the SDK raises a bare Exception for a failed task
        # ReserveInventory holds stock line by line, so even its own failure may leave some held.
        yield context.call_activity_with_retry(names.RELEASE_RESERVATION, RETRY,
                                               ReleaseInput(order.order_id).to_json())
        raise OrderFailedError(
            f"order {order.order_id} failed, reservation released: {failure_message(exc)}") from None
    return Receipt.from_json(receipt).to_json()
