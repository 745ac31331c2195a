"""The timestamp fast path returns exactly what dateutil returns, and steps aside otherwise.

``devhost.fast_timestamps.parse`` replaces ``dateutil.parser.parse`` inside the SDK's
``HistoryEvent``; ``parse_utc`` shortcuts ``protocol.parse_timestamp``. Both are only allowed
for the format ``protocol.format_timestamp`` writes (7 fractional digits, the 7th always 0, Z).
"""
from __future__ import annotations

import random
import time
import warnings
from datetime import UTC, datetime, timedelta

import pytest
from dateutil.parser import parse as dateutil_parse

from devhost import fast_timestamps as ft
from devhost import protocol as p
from devhost.scheduler import RuntimeOptions


def _values() -> list[datetime]:
    rng = random.Random(20240229)
    values: list[datetime] = []
    start, end = datetime(1, 1, 1), datetime(9999, 12, 31, 23, 59, 59, 999999)
    span = (end - start).total_seconds()
    for _ in range(4000):  # random instants across all years
        values.append(start + timedelta(seconds=rng.uniform(0, span)) + timedelta(microseconds=rng.randrange(10**6)))
    for _ in range(2000):  # random instants in the years that matter
        values.append(datetime(2000, 1, 1) + timedelta(microseconds=rng.randrange(60 * 365 * 86400 * 10**6)))
    for year in list(range(1, 130)) + [999, 1000, 1582, 1752, 1899, 1900, 1969, 1970, 2000, 2038, 2100, 9998, 9999]:
        values.append(datetime(year, 1, 1))
        values.append(datetime(year, 12, 31, 23, 59, 59, 999999))
    for year in (4, 400, 1600, 1904, 1996, 2000, 2004, 2020, 2024, 2028, 2400, 9996):  # leap days
        values.append(datetime(year, 2, 29, 0, 0, 0, 0))
        values.append(datetime(year, 2, 29, 23, 59, 59, 999999))
        values.append(datetime(year, 3, 1) - timedelta(microseconds=1))
    base = datetime(2024, 7, 1, 12, 0, 0)
    for micro in (0, 1, 9, 10, 99, 100, 999, 1000, 9999, 10000, 99999, 100000, 123456, 500000, 999990, 999999):
        values.append(base.replace(microsecond=micro))
    for month in range(1, 13):
        for day in (1, 28):
            values.append(datetime(2023, month, day, rng.randrange(24), rng.randrange(60), rng.randrange(60),
                                   rng.randrange(10**6)))
    return values


VALUES = _values()
TEXTS = [p.format_timestamp(v.replace(tzinfo=UTC)) for v in VALUES]


def test_host_format_is_what_format_timestamp_writes():
    # strftime("%Y") does not zero-pad years below 1000 on glibc, so those texts are not in the
    # fast format and go to dateutil (still checked below); every other year is.
    fast = [t for v, t in zip(VALUES, TEXTS) if v.year >= 1000]
    assert len(fast) > 5000 and all(ft.is_host_format(t) for t in fast)
    assert all(t[26] == "0" and t.endswith("Z") and len(t) == 28 for t in fast)
    assert not any(ft.is_host_format(t) for v, t in zip(VALUES, TEXTS) if v.year < 1000 and len(t) != 28)


def test_matches_dateutil_for_every_host_timestamp():
    for value, text in zip(VALUES, TEXTS):
        try:
            slow = dateutil_parse(text)
        except Exception as exc:  # only unpadded years < 1000 (not the fast format): same error
            assert not ft.is_host_format(text)
            with pytest.raises(type(exc)):
                ft.parse(text)
            continue
        fast = ft.parse(text)
        assert ft.same_result(fast, slow), (text, fast, slow)
        assert fast.isoformat() == slow.isoformat()
        if value.year >= 1000:
            assert fast.replace(tzinfo=None) == value


def test_matches_protocol_parse_timestamp():
    try:
        ft.configure(True)
        for value, text in zip(VALUES, TEXTS):
            if not ft.is_host_format(text):
                assert ft.parse_utc(text) is None
                continue
            fast = ft.parse_utc(text)
            reference = ft.reference_parse_utc(text)
            assert fast == reference and fast.tzinfo is reference.tzinfo is UTC, text
            assert fast == value.replace(tzinfo=UTC)
            assert p.parse_timestamp(text) == reference
    finally:
        ft.configure(None)


OTHER_TEXTS = [
    "2024-02-29T12:34:56.123456Z",        # the SDK's own FireAt format (%f, 6 digits)
    "2024-02-29T12:34:56.1234567Z",       # DTFx with a non-zero 7th digit
    "2024-02-29T12:34:56Z",               # status times ("s" + Z)
    "2024-02-29T12:34:56.1234560+00:00",
    "2024-02-29T12:34:56.1234560+02:00",
    "2024-02-29T12:34:56.1234560z",
    "2024-02-29 12:34:56.1234560Z",
    "2024-02-29T12:34:56.1234560",
    " 2024-02-29T12:34:56.1234560Z",
    "2024-02-29T12:34:56.1234560Z ",
    "２０２４-02-29T12:34:56.1234560Z",   # non-ASCII digits
    "2024-02-29T12:34:56.1_34560Z",
    "2024-02-29T12:34:56,1234560Z",
    "2024-02-29",
]
INVALID_HOST_SHAPED = [
    "2023-02-29T00:00:00.0000000Z", "2024-13-01T00:00:00.0000000Z", "2024-01-01T24:00:00.0000000Z",
    "2024-01-01T23:59:60.0000000Z", "0000-01-01T00:00:00.0000000Z", "2024-00-10T00:00:00.0000000Z",
]


@pytest.mark.parametrize("text", OTHER_TEXTS)
def test_anything_else_goes_to_dateutil(text, monkeypatch):
    assert not ft.is_host_format(text)
    calls = []
    real = ft._dateutil_parse
    monkeypatch.setattr(ft, "_dateutil_parse", lambda *a, **k: calls.append(a) or real(*a, **k))
    try:
        expected = real(text)
    except Exception as exc:  # dateutil's own error, unchanged
        with pytest.raises(type(exc)):
            ft.parse(text)
    else:
        assert ft.same_result(ft.parse(text), expected)
    assert calls == [(text, None)]
    assert ft.parse_utc(text) is None


@pytest.mark.parametrize("text", INVALID_HOST_SHAPED)
def test_invalid_host_shaped_values_raise_what_dateutil_raises(text):
    with pytest.raises(Exception) as slow:
        dateutil_parse(text)
    with pytest.raises(type(slow.value)):
        ft.parse(text)


def test_extra_arguments_and_non_strings_go_to_dateutil():
    text = TEXTS[0]
    assert ft.same_result(ft.parse(text, ignoretz=True), dateutil_parse(text, ignoretz=True))
    assert ft.parse(text, ignoretz=True).tzinfo is None
    default = datetime(2001, 1, 1)
    assert ft.same_result(ft.parse(text, default=default), dateutil_parse(text, default=default))
    with pytest.raises(TypeError):
        ft.parse(12345)


def test_zone_follows_local_zone_like_dateutil(monkeypatch):
    text = "2024-02-29T12:34:56.1234560Z"
    for names in (("UTC", "UTC"), ("CET", "CEST"), ("GMT", "BST"), ("UTC", "BST")):
        monkeypatch.setattr(time, "tzname", names)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            slow = dateutil_parse(text)
            fast = ft.parse(text)
        assert ft.same_result(fast, slow), (names, fast, slow)


def test_switch_installs_and_removes_the_sdk_patch(monkeypatch):
    import importlib

    module = importlib.import_module(ft.SDK_MODULE)

    try:
        assert ft.configure(True) is True
        assert module.dt_parse is ft.parse and ft.enabled()
        assert p.parse_timestamp(TEXTS[1]) == ft.reference_parse_utc(TEXTS[1])
        assert ft.configure(False) is False
        assert module.dt_parse is dateutil_parse and not ft.enabled()
        assert ft.parse_utc(TEXTS[1]) is None
        monkeypatch.setenv(ft.ENV_VAR, "0")
        assert ft.configure(None) is False and module.dt_parse is dateutil_parse
        monkeypatch.setenv(ft.ENV_VAR, "1")
        assert ft.configure(None) is True and module.dt_parse is ft.parse
        assert RuntimeOptions().fast_timestamps is None
    finally:
        ft.configure(None if ft.env_default() else False)


def test_sdk_history_event_sees_the_same_timestamps():
    from azure.durable_functions.models.history.HistoryEvent import HistoryEvent

    events = [p.orchestrator_started(v.replace(tzinfo=UTC)) for v in VALUES[:300]]
    try:
        ft.configure(False)
        slow = [HistoryEvent(**e).timestamp for e in events]
        ft.configure(True)
        fast = [HistoryEvent(**e).timestamp for e in events]
    finally:
        ft.configure(None)
    assert all(ft.same_result(a, b) for a, b in zip(fast, slow))


async def test_host_runs_the_same_with_and_without():
    from pathlib import Path

    from devhost.testing import DurableTestHost

    app = Path(__file__).resolve().parent / "app"
    outputs = []
    for flag in (False, True):
        async with DurableTestHost.start_time_skipping(app, options=RuntimeOptions(fast_timestamps=flag),
                                                       start_time=datetime(2024, 2, 28, 23, tzinfo=UTC)) as env:
            assert ft.enabled() is flag
            iid = await env.start("sleeper", 25, instance_id="same")
            status = await env.wait(iid)
            history = await env.history(iid)
            outputs.append((status["runtimeStatus"], status["output"][:20], len(history)))
    ft.configure(None)
    assert outputs[0] == outputs[1] and outputs[0][0] == "Completed"


def test_cached_results_are_dateutils_and_follow_the_zone(monkeypatch):
    ft.configure(True)
    texts = [t for v, t in zip(VALUES, TEXTS) if v.year >= 1000][:500]
    for text in texts * 2:  # the second round answers from the cache
        assert ft.same_result(ft.parse(text), dateutil_parse(text)), text
    assert ft._shareable and set(texts) <= set(ft._cache)
    a, b = ft.parse(texts[0]), ft.parse(texts[1])
    assert (a - b) == (dateutil_parse(texts[0]) - dateutil_parse(texts[1]))
    assert (a < b) == (dateutil_parse(texts[0]) < dateutil_parse(texts[1]))
    for names, daylight in ((("CET", "CEST"), 1), (("UTC", "UTC"), 1), (("GMT", "BST"), 1)):
        monkeypatch.setattr(time, "tzname", names)
        monkeypatch.setattr(time, "daylight", daylight)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fast, slow = ft.parse(texts[0]), dateutil_parse(texts[0])
        assert ft.same_result(fast, slow), names
        assert len(ft._cache) <= 1  # the zone changed: emptied
        # tz.UTC (no "UTC" in the names) is shared; a local "UTC" zone with DST is not
        assert (texts[0] in ft._cache) == (names != ("UTC", "UTC"))
    monkeypatch.undo()
    ft._caching = False
    try:
        uncached = ft.parse(texts[2])
    finally:
        ft._caching = True
    assert ft.same_result(uncached, ft.parse(texts[2]))
