"""Aggregator: the ``Counter`` entity and the orchestration that calls and signals it."""
from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from ..validation import SAFE_ID, ValidationError
from .base import Int, Payload, Str, parse

# Keeps every value exact in JavaScript clients (and in any JSON reader that uses doubles).
MAX_ABS_AMOUNT = 2**53 - 1
MAX_INCREMENTS = 100
Amount = Annotated[Int, Field(ge=-MAX_ABS_AMOUNT, le=MAX_ABS_AMOUNT)]
CounterKey = Annotated[Str, Field(max_length=64, pattern=SAFE_ID.pattern)]


class CounterStateError(ValueError):
    """The stored state is not a safe integer (written by an older version, or unreadable)."""


class CounterRangeError(ValueError):
    """An ``add`` that would leave the safe integer range: refused, the value stays as it was."""


def check_amount(value: Any, what: str = "amount") -> int:
    return parse(Amount, value, what)


def stored_value(state: Any) -> int:
    """The counter's value from its stored state; CounterStateError if it is not a safe integer."""
    try:
        return check_amount(state, "stored value")
    except ValidationError as exc:
        raise CounterStateError(f"the counter's {exc}: reset or delete it") from None


def unreadable_state() -> CounterStateError:
    return CounterStateError("the counter's stored state is not valid JSON: reset or delete it")


def added(value: int, amount: int) -> int:
    """``value + amount`` if it stays within ±(2^53-1), else CounterRangeError."""
    total = value + amount
    if abs(total) > MAX_ABS_AMOUNT:
        raise CounterRangeError(f"adding {amount} to {value} would leave the safe integer range "
                                f"(±{MAX_ABS_AMOUNT}); the counter was not changed")
    return total


class CounterAddInput(Payload):
    """Input of the entity's ``add`` operation. An object, not a bare number: the client's
    ``signal_entity`` silently drops falsy inputs, so ``add 0`` would arrive without one."""

    amount: Amount


class CounterWorkflowInput(Payload):
    """Orchestrator input of ``counter_workflow``."""

    key: CounterKey
    increments: Annotated[list[Amount], Field(max_length=MAX_INCREMENTS)]


class CounterWorkflowResult(Payload):
    """Output of ``counter_workflow``: the value read back after the signals."""

    key: CounterKey
    signals: Annotated[Int, Field(ge=0)]
    value: Int
