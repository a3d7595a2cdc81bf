"""The functions and methods an expression may call, and guarded versions of the risky ones.

Anything not named here is refused by the static check; range(), sum(), str() and round() are
wrapped so that one call cannot compute or allocate without bound.
"""
from __future__ import annotations

import calendar
import datetime as _dt
from collections.abc import Callable
from typing import Any

from .cost import measure
from .errors import over_limit
from .limits import MAX_EXPONENT, MAX_ITEMS, MAX_ITERATION

_NUMBERS = {int, float, bool}


def _as_date(v: Any) -> _dt.date:
    if isinstance(v, _dt.datetime):
        return v.date()
    if isinstance(v, _dt.date):
        return v
    if isinstance(v, str) and len(v) <= 40:
        return _dt.datetime.fromisoformat(v).date() if "T" in v else _dt.date.fromisoformat(v)
    raise ValueError(f"不是 ISO 日期: {str(v)[:40]!r}")


def _add_months(d: Any, n: int) -> str:
    base = _as_date(d)
    year, month = divmod(base.year * 12 + base.month - 1 + int(n), 12)
    day = min(base.day, calendar.monthrange(year, month + 1)[1])  # 31 Jan + 1 month → 28/29 Feb
    return _dt.date(year, month + 1, day).isoformat()


def _range(*args: int) -> list[int]:
    r = range(*args)
    if r.start + r.step * MAX_ITERATION in r:  # len() itself overflows on huge ranges
        raise over_limit(f"range 过长: 最多 {MAX_ITERATION} 项 (range too long)")
    return list(r)  # a list keeps values plain JSON-like data


def _sum(values: Any, start: Any = 0) -> Any:
    items = list(values)  # numbers only: summing lists could multiply memory through aliasing
    if not {type(start), *map(type, items)} <= _NUMBERS:  # map: checked at C speed
        raise TypeError("sum() 只能用于数字")
    return sum(items, start)


def _str(v: Any = "") -> str:
    measure([v], "str()", text=True)
    s = str(v)
    if len(s) > MAX_ITEMS:
        raise over_limit(f"字符串超过 {MAX_ITEMS} 个字符 (string too long)")
    return s


def _round(number: Any, ndigits: Any = None) -> Any:
    if type(ndigits) is int and abs(ndigits) > MAX_EXPONENT:  # round(5, -10**6) computes 10**1000000
        raise over_limit(f"round 的位数超过 {MAX_EXPONENT} (ndigits too large)")
    return round(number) if ndigits is None else round(number, ndigits)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "len": len, "sum": _sum, "min": min, "max": max, "any": any, "all": all, "abs": abs, "round": _round,
    "int": int, "float": float, "str": _str, "bool": bool, "sorted": sorted, "list": list, "dict": dict,
    "set": set, "range": _range, "date": _as_date, "add_months": _add_months,
    "today": lambda: _dt.date.today().isoformat(),
    "now": lambda: _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
    "days_between": lambda a, b: (_as_date(b) - _as_date(a)).days,
    "add_days": lambda d, n: (_as_date(d) + _dt.timedelta(days=int(n))).isoformat(),
}
# Keyword names each function accepts (None = any); unlisted functions take none (no key=).
KEYWORDS: dict[str, set[str] | None] = {
    "sorted": {"reverse"}, "min": {"default"}, "max": {"default"}, "sum": {"start"},
    "round": {"ndigits"}, "int": {"base"}, "dict": None,
}
# Methods are chosen by receiver type and called unbound, so no user-visible object is reached.
METHODS: tuple[tuple[type, dict[str, Callable[..., Any]]], ...] = (
    (str, {n: getattr(str, n) for n in ("startswith", "endswith", "strip", "lower", "upper", "split", "join", "count")}),
    (dict, {"get": dict.get, "keys": list, "values": lambda d: list(d.values()),
            "items": lambda d: [list(kv) for kv in d.items()]}),
    (list, {"count": list.count, "append": list.append}),
    (tuple, {"count": tuple.count}),
)
METHOD_NAMES = {name for _, table in METHODS for name in table}
