"""Aggregator: the ``Counter`` entity and the orchestration that calls and signals it."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..validation import SAFE_ID, JsonDict, ValidationError, as_object, check_int, get_int, get_list, get_str

# Keeps every value exact in JavaScript clients (and in any JSON reader that uses doubles).
MAX_ABS_AMOUNT = 2**53 - 1
MAX_INCREMENTS = 100


class CounterStateError(ValueError):
    """The stored state is not a safe integer (written by an older version, or unreadable)."""


class CounterRangeError(ValueError):
    """An ``add`` that would leave the safe integer range: refused, the value stays as it was."""


def check_amount(value: Any, what: str = "amount") -> int:
    return check_int(value, what, minimum=-MAX_ABS_AMOUNT, maximum=MAX_ABS_AMOUNT)


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


@dataclass(frozen=True)
class CounterAddInput:
    """Input of the entity's ``add`` operation. An object, not a bare number: the client's
    ``signal_entity`` silently drops falsy inputs, so ``add 0`` would arrive without one."""

    amount: int

    @classmethod
    def from_json(cls, data: Any) -> CounterAddInput:
        data = as_object(data, "add input", ("amount",))
        return cls(amount=get_int(data, "amount", minimum=-MAX_ABS_AMOUNT, maximum=MAX_ABS_AMOUNT))

    def to_json(self) -> JsonDict:
        return {"amount": self.amount}


@dataclass(frozen=True)
class CounterWorkflowInput:
    """Orchestrator input of ``counter_workflow``."""

    key: str
    increments: tuple[int, ...]

    @classmethod
    def from_json(cls, data: Any) -> CounterWorkflowInput:
        data = as_object(data, "counter workflow input", ("key", "increments"))
        return cls(key=get_str(data, "key", pattern=SAFE_ID, max_length=64),
                   increments=tuple(check_amount(x, f"increments[{i}]") for i, x in
                                    enumerate(get_list(data, "increments", max_items=MAX_INCREMENTS))))

    def to_json(self) -> JsonDict:
        return {"key": self.key, "increments": list(self.increments)}


@dataclass(frozen=True)
class CounterWorkflowResult:
    """Output of ``counter_workflow``: the value read back after the signals."""

    key: str
    signals: int
    value: int

    @classmethod
    def from_json(cls, data: Any) -> CounterWorkflowResult:
        data = as_object(data, "counter workflow result", ("key", "signals", "value"))
        return cls(key=get_str(data, "key", pattern=SAFE_ID, max_length=64),
                   signals=get_int(data, "signals", minimum=0), value=check_int(data.get("value"), "'value'"))

    def to_json(self) -> JsonDict:
        return {"key": self.key, "signals": self.signals, "value": self.value}
