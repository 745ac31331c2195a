"""A fast path for the one timestamp format the host writes, for the SDK's replay and ours.

The SDK builds a ``HistoryEvent`` for every history event on every episode, and each one calls
``dateutil.parser.parse`` (imported there as ``dt_parse``) on its ``Timestamp``. That general
parser costs about 30 us per call, most of a short orchestration's replay. The host writes
every timestamp as ``protocol.format_timestamp`` does: ``YYYY-MM-DDTHH:MM:SS.ffffff0Z``
(7 fractional digits, the 7th always ``0``, UTC). For exactly that text this module returns
what ``dateutil`` returns -- the same naive fields and the same kind of ``tzinfo`` that
``dateutil`` picks for ``Z`` in this process's local zone -- and hands anything else, or any
call with extra arguments, to ``dateutil`` itself.

``dateutil``'s choice of ``tzinfo`` for ``Z`` depends on the local zone (``time.tzname``): if
``"UTC"`` is not one of its names it is ``tz.UTC``; if the local zone is plain UTC (both names
``"UTC"``) it is a fresh ``tz.tzlocal()``; in any other case the fast path steps aside.

Every episode hands the SDK the whole history again, so the same texts are parsed over and over.
When one result can stand for every parse of its text -- ``tz.UTC`` (a singleton), or a local
zone fixed at offset 0 (``time.timezone == time.altzone == 0``, no DST), where one shared
``tzlocal()`` compares and subtracts exactly like fresh ones -- parsed texts are kept in a
bounded dict (cleared when the zone changes or it holds 65,536 texts). Results then differ from
``dateutil``'s only in object identity (``is``), never in value, fields, tzinfo class or name.

Switch: ``DEVHOST_FAST_TIMESTAMPS=0`` in the environment, or ``RuntimeOptions(fast_timestamps=False)``.
``configure(enabled)`` (called by the runtime at start) installs or removes the SDK patch;
it is process-wide, so the host started last decides. ``install`` checks itself against
``dateutil`` on sample values first and refuses (leaving ``dateutil`` in place) on any mismatch.
"""
from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from dateutil import tz as _tz
from dateutil.parser import isoparse as _isoparse
from dateutil.parser import parse as _dateutil_parse

from . import switches

log = logging.getLogger("devhost")

ENV_VAR = "DEVHOST_FAST_TIMESTAMPS"
# The SDK module whose ``dt_parse`` name is replaced (only replay parses through it).
SDK_MODULE = "azure.durable_functions.models.history.HistoryEvent"

# ``protocol.format_timestamp``'s output and nothing else: ASCII digits only, 7th digit 0.
_HOST_FORMAT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}0Z")
_HOST_LENGTH = 28

_enabled = False
_installed_original: Callable[..., Any] | None = None
_zone_key: Any = None
_zone_mode: str | None = None  # "utc" | "local" | None (fall back)
# Parsed host timestamps by text, when one result can stand for every later parse of the same
# text (see ``_shareable``). Every episode hands the SDK the whole history again, so the same
# texts come back episode after episode. Cleared when the local zone changes or it is full.
_cache: dict[str, datetime] = {}
_CACHE_LIMIT = 1 << 16
_shareable = False
_shared_local: Any = None  # the one tzlocal() cached values carry when the local zone is fixed at 0
_caching = True  # tests switch it off to compare


def env_default() -> bool:
    """``DEVHOST_FAST_TIMESTAMPS``: on unless set to 0/false/no/off."""
    return switches.env_on(ENV_VAR)


def is_host_format(text: Any) -> bool:
    return type(text) is str and len(text) == _HOST_LENGTH and _HOST_FORMAT.fullmatch(text) is not None


def _mode() -> str | None:
    """How ``dateutil`` would attach a zone to ``Z`` under the current ``time.tzname``."""
    global _zone_key, _zone_mode, _shareable, _shared_local
    names = time.tzname
    if names is not _zone_key:  # time.tzset() replaces the tuple
        if "UTC" not in names:
            _zone_mode = "utc"
        elif names[0] == "UTC" and names[1] == "UTC":
            _zone_mode = "local"
        else:
            _zone_mode = None
        _zone_key = names
        _cache.clear()
        # One result may be shared by every parse of its text when dateutil's own results differ
        # only in object identity: always the same ``tz.UTC`` singleton; or a fresh ``tzlocal()``
        # for a local zone fixed at offset 0, where comparing or subtracting datetimes gives the
        # same answer whether or not they share a tzinfo object.
        _shareable = _zone_mode == "utc" or (
            _zone_mode == "local" and time.timezone == 0 and time.altzone == 0 and not time.daylight)
        _shared_local = _tz.tzlocal() if _shareable and _zone_mode == "local" else None
    return _zone_mode


def parse(timestr: Any, parserinfo: Any = None, **kwargs: Any) -> datetime:
    """Drop-in for ``dateutil.parser.parse``: fast for host timestamps, ``dateutil`` otherwise."""
    if parserinfo is None and not kwargs and type(timestr) is str:
        if time.tzname is _zone_key:
            hit = _cache.get(timestr)  # only host-format texts are ever stored
            if hit is not None:
                return hit
            mode = _zone_mode
        else:
            mode = _mode()
        if mode is not None and is_host_format(timestr):
            try:
                naive = datetime.fromisoformat(timestr[:26])
            except ValueError:  # e.g. month 13, Feb 30, second 60: dateutil says why
                pass
            else:
                if _shareable and _caching:
                    value = naive.replace(tzinfo=_tz.UTC if mode == "utc" else _shared_local)
                    if len(_cache) >= _CACHE_LIMIT:
                        _cache.clear()
                    _cache[timestr] = value
                    return value
                return naive.replace(tzinfo=_tz.UTC if mode == "utc" else _tz.tzlocal())
    return _dateutil_parse(timestr, parserinfo, **kwargs)


def parse_utc(text: str) -> datetime | None:
    """Host format -> aware ``datetime`` in ``timezone.utc`` (what ``protocol.parse_timestamp``
    returns for it); ``None`` when the fast path is off or ``text`` is anything else."""
    if _enabled and is_host_format(text):
        try:
            return datetime.fromisoformat(text[:26]).replace(tzinfo=UTC)
        except ValueError:
            return None
    return None


def reference_parse_utc(text: str) -> datetime:
    """``protocol.parse_timestamp``'s general path, for the self-check and the tests."""
    value = _isoparse(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


# ---------------------------------------------------------------------------
# install / remove
# ---------------------------------------------------------------------------

_SAMPLES = (
    "2024-02-29T23:59:59.9999990Z", "0001-01-01T00:00:00.0000000Z", "9999-12-31T23:59:59.9999990Z",
    "1970-01-01T00:00:00.0000010Z", "2000-06-15T12:30:45.5000000Z", "0099-03-01T01:02:03.0400000Z",
)


def same_result(a: Any, b: Any) -> bool:
    """Equal as ``dateutil`` results go: value, naive fields, tzinfo class, offset and name."""
    return (type(a) is type(b) and a == b and a.replace(tzinfo=None) == b.replace(tzinfo=None)
            and type(a.tzinfo) is type(b.tzinfo) and a.tzinfo == b.tzinfo
            and a.utcoffset() == b.utcoffset() and a.tzname() == b.tzname() and a.fold == b.fold)


def self_check() -> bool:
    for text in _SAMPLES:
        if not same_result(parse(text), _dateutil_parse(text)):
            return False
        if datetime.fromisoformat(text[:26]).replace(tzinfo=UTC) != reference_parse_utc(text):
            return False
    return True


def install() -> bool:
    """Replace the SDK's ``dt_parse``; returns whether the fast path is now on."""
    global _enabled, _installed_original
    import importlib

    module = importlib.import_module(SDK_MODULE)
    if not self_check():
        log.warning("devhost: fast timestamps disabled: results differ from dateutil here")
        uninstall()
        return False
    _cache.clear()
    current = module.dt_parse
    if current is not parse:
        _installed_original = current
        module.dt_parse = parse  # type: ignore[attr-defined]
    _enabled = True
    return True


def uninstall() -> None:
    global _enabled, _installed_original
    import importlib

    module = importlib.import_module(SDK_MODULE)
    if getattr(module, "dt_parse", None) is parse:
        module.dt_parse = _installed_original or _dateutil_parse  # type: ignore[attr-defined]
    _installed_original = None
    _enabled = False


def configure(enabled: bool | None = None) -> bool:
    """On (``True``), off (``False``) or per ``DEVHOST_FAST_TIMESTAMPS`` (``None``)."""
    return switches.configure(enabled, ENV_VAR, install, uninstall)


def enabled() -> bool:
    return _enabled
