"""How big a value is, in size units: what comparing, hashing or storing it would cost.

One unit per value, one more per 16 characters of a string or 256 bits of an int, and a shared
reference at each appearance, as serialising it does. A measurement stops as soon as it passes
its limit, so a cyclic or hugely aliased value is refused without being walked.
"""
from __future__ import annotations

import collections
import functools
import itertools
import operator
from typing import Any

from .errors import over_limit
from .limits import MAX_DATA_DEPTH, MAX_ITEMS

SCALARS = {str, int, float, bool, type(None)}
CONTAINERS = {list, tuple, dict, set, frozenset}
HEAVY = CONTAINERS | {str}  # operands whose comparison cost depends on their size
ITERABLE = (list, tuple, str, dict, set, frozenset)


def scalar_units(v: Any, text: bool) -> int:
    t = type(v)
    if t is str:
        return 1 + (len(v) >> 4)
    if t is int:
        bits = v.bit_length()  # in text, digits cost quadratically: str(10**4299) takes ~0.2 ms
        return 1 + (bits >> 8) + ((bits // 100) ** 2 if text else 0)
    return 16 if text and t is float else 1


def _flat_units(items: Any, kind: type, text: bool) -> int:
    """Units of items that all have one scalar type, priced at C speed."""
    n = len(items)
    if kind is str:
        return n + (sum(map(len, items)) >> 4)
    if kind is int:
        bits = list(map(int.bit_length, items))
        worst = max(bits, default=0) // 100
        return n + sum(map(operator.rshift, bits, itertools.repeat(8))) + (n * worst * worst if text else 0)
    return n * 16 if text and kind is float else n


class Walk:
    """One measurement: a container met again (aliasing) is priced from a memo, not walked again.

    Flat containers, and containers of flat lists or dicts (records), are priced at C speed; others
    are walked one by one, at most ``visits`` of them when an operation is waiting for the answer.
    """

    __slots__ = ("text", "memo", "visits")

    def __init__(self, text: bool, visits: int | None) -> None:
        self.text, self.memo, self.visits = text, {}, visits

    def units(self, v: Any, depth: int, limit: int) -> tuple[int, int]:
        """(units, height) of container ``v``; the units pass ``limit`` as soon as they are known to."""
        if depth >= MAX_DATA_DEPTH:
            raise over_limit(f"数据嵌套超过 {MAX_DATA_DEPTH} 层 (value nested too deeply)")
        n = len(v) * 2 if type(v) is dict else len(v)
        if n >= limit:  # every item costs at least one unit: stop before walking any
            return n + 1, 1
        if self.visits is not None:
            self.visits -= 1
            if self.visits < 0:  # too intricate to measure in time: it does not fit
                return _CYCLE, 1
        self.memo[id(v)] = (_CYCLE, 1)  # met again inside itself: a cycle, which never fits
        items = [*v.keys(), *v.values()] if type(v) is dict else v
        found = (self.batch(items, n, limit) if n > 16 else None) or self.each(items, depth, limit)
        if depth + found[1] > MAX_DATA_DEPTH:
            raise over_limit(f"数据嵌套超过 {MAX_DATA_DEPTH} 层 (value nested too deeply)")
        self.memo[id(v)] = found
        return found

    def scalars(self, items: Any, kinds: set[type]) -> int:
        if len(kinds) == 1:
            return _flat_units(items, next(iter(kinds)), self.text)
        return sum(_flat_units([*itertools.compress(items, map(functools.partial(operator.is_, kind), map(type, items)))],
                               kind, self.text) for kind in kinds)

    def batch(self, items: Any, n: int, limit: int) -> tuple[int, int] | None:
        kinds = set(map(type, items))
        if kinds.isdisjoint(CONTAINERS):
            return 1 + self.scalars(items, kinds), 1
        kind = next(iter(kinds))
        if len(kinds) != 1 or kind not in (list, tuple, dict):
            return None
        inner_n = sum(map(len, items)) * (2 if kind is dict else 1)
        if 1 + n + inner_n > limit:
            return 1 + n + inner_n, 2
        chain = itertools.chain.from_iterable
        inner = [*chain(map(dict.keys, items)), *chain(map(dict.values, items))] if kind is dict else [*chain(items)]
        inner_kinds = set(map(type, inner))
        return (1 + n + self.scalars(inner, inner_kinds), 2) if inner_kinds.isdisjoint(CONTAINERS) else None

    def each(self, items: Any, depth: int, limit: int) -> tuple[int, int]:
        n = len(items)
        distinct = dict(zip(map(id, items), items)) if n > 16 else None
        counts = collections.Counter(map(id, items)) if distinct and 2 * len(distinct) <= n else None
        units, height = 1, 1
        for x in (distinct.values() if counts else items):
            if type(x) in CONTAINERS:
                each, below = self.memo.get(id(x)) or self.units(x, depth + 1, limit - units)
                height = max(height, below + 1)
            else:
                each = scalar_units(x, self.text)
            units += each * counts[id(x)] if counts else each
            if units > limit:
                break
        return units, height


_CYCLE = 1 << 62
MAX_VISITS = 10_000  # containers one operation may walk one by one (~1 µs each)


def size(value: Any, limit: int, text: bool = False, visits: int | None = MAX_VISITS) -> int:
    """Size units of a value, counted only until they pass ``limit`` (so a cycle ends the walk too).

    A shared reference costs at each appearance, as comparing or serialising it does.
    ``text`` prices conversion to text (str(), f-strings) instead of comparing and hashing.
    """
    if type(value) not in CONTAINERS:
        return scalar_units(value, text)
    return Walk(text, visits).units(value, 0, limit)[0]


def check_size(value: Any) -> None:
    """Refuse values whose serialised form would explode: aliasing (a = [a, a]), cycles, deep nesting."""
    if type(value) in SCALARS and (type(value) is not str or len(value) <= 4096):
        return
    if size(value, MAX_ITEMS, visits=None) > MAX_ITEMS:
        raise over_limit("结果过大或包含循环引用 (value too large or cyclic)")
