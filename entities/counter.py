"""The ``Counter`` entity: an integer per key. Operations: add ``{"amount": int}`` (returns the
new value), reset, get, delete (the entity stops existing).

A failed operation leaves the state as it was: for out-of-process entities the extension keeps
whatever state the batch returns (``TaskEntityShim.ExecuteOutOfProcBatch`` copies
``outOfProcResult.EntityState``; no rollback), so every check runs before ``set_state``. ``reset``
and ``delete`` never read the stored state, so they recover a key whatever it holds."""
from __future__ import annotations

import azure.durable_functions as df

from app_common import blueprints, names
from app_common.payloads.counter import CounterAddInput, added, stored_value, unreadable_state
from app_common.registration import entity


class UnknownOperationError(ValueError):
    pass


def _current(context: df.DurableEntityContext) -> int:
    try:
        state = context.get_state(lambda: 0)
    except ValueError:  # the SDK decodes the stored JSON lazily, here
        raise unreadable_state() from None
    return stored_value(state)


@entity(blueprints.counter, names.COUNTER)
def counter(context: df.DurableEntityContext) -> None:
    operation = context.operation_name
    if operation == names.COUNTER_ADD:
        value = added(_current(context), CounterAddInput.from_json(context.get_input()).amount)
        context.set_state(value)
        context.set_result(value)
    elif operation == names.COUNTER_RESET:
        context.set_state(0)
        context.set_result(0)
    elif operation == names.COUNTER_GET:
        context.set_result(_current(context))
    elif operation == names.COUNTER_DELETE:
        context.destruct_on_exit()
    else:
        raise UnknownOperationError(f"Counter has no operation '{operation}'")
