"""The ``Counter`` entity: an integer per key. Operations: add ``{"amount": int}`` (returns the
new value), reset, get, delete (the entity stops existing)."""
from __future__ import annotations

import azure.durable_functions as df

from app_common import blueprints, names
from app_common.payloads.counter import CounterAddInput, check_amount
from app_common.registration import entity


class UnknownOperationError(ValueError):
    pass


@entity(blueprints.counter, names.COUNTER)
def counter(context: df.DurableEntityContext) -> None:
    operation = context.operation_name
    value = check_amount(context.get_state(lambda: 0), "counter state")
    if operation == names.COUNTER_ADD:
        value += CounterAddInput.from_json(context.get_input()).amount
        context.set_state(value)
        context.set_result(value)
    elif operation == names.COUNTER_RESET:
        context.set_state(0)
        context.set_result(0)
    elif operation == names.COUNTER_GET:
        context.set_result(value)
    elif operation == names.COUNTER_DELETE:
        context.destruct_on_exit()
    else:
        raise UnknownOperationError(f"Counter has no operation '{operation}'")
