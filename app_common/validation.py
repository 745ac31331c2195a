"""The JSON reader with limits that every body goes through before a payload declaration
(``app_common/payloads/base.py``) validates it. Every failure is a ``ValidationError`` (a
``ValueError``) whose message names the problem, which routes answer with 400.
"""
from __future__ import annotations

import json
import re
from typing import Any

JsonDict = dict[str, Any]

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
