"""Strict JSON field readers used by every payload's ``from_json``.

Types are checked exactly: ``True`` is not an int, ``1.0`` is not an int, NaN is not a number.
Every failure is a ``ValidationError`` (a ``ValueError``), which routes answer with 400.
"""
from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable
from typing import Any

JsonDict = dict[str, Any]

_MISSING: Any = object()
# Names that end up in blob paths and instance ids.
SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class ValidationError(ValueError):
    pass


# Limits checked before and while parsing, so hostile JSON is a 400 and never reaches the parser's
# recursion limit (RecursionError near 1,000 levels) or the int-str limit (ValueError at 4,300 digits).
MAX_JSON_BYTES = 1024 * 1024
MAX_JSON_DEPTH = 32
MAX_INT_DIGITS = 64
_STRING_OR_BRACKET = re.compile(r'"(?:[^"\\]++|\\.)*+"|[\[\]{}]')


def _check_depth(text: str) -> None:
    depth = 0
    for token in _STRING_OR_BRACKET.finditer(text):
        char = token.group()
        if char in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                raise ValidationError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
        elif char in "]}":
            depth -= 1


def _parse_int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_INT_DIGITS:
        raise ValidationError(f"JSON integer longer than {MAX_INT_DIGITS} digits")
    return int(digits)


def _reject_constant(name: str) -> Any:
    raise ValidationError(f"invalid JSON value {name}")


def loads(text: str | bytes) -> Any:
    """``json.loads`` with limits (size, nesting depth, integer digits) that rejects NaN/Infinity
    (not JSON); every failure is a ValidationError whose message names the problem, not the parser."""
    if len(text) > MAX_JSON_BYTES:
        raise ValidationError(f"JSON larger than {MAX_JSON_BYTES} bytes")
    try:
        decoded = text.decode("utf-8") if isinstance(text, bytes) else text
    except UnicodeDecodeError:
        raise ValidationError("malformed JSON: not UTF-8 text") from None
    _check_depth(decoded)
    try:
        return json.loads(decoded, parse_constant=_reject_constant, parse_int=_parse_int)
    except json.JSONDecodeError as exc:
        raise ValidationError(f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None


def as_object(value: Any, what: str, allowed: Iterable[str]) -> JsonDict:
    if not isinstance(value, dict):
        raise ValidationError(f"{what} must be a JSON object, got {type_name(value)}")
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        raise ValidationError(f"{what} has unknown field(s): {', '.join(unknown)}")
    return value


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _field(data: JsonDict, key: str, default: Any) -> Any:
    if key in data:
        return data[key]
    if default is _MISSING:
        raise ValidationError(f"missing field '{key}'")
    return default


def check_int(value: Any, what: str, minimum: int | None = None, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{what} must be an integer, got {type_name(value)}")
    if minimum is not None and value < minimum:
        raise ValidationError(f"{what} must be >= {minimum}")
    if maximum is not None and value > maximum:
        raise ValidationError(f"{what} must be <= {maximum}")
    return value


def check_number(value: Any, what: str, minimum: float | None = None, maximum: float | None = None,
                 exclusive_minimum: bool = False) -> float | int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValidationError(f"{what} must be a number, got {type_name(value)}")
    if minimum is not None and (value <= minimum if exclusive_minimum else value < minimum):
        raise ValidationError(f"{what} must be {'>' if exclusive_minimum else '>='} {minimum}")
    if maximum is not None and value > maximum:
        raise ValidationError(f"{what} must be <= {maximum}")
    return value


def check_str(value: Any, what: str, pattern: re.Pattern[str] | None = None, max_length: int = 256,
              allow_empty: bool = False) -> str:
    if not isinstance(value, str):
        raise ValidationError(f"{what} must be a string, got {type_name(value)}")
    if not value and not allow_empty:
        raise ValidationError(f"{what} must not be empty")
    if len(value) > max_length:
        raise ValidationError(f"{what} must be at most {max_length} characters")
    if pattern is not None and not pattern.fullmatch(value):
        raise ValidationError(f"{what} has invalid characters (allowed: {pattern.pattern})")
    return value


def _get(data: JsonDict, key: str, default: Any, validate: Callable[[Any], Any]) -> Any:
    """``data[key]`` validated, or ``default`` (unvalidated) when the field is absent."""
    value = _field(data, key, default)
    if value is default and default is not _MISSING:
        return value
    return validate(value)


def check_bool(value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationError(f"{what} must be true or false, got {type_name(value)}")
    return value


def check_list(value: Any, what: str, max_items: int = 1000) -> list[Any]:
    if not isinstance(value, list):
        raise ValidationError(f"{what} must be an array, got {type_name(value)}")
    if len(value) > max_items:
        raise ValidationError(f"{what} must have at most {max_items} items")
    return value


def check_object(value: Any, what: str) -> JsonDict:
    if not isinstance(value, dict):
        raise ValidationError(f"{what} must be a JSON object, got {type_name(value)}")
    return value


def get_int(data: JsonDict, key: str, default: Any = _MISSING, *, minimum: int | None = None,
            maximum: int | None = None) -> int:
    return _get(data, key, default, lambda v: check_int(v, f"'{key}'", minimum, maximum))


def get_number(data: JsonDict, key: str, default: Any = _MISSING, *, minimum: float | None = None,
               maximum: float | None = None, exclusive_minimum: bool = False) -> Any:
    return _get(data, key, default, lambda v: check_number(v, f"'{key}'", minimum, maximum, exclusive_minimum))


def get_str(data: JsonDict, key: str, default: Any = _MISSING, *, pattern: re.Pattern[str] | None = None,
            max_length: int = 256, allow_empty: bool = False) -> Any:
    return _get(data, key, default, lambda v: check_str(v, f"'{key}'", pattern, max_length, allow_empty))


def get_bool(data: JsonDict, key: str, default: Any = _MISSING) -> Any:
    return _get(data, key, default, lambda v: check_bool(v, f"'{key}'"))


def get_list(data: JsonDict, key: str, default: Any = _MISSING, *, max_items: int = 1000) -> Any:
    return _get(data, key, default, lambda v: check_list(v, f"'{key}'", max_items))


def get_object(data: JsonDict, key: str, default: Any = _MISSING) -> Any:
    return _get(data, key, default, lambda v: check_object(v, f"'{key}'"))
