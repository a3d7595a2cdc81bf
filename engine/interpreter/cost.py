"""What one operation costs, priced from its operands and refused before it runs.

No single comparison, ``in``, call, method or repetition may cost more than a few milliseconds:
past ``MAX_OP_UNITS`` of estimated work or ``MAX_OPERAND`` size units of operands it is refused
(``expression.limit``). Arithmetic is guarded the same way, and numbers stay finite, so task data
stays JSON.
"""
from __future__ import annotations

import ast
import functools
import math
from collections.abc import Callable
from typing import Any

from .errors import over_limit, refused, run_error
from .limits import MAX_EXPONENT, MAX_INT_BITS, MAX_ITEMS, MAX_OP_UNITS, MAX_OPERAND
from .sizes import CONTAINERS, HEAVY, ITERABLE, MAX_VISITS, Walk, scalar_units, size

_NEW_OBJECT = 8  # units of building one new string or list (split, items(), list('...'))


def _afford(units: int, what: str) -> int:
    if units > MAX_OP_UNITS:
        raise over_limit(f"{what} 的运算量超过 {MAX_OP_UNITS} 个单位 (operation too large)")
    return units


def measure(values: Any, what: str, limit: int = MAX_OPERAND, text: bool = False) -> int:
    """Size of an operation's operands, refused past ``limit`` before the operation runs."""
    walk, total = Walk(text, MAX_VISITS), 0  # one memo: a value shared by operands is walked once, counted twice
    for v in values:
        total += walk.units(v, 0, limit - total)[0] if type(v) in CONTAINERS else scalar_units(v, text)
        if total > limit:
            raise over_limit(f"{what} 的操作数超过 {limit} 个单位 (operands too large)")
    return total


def _items(values: Any, what: str, limit: int = MAX_OPERAND) -> int:
    """Size of what iterating ``values`` yields: a string yields one value per character."""
    if type(values) is str:
        if len(values) >= limit:
            raise over_limit(f"{what} 的操作数超过 {limit} 个单位 (operands too large)")
        return len(values) + 1
    return measure([values], what, limit)


def _length(values: Any) -> int:
    return len(values) if isinstance(values, ITERABLE) else 1


def _sort_cost(values: Any = (), *_: Any, **__: Any) -> int:
    rounds = max(1, _length(values).bit_length())  # n log n comparisons, each costing what it compares
    _afford(_length(values) * rounds, "sorted()")
    return rounds * _items(values, "sorted()", min(MAX_OPERAND, MAX_OP_UNITS // rounds))


def _pick_cost(what: str, *args: Any, **kwargs: Any) -> int:
    return _items(args[0], what) if len(args) == 1 else measure(args, what)


def _length_cost(what: str) -> Callable[..., int]:
    return lambda values=(), *_, **__: _afford(_length(values), what)


def _list_cost(values: Any = (), *_: Any) -> int:
    return _afford(_length(values) * (_NEW_OBJECT if type(values) is str else 1), "list()")  # a string per character


CALL_COSTS: dict[str, Callable[..., int]] = {  # str() measures itself; the rest cost next to nothing
    "sorted": _sort_cost, "min": functools.partial(_pick_cost, "min()"), "max": functools.partial(_pick_cost, "max()"),
    "set": lambda values=(), *_: _items(values, "set()"), "dict": lambda *a, **kw: measure(a, "dict()") + len(kw),
    "list": _list_cost, "sum": _length_cost("sum()"), "any": _length_cost("any()"),
    "all": _length_cost("all()"),
}


def _split_pieces(text: str, args: list) -> int:
    sep = args[0] if args else None
    pieces = len(text) // 2 + 1 if sep is None else text.count(sep) + 1 if type(sep) is str and sep else 1
    maxsplit = args[1] if len(args) > 1 else -1
    return min(pieces, maxsplit + 1) if type(maxsplit) is int and maxsplit >= 0 else pieces


def _join_cost(sep: str, args: list) -> int:
    items = args[0] if args else ()
    if not isinstance(items, ITERABLE):
        return 1  # join itself raises the TypeError
    n = len(items)
    if n > MAX_OPERAND:
        raise over_limit(f".join() 的操作数超过 {MAX_OPERAND} 个单位 (operands too large)")
    try:
        chars = len(sep) * max(n - 1, 0) + sum(map(len, items))
    except TypeError:  # an item without a length: join raises its own error
        return n
    if chars > MAX_ITEMS:
        raise over_limit(f"join 结果超过 {MAX_ITEMS} 个字符 (join too long)")
    return n + (chars >> 4)


def method_cost(recv: Any, name: str, args: list) -> int:
    what = f".{name}()"
    if isinstance(recv, str):
        if name == "join":
            return _join_cost(recv, args)
        units = 1 + (len(recv) >> 4) + measure(args, what)
        return _afford(units + _NEW_OBJECT * _split_pieces(recv, args) if name == "split" else units, what)
    if name == "count":  # each comparison costs at most what the needle weighs
        return _afford(len(recv) * max(1, measure(args, what)), what)
    if name == "get":
        return measure(args[:1], what)  # the key is hashed
    if name in ("keys", "values", "items"):
        return _afford(len(recv) * (2 * _NEW_OBJECT if name == "items" else 1), what)
    return 1


def compare_cost(op: type, a: Any, b: Any) -> int:
    if op is ast.In or op is ast.NotIn:
        if isinstance(b, str):
            return 1 + ((len(b) + (len(a) if isinstance(a, str) else 0)) >> 4)
        if isinstance(b, (list, tuple)):  # each comparison costs at most what the needle weighs
            return _afford(len(b) * max(1, measure([a], "in")), "in")
        return measure([a], "in")  # a dict or set hashes the needle
    if op is ast.Is or op is ast.IsNot:
        return 1
    if (op is ast.Eq or op is ast.NotEq) and type(a) is type(b) and type(a) in HEAVY and len(a) != len(b):
        return 1  # Python answers from the lengths
    return measure([a, b], "比较")


def checked_number(value: Any) -> Any:
    """Numbers stay finite (task data is JSON) and within MAX_INT_BITS."""
    t = type(value)
    if t is float and not math.isfinite(value):
        raise run_error(f"数值溢出, 结果不是有限数: {value} (non-finite numbers are not allowed)")
    if t is int and value.bit_length() > MAX_INT_BITS:
        raise over_limit("整数超过 10000 位 (integer too large)")
    return value


def _check_repeat(seq: Any, n: int) -> None:
    if type(seq) is str:
        weight, limit = len(seq), MAX_ITEMS // n
    else:  # the elements are repeated, not the container: n references to a long string weigh n times it
        limit = min(MAX_OPERAND, MAX_ITEMS // n)
        weight = size(seq, limit + 1) - 1
    if weight > limit or weight * n > MAX_ITEMS:
        raise over_limit(f"重复结果超过 {MAX_ITEMS} 项 (repetition too long)")


def binop(op: type, a: Any, b: Any) -> Any:
    """Apply an allowed arithmetic operator; size guards run before anything is computed."""
    seqs = (str, list, tuple)
    if op is ast.Add:
        if isinstance(a, seqs) and isinstance(b, seqs) and len(a) + len(b) > MAX_ITEMS:
            raise over_limit(f"拼接结果超过 {MAX_ITEMS} 项 (concatenation too long)")
        r = a + b
    elif op is ast.Sub:
        r = a - b
    elif op is ast.Mult:
        for seq, n in ((a, b), (b, a)):
            if isinstance(seq, seqs) and isinstance(n, int) and n > 1:
                _check_repeat(seq, n)
        if isinstance(a, int) and isinstance(b, int) and a.bit_length() + b.bit_length() > MAX_INT_BITS:
            raise over_limit("整数超过 10000 位 (integer too large)")
        r = a * b
    elif op is ast.Div:
        r = a / b
    elif op is ast.FloorDiv:
        r = a // b
    elif op is ast.Mod:
        if isinstance(a, str):  # '%999999999d' % 1 would allocate gigabytes
            raise refused("不允许使用 % 字符串格式化，请用 f-string (printf-style formatting is not allowed)")
        r = a % b
    else:
        if isinstance(b, (int, float)) and b > MAX_EXPONENT:
            raise over_limit(f"指数超过 {MAX_EXPONENT} (exponent too large)")
        if isinstance(a, int) and isinstance(b, int) and b > 0 and a.bit_length() * b > MAX_INT_BITS:
            raise over_limit("整数超过 10000 位 (integer too large)")
        r = a ** b
    if type(r) is complex:  # (-8) ** 0.5 is not JSON data
        raise run_error("结果是复数，不支持 (complex result)")
    return checked_number(r)
