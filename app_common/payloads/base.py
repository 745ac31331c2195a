"""The declarative layer under every payload: pydantic v2 dataclasses with strict field types.

A payload is declared once (``class X(Payload)`` with annotated fields) and that declaration is
the validation, the error messages (``describe``) and the JSON schema of the OpenAPI document.
Field types are strict: ``true`` is not an integer, ``1.0`` is not an integer, ``"3"`` is not a
number, NaN is not a number; unknown fields are refused; a string is 1-256 characters unless its
field says otherwise. Numbers keep their JSON type (``3`` stays an int, ``3.5`` a float), so the
JSON that crosses durable boundaries is what the hand-written converters produced.
"""
from __future__ import annotations

import dataclasses
import functools
from typing import Annotated, Any, Self

import pydantic
from pydantic import ConfigDict, Field, Strict, TypeAdapter, WrapValidator
from pydantic_core import PydanticCustomError

from ..validation import JsonDict, ValidationError, type_name

# python-re: the patterns are the ones the hand-written checks used (one has a look-ahead).
CONFIG = ConfigDict(extra="forbid", allow_inf_nan=False, regex_engine="python-re")
MAX_REPORTED_ERRORS = 5
MAX_MESSAGE = 360  # a message also ends up in notes and outputs with their own length limits
_MAX_NAME = 64  # field names from the input (unknown fields) are cut to this in messages


def _keep_int(value: Any, handler: pydantic.ValidatorFunctionWrapHandler) -> Any:
    checked = handler(value)  # strict float: refuses bool and strings, checks range and finiteness
    return value if type(value) is int else checked


Str = Annotated[str, Strict(), Field(min_length=1, max_length=256)]
Int = Annotated[int, Strict()]
Bool = Annotated[bool, Strict()]
JsonObject = Annotated[dict[str, Any], Strict()]


def number(**limits: float) -> Any:
    """A JSON number (int or float, kept as sent) with limits (``ge``, ``gt``, ``le``)."""
    return Annotated[float, Strict(), Field(**limits), WrapValidator(_keep_int)]


def invalid(kind: str, message: str) -> PydanticCustomError:
    """An error for a custom check; ``message`` follows the field name ("must be ...")."""
    return PydanticCustomError(f"app_{kind}", message)


class Payload:
    """Base of every payload: ``from_json`` validates plain JSON, ``to_json`` gives it back.
    Subclasses become frozen pydantic dataclasses (positional construction, validated)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        pydantic.dataclasses.dataclass(frozen=True, config=CONFIG)(cls)

    @classmethod
    def from_json(cls, data: Any) -> Self:
        return parse(cls, data, cls.__name__)

    def to_json(self) -> JsonDict:
        return dataclasses.asdict(self)  # type: ignore[call-overload]  # field order, values as they are


@functools.cache
def adapter(declared: Any) -> TypeAdapter[Any]:
    return TypeAdapter(declared)


def parse(declared: Any, data: Any, what: str) -> Any:
    """``data`` validated against ``declared`` (a payload class or an annotated type); a
    ValidationError naming each failing field, never the value sent or pydantic's own text."""
    try:
        return adapter(declared).validate_python(data)
    except pydantic.ValidationError as exc:
        raise ValidationError(describe(exc, what)) from None


def describe(exc: pydantic.ValidationError, what: str) -> str:
    errors = exc.errors(include_url=False, include_context=True, include_input=True)
    messages: list[str] = []
    for error in errors[:MAX_REPORTED_ERRORS]:
        message = _message(error, _where(error["loc"], what))
        if messages and sum(map(len, messages)) + len(message) > MAX_MESSAGE:
            break
        messages.append(message[:MAX_MESSAGE])
    if len(errors) > len(messages):
        messages.append(f"and {len(errors) - len(messages)} more")
    return "; ".join(messages)


def _where(loc: tuple[int | str, ...], what: str) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f"{'.' if path else ''}{str(part)[:_MAX_NAME]}"
    return f"'{path}'" if path else what


_TYPES = {"int_type": "an integer", "int_from_float": "an integer", "float_type": "a number",
          "string_type": "a string", "bool_type": "true or false", "list_type": "an array",
          "dict_type": "a JSON object", "dataclass_type": "a JSON object", "dataclass_exact_type": "a JSON object"}
_LIMITS = {"greater_than_equal": ("ge", ">="), "greater_than": ("gt", ">"), "less_than_equal": ("le", "<="),
           "less_than": ("lt", "<")}


def _number(limit: float) -> str:
    return str(int(limit)) if float(limit).is_integer() and abs(limit) < 1e15 else str(limit)


def _message(error: Any, where: str) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind in ("missing", "missing_argument"):
        return f"missing field {where}"
    if kind in ("extra_forbidden", "unexpected_keyword_argument"):
        return f"unknown field {where}"
    if kind in _TYPES:
        return f"{where} must be {_TYPES[kind]}, got {type_name(error['input'])}"
    if kind in _LIMITS:
        key, sign = _LIMITS[kind]
        return f"{where} must be {sign} {_number(ctx[key])}"
    if kind == "finite_number":
        return f"{where} must be a finite number"
    if kind in ("string_too_short", "too_short") and ctx.get("min_length") == 1:
        return f"{where} must not be empty"
    if kind == "string_too_long":
        return f"{where} must be at most {ctx['max_length']} characters"
    if kind == "too_long":
        return f"{where} must have at most {ctx['max_length']} items"
    if kind == "string_pattern_mismatch":
        return f"{where} has invalid characters (allowed: {ctx['pattern']})"
    if kind == "literal_error":
        return f"{where} must be one of {ctx['expected']}"
    return f"{where} {error['msg']}" if kind.startswith("app_") else f"{where} is invalid ({kind})"
