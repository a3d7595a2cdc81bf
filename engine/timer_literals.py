"""ISO 8601 timer literals as written by Camunda Modeler (durations, date-times, dates, cycles).

Parsed with regular expressions only, so timer definitions never need a Python expression.
"""
from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass
from typing import Literal

__all__ = ["TimerSpec", "is_iso8601_timer", "parse_iso8601_timer"]

# Months and years have no fixed length; a timer literal is a plain interval, so we
# approximate them (documented contract): 1 month = 30 days, 1 year = 365 days.
_DAYS_PER_MONTH = 30
_DAYS_PER_YEAR = 365

_NUM = r"(\d+(?:[.,]\d+)?)"
# Days (D) belong before the T; hours/minutes/seconds after it. Weeks stand alone (PnW).
_DURATION_RE = re.compile(
    rf"P(?!$)(?:{_NUM}Y)?(?:{_NUM}M)?(?:{_NUM}D)?(?:T(?=\d)(?:{_NUM}H)?(?:{_NUM}M)?(?:{_NUM}S)?)?"
)
_WEEKS_RE = re.compile(rf"P{_NUM}W")
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:?\d{2})?")
_CYCLE_RE = re.compile(r"R(\d*)/([^/]+)(?:/([^/]+))?")
_MAX_TEXT = 200  # a timer literal is short; refuse anything longer before running regexes


@dataclass(frozen=True)
class TimerSpec:
    """A parsed timer literal: a duration, a point in time, or a repeating cycle."""

    kind: Literal["duration", "date", "cycle"]
    duration: _dt.timedelta | None = None
    at: _dt.datetime | None = None
    repeat: int | None = None  # cycles only; None means unbounded ("R/...")


def _invalid(text: str, why: str):
    # Imported lazily: expressions.py re-exports this module, so avoid an import cycle.
    from .expressions import ExpressionError

    return ExpressionError("timer.invalid", f"无效的定时器表达式: {text!r}，{why}")


def _number(raw: str | None) -> float:
    return float(raw.replace(",", ".")) if raw else 0.0


def _parse_duration(text: str) -> _dt.timedelta | None:
    """Return the timedelta for an ISO 8601 duration, or None if it is not one."""
    weeks = _WEEKS_RE.fullmatch(text)
    if weeks:
        return _dt.timedelta(weeks=_number(weeks.group(1)))
    m = _DURATION_RE.fullmatch(text)
    if not m:
        return None
    present = [g for g in m.groups() if g is not None]
    if not present:
        return None
    # ISO only allows a decimal fraction on the smallest unit given (SpiffWorkflow agrees).
    if any(("." in g or "," in g) for g in present[:-1]):
        return None
    years, months, days, hours, minutes, seconds = (_number(g) for g in m.groups())
    days += years * _DAYS_PER_YEAR + months * _DAYS_PER_MONTH
    return _dt.timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def _parse_datetime(text: str) -> _dt.datetime | None:
    """Return the datetime (naive = local time) for an ISO date-time or date, or None."""
    if _DATETIME_RE.fullmatch(text):
        return _dt.datetime.fromisoformat(text)  # ValueError for impossible values
    if _DATE_RE.fullmatch(text):
        return _dt.datetime.combine(_dt.date.fromisoformat(text), _dt.time())
    return None


def parse_iso8601_timer(text: str) -> TimerSpec:
    """Parse a timer literal (P1D, PT1H, 2026-08-31T00:00:00Z, 2026-08-31, R3/PT1H, R/P1D, R3/<start>/PT1H)."""
    if not isinstance(text, str):
        raise _invalid(str(text), "定时器必须是字符串 (timer must be a string)")
    raw = text.strip()
    if not raw or len(raw) > _MAX_TEXT:
        raise _invalid(raw[:50], "为空或过长 (empty or too long)")
    try:
        if raw.startswith("R"):
            return _parse_cycle(raw)
        if raw.startswith("P"):
            duration = _parse_duration(raw)
            if duration is None:
                hint = "；天(D)要写在 T 之前，例如 P10D" if re.search(r"T.*\dD", raw) else ""
                raise _invalid(raw, f"不是合法的 ISO 8601 时长，例如 PT1H、P1D、P1DT2H30M、P2W{hint}")
            return TimerSpec(kind="duration", duration=duration)
        at = _parse_datetime(raw)
        if at is None:
            raise _invalid(raw, "应为 ISO 8601 时长、日期时间或循环，例如 PT1H、2026-08-31T00:00:00+08:00、R3/PT1H")
        return TimerSpec(kind="date", at=at)
    except (ValueError, OverflowError) as exc:  # e.g. month 13, or a duration beyond timedelta's range
        raise _invalid(raw, f"数值超出范围 ({exc})") from None


def _parse_cycle(raw: str) -> TimerSpec:
    m = _CYCLE_RE.fullmatch(raw)
    if not m:
        raise _invalid(raw, "循环应写作 R3/PT1H、R/P1D 或 R3/2026-08-31T00:00:00Z/PT1H")
    count, first, second = m.groups()
    repeat = int(count) if count else None
    at = None
    if second is None:
        duration = _parse_duration(first)
    else:
        at = _parse_datetime(first)
        duration = _parse_duration(second)
        if at is None:
            raise _invalid(raw, f"循环的开始时间 {first!r} 不是 ISO 8601 日期时间")
    if duration is None:
        raise _invalid(raw, "循环的间隔必须是 ISO 8601 时长，例如 PT1H")
    # A zero interval would make the scheduler fire in a tight loop.
    if duration <= _dt.timedelta(0):
        raise _invalid(raw, "循环的间隔必须大于 0")
    return TimerSpec(kind="cycle", duration=duration, at=at, repeat=repeat)


def is_iso8601_timer(text: str) -> bool:
    """True if ``text`` is a timer literal that parse_iso8601_timer accepts."""
    try:
        parse_iso8601_timer(text)
    except Exception:  # only ExpressionError is expected; a predicate must never raise
        return False
    return True
