"""Timer-trigger schedules, parsed as the Timers extension does (``TimerSchedule.Create``).

The expression is first resolved (``%Setting%`` from the app settings, ``ResolveWholeString``),
then tried as NCRONTAB (``CronSchedule.TryCreate``: ``{second} {minute} {hour} {day} {month}
{day-of-week}``, or 5 fields without seconds), then as a .NET ``TimeSpan`` (``ConstantSchedule``),
else refused with the extension's message. Field syntax and matching follow NCrontab
(``CrontabFieldImpl.InternalParse``, ``CrontabField.Accumulate``, ``CrontabSchedule``): names are
any prefix of the English month/day name, ranges given backwards are swapped, a step below 1 is
1, and a day must match both the day-of-month and the day-of-week fields. Times are UTC.
"""
from __future__ import annotations

import os
import re
from datetime import datetime, timedelta

_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December"]
_DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
# (kind, min, max, names) as CrontabFieldImpl declares them
_FIELDS = [("Second", 0, 59, None), ("Minute", 0, 59, None), ("Hour", 0, 23, None),
           ("Day", 1, 31, None), ("Month", 1, 12, _MONTHS), ("DayOfWeek", 0, 6, _DAYS)]
_TIMESPAN = re.compile(r"^\s*(-)?(?:(\d+)|(?:(\d+)\.)?(\d+):(\d+)(?::(\d+)(?:\.(\d{1,7}))?)?)\s*$")


def resolve_settings(expression: str) -> str:
    """``NameResolverExtensions.ResolveWholeString``: every ``%name%`` from the app settings."""
    out, i = [], 0
    while i < len(expression):
        start = expression.find("%", i)
        if start < 0:
            out.append(expression[i:])
            break
        end = expression.find("%", start + 1)
        if end < 0:
            raise ValueError(f"The '%' at position {start} does not have a closing '%'")
        name = expression[start + 1:end]
        value = os.environ.get(name)
        if value is None:
            raise ValueError(f"'%{name}%' does not resolve to a value.")
        out.append(expression[i:start] + value)
        i = end + 1
    return "".join(out)


def _value(text: str, kind: str, low: int, high: int, names: list[str] | None) -> int:
    if not text:
        raise ValueError("A crontab field value cannot be empty.")
    if "0" <= text[0] <= "9":
        return int(text)
    if names is None:
        raise ValueError(f"'{text}' is not a valid [{kind}] crontab field value. It must be a numeric value "
                         f"between {low} and {high} (all inclusive).")
    for i, name in enumerate(names):  # CompareInfo.IsPrefix(name, text, IgnoreCase): the first name wins
        if name.lower().startswith(text.lower()):
            return i + low
    raise ValueError(f"'{text}' is not a known value name. Use one of the following: {', '.join(names)}.")


def _accumulate(values: set[int], start: int, end: int, step: int, kind: str, low: int, high: int) -> None:
    if start > end:
        start, end = end, start
    for value in (start, end):
        if value < low:
            raise ValueError(f"{value} is lower than the minimum allowable value for the [{kind}] field. "
                             f"Value must be between {low} and {high} (all inclusive).")
        if value > high:
            raise ValueError(f"{value} is higher than the maximum allowable value for the [{kind}] field. "
                             f"Value must be between {low} and {high} (all inclusive).")
    values.update(range(start, end + 1, max(step, 1)))


def _part(text: str, values: set[int], kind: str, low: int, high: int, names: list[str] | None) -> None:
    if not text:
        raise ValueError("A crontab field value cannot be empty.")
    if text.find(",") > 0:
        for token in text.split(","):
            _part(token, values, kind, low, high, names)
        return
    step = None
    if text.find("/") > 0:
        text, step_text = text.split("/", 1)
        step = int(step_text.strip())
    if text == "*":
        _accumulate(values, low, high, step or 1, kind, low, high)
    elif text.find("-") > 0:
        first, last = text.split("-", 1)
        _accumulate(values, _value(first, kind, low, high, names), _value(last, kind, low, high, names),
                    step or 1, kind, low, high)
    else:
        value = _value(text, kind, low, high, names)
        _accumulate(values, value, high if step is not None else value, step or 1, kind, low, high)


def _field(text: str, kind: str, low: int, high: int, names: list[str] | None) -> frozenset[int]:
    values: set[int] = set()
    try:
        _part(text, values, kind, low, high, names)
    except ValueError as exc:
        raise ValueError(f"'{text}' is not a valid [{kind}] crontab field expression. ({exc})") from exc
    return frozenset(values)


def _timespan(text: str) -> timedelta | None:
    """``TimeSpan.TryParse``: ``[-]d`` or ``[-][d.]hh:mm[:ss[.fffffff]]``; None when it does not parse."""
    match = _TIMESPAN.match(text)
    if not match:
        return None
    negative, only_days, days, hours, minutes, seconds, fraction = match.groups()
    if only_days is not None:
        delta = timedelta(days=int(only_days))
    else:
        if int(hours) > 23 or int(minutes) > 59 or int(seconds or 0) > 59:
            return None
        delta = timedelta(days=int(days or 0), hours=int(hours), minutes=int(minutes), seconds=int(seconds or 0),
                          microseconds=int((fraction or "0").ljust(7, "0")) / 10)
    return -delta if negative else delta


class Schedule:
    def __init__(self, expression: str) -> None:
        self.expression = expression
        self.interval: timedelta | None = None
        resolved = resolve_settings(expression)
        parts = [part for part in resolved.split(" ") if part]  # HasSeconds / CrontabSchedule split on ' '
        try:
            if len(parts) not in (5, 6):
                raise ValueError("wrong number of fields")
            if len(parts) == 5:
                parts = ["0", *parts]
            fields = [_field(part, *spec) for part, spec in zip(parts, _FIELDS)]
        except ValueError:
            self.interval = _timespan(resolved)
            if self.interval is None:
                raise ValueError(f"The schedule expression '{resolved}' was not recognized as a valid cron "
                                 "expression or timespan string.") from None
            if self.interval <= timedelta(0):
                # Azure would accept it and fire back to back (TimerListener.GetNextTimerInterval: one tick).
                raise ValueError(f"The schedule expression '{resolved}' is a TimeSpan that is not positive; "
                                 "devhost refuses it rather than fire the function back to back.") from None
            return
        self.seconds, self.minutes, self.hours, self.days, self.months, self.weekdays = fields

    @property
    def is_constant(self) -> bool:
        return self.interval is not None

    def monitor_allowed(self, now: datetime) -> bool:
        """``TimerSchedule.Create`` turns UseMonitor off for schedules more frequent than a minute:
        a TimeSpan under one minute, or a cron that restricts only the seconds and fires more than
        once in the next minute (``ShouldDisableScheduleMonitor``)."""
        if self.interval is not None:
            return self.interval >= timedelta(minutes=1)
        full = [len(field) == high - low + 1 for field, (_, low, high, _) in zip(
            (self.minutes, self.hours, self.days, self.months, self.weekdays), _FIELDS[1:])]
        if not all(full):
            return True
        first = self.next_after(now)
        return not (first is not None and (second := self.next_after(first)) is not None
                    and second < now + timedelta(minutes=1))

    def next_after(self, moment: datetime) -> datetime | None:
        """The next occurrence strictly after ``moment``; None if there is none (NCrontab answers
        its end time then, so the timer never fires)."""
        if self.interval is not None:
            return moment + self.interval
        candidate = moment.replace(microsecond=0) + timedelta(seconds=1)
        limit = candidate + timedelta(days=366 * 50)  # Feb 29 on a given weekday recurs every 28 years
        while candidate < limit:
            if candidate.month not in self.months:
                candidate = (candidate.replace(day=1, hour=0, minute=0, second=0) + timedelta(days=32)).replace(day=1)
                continue
            # CrontabSchedule.TryGetNextOccurrence: the day must be in the days AND the days of week.
            if candidate.day not in self.days or (candidate.weekday() + 1) % 7 not in self.weekdays:
                candidate = candidate.replace(hour=0, minute=0, second=0) + timedelta(days=1)
                continue
            if candidate.hour not in self.hours:
                candidate = candidate.replace(minute=0, second=0) + timedelta(hours=1)
                continue
            if candidate.minute not in self.minutes:
                candidate = candidate.replace(second=0) + timedelta(minutes=1)
                continue
            if candidate.second not in self.seconds:
                candidate += timedelta(seconds=1)
                continue
            return candidate
        return None
