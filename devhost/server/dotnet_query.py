"""Query strings read the way the extension's ``HttpApiHandler`` reads them.

``HttpRequestMessageExtensions.GetQueryNameValuePairs`` builds a ``NameValueCollection`` with
``StringComparer.OrdinalIgnoreCase`` (names match in any case; a repeated name reads as its
values joined by commas), and each parameter goes through a .NET ``TryParse``: a value that does
not parse is ignored and the parameter's default applies, never an error
(``TryGetBooleanQueryParameterValue``, ``TryGetIntQueryParameterValue``,
``TryGetDateTimeQueryParameterValue``, ``TryGetTimeSpanQueryParameterValue`` and
``TryGetIEnumerableQueryParameterValue`` in ``HttpApiHandler.cs``, extension v2.13).
"""
from __future__ import annotations

import math
import re
from datetime import datetime

from multidict import MultiMapping

from ..protocol import ORCHESTRATION_STATUS, ORCHESTRATION_STATUS_NAMES, parse_timestamp

# NumberStyles.AllowLeadingWhite / AllowTrailingWhite: these six characters only
_WHITE = "[ \t\n\v\f\r]*"
_INTEGER = re.compile(f"{_WHITE}([+-]?[0-9]+){_WHITE}")  # NumberStyles.Integer
_NUMBER = re.compile(f"{_WHITE}[+-]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][+-]?[0-9]+)?{_WHITE}")
INT32 = range(-2**31, 2**31)


class QueryPairs:
    """``NameValueCollection(StringComparer.OrdinalIgnoreCase)`` over a request's query."""

    def __init__(self, query: MultiMapping[str]) -> None:
        self._values: dict[str, list[str]] = {}
        for name, value in query.items():
            self._values.setdefault(name.strip().lower(), []).append(value.strip())

    def get(self, name: str) -> str | None:
        """``collection[name]``: None when absent, the values joined by commas when repeated."""
        values = self._values.get(name.lower())
        return None if values is None else ",".join(values)

    def all(self, name: str) -> list[str]:
        """``collection.GetValues(name)``: every value, or none."""
        return list(self._values.get(name.lower(), ()))

    def flag(self, name: str, default: bool) -> bool:
        parsed = try_bool(self.get(name))
        return default if parsed is None else parsed


def try_bool(value: str | None) -> bool | None:
    """``bool.TryParse``: "true" or "false" in any case, surrounding whitespace allowed."""
    if value is None:
        return None
    text = value.strip().lower()
    return True if text == "true" else False if text == "false" else None


def try_int(value: str | None, bits: int = 32) -> int | None:
    """``int.TryParse`` (``long.TryParse`` with ``bits=64``): an optional sign and digits, in range."""
    found = _INTEGER.fullmatch(value) if value is not None else None
    if found is None:
        return None
    number = int(found.group(1))
    return number if -2 ** (bits - 1) <= number < 2 ** (bits - 1) else None


def try_seconds(value: str | None) -> float | None:
    """``double.TryParse`` then ``TimeSpan.FromSeconds`` (``timeout``, ``pollingInterval``)."""
    if value is None or not _NUMBER.fullmatch(value):
        return None
    seconds = float(value)
    return seconds if math.isfinite(seconds) else None


def try_datetime(value: str | None) -> datetime | None:
    """``DateTime.TryParse`` for the ISO-8601 texts clients send; anything else does not parse."""
    if not value:
        return None
    try:
        return parse_timestamp(value.strip())
    except (ValueError, OverflowError):
        return None


def try_statuses(values: list[str], extra_names: tuple[str, ...] = ()) -> frozenset[str] | None:
    """``TryGetIEnumerableQueryParameterValue``: every comma-separated part that
    ``Enum.TryParse`` takes (OrchestrationRuntimeStatus and DTFx's OrchestrationStatus share
    names and values: a name, case-sensitive, or any integer); None (no filter) when no part does.
    An integer that names no status parses to a value no instance has (``#<n>``)."""
    parsed: set[str] = set()
    for value in values:
        for part in value.split(","):
            text = part.strip()
            if text in ORCHESTRATION_STATUS or text in extra_names:
                parsed.add(text)
            elif (number := try_int(text)) is not None:
                parsed.add(ORCHESTRATION_STATUS_NAMES.get(number, f"#{number}"))
    return frozenset(parsed) or None


def dotnet_seconds(value: float) -> str:
    """``TimeSpan.TotalSeconds`` in a .NET message: 3 -> "3", 1.5 -> "1.5"."""
    return f"{value:.15g}"
