"""Restricted interpreter for BPMN conditions, scripts, service parameters and timers.

Text is parsed with ``ast.parse`` and the tree is walked here node by node; it is never
compiled to a code object, so task data cannot reach Python internals.

No single operation may cost more than a few milliseconds: before a comparison, ``in``, a call
or a repetition runs, the size of its operands is measured in size units (one per value, one
more per 16 characters of a string or 256 bits of an int, a shared reference at each appearance)
and the operation is refused (``expression.limit``) past ``MAX_OP_UNITS``/``MAX_OPERAND``.
Numbers stay finite, so task data stays JSON.

Each run has its own ``MAX_SECONDS``; ``with step_budget(STEP_SECONDS):`` around one engine step
makes every run started inside share the step's deadline too (the earlier one wins).
``STEP_SECONDS`` is 3.0 unless ``DUBAN_STEP_SECONDS`` says otherwise.
"""
from __future__ import annotations

import ast
import calendar
import collections
import contextlib
import contextvars
import datetime as _dt
import functools
import io
import itertools
import math
import operator
import os
import re
import textwrap
import time
import tokenize
from collections.abc import Callable, Iterator
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine.python_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.exceptions import SpiffWorkflowException

from .timer_literals import TimerSpec, is_iso8601_timer, parse_iso8601_timer

__all__ = [
    "ExpressionError", "check_expression", "check_script", "evaluate", "execute", "SafeScriptEnvironment",
    "SafePythonScriptEngine", "make_script_engine", "TimerSpec", "is_iso8601_timer", "parse_iso8601_timer",
    "step_budget", "STEP_SECONDS",
]

MAX_SOURCE = 20_000       # characters of expression/script text
MAX_DEPTH = 50            # AST and bracket nesting
MAX_ITERATION = 10_000    # items in one iterated collection or range()
MAX_STEPS = 100_000       # statements + comprehension items per run
MAX_ITEMS = 1_000_000     # length of one built string/list; "size units" of a stored value
MAX_ALLOC = 10_000_000    # items/characters built in one run, so a loop cannot hoard memory
MAX_DATA_DEPTH = 100      # nesting of a stored value (deeper breaks JSON serialisation)
MAX_SECONDS = 2.0         # wall-clock backstop for a run; the counters above are the real limits
MAX_EXPONENT = 1_000
MAX_INT_BITS = 33_220     # ~10,000 decimal digits
MAX_OP_UNITS = 1_000_000  # estimated work of one operation: ~10 ns a unit in C, so ~10 ms
MAX_OPERAND = 250_000     # size units one operation may measure in its operands (a walk in Python)
_CLOCK_UNITS = 100_000    # work between two looks at the clock within one statement
_NEW_OBJECT = 8           # units of building one new string or list (split, items(), list('...'))


def _seconds(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not 0 < value < math.inf:
        raise ValueError(f"{name} 应为正的秒数, 实为 {raw!r} (must be a positive number of seconds)")
    return value


STEP_SECONDS = _seconds("DUBAN_STEP_SECONDS", 3.0)  # shared by all expression runs of one engine step
_STEP: contextvars.ContextVar[tuple[float, float] | None] = contextvars.ContextVar("duban_step", default=None)


@contextlib.contextmanager
def step_budget(seconds: float) -> Iterator[float]:
    """Every run started inside shares one deadline (yielded); nested budgets never extend the outer one."""
    deadline = time.monotonic() + seconds
    outer = _STEP.get()
    if outer is not None and outer[0] <= deadline:
        deadline, seconds = outer
    token = _STEP.set((deadline, seconds))  # contextvars: each thread (and asyncio task) has its own
    try:
        yield deadline
    finally:
        _STEP.reset(token)


class ExpressionError(Exception):
    """A refused, malformed, failing or over-limit expression; the only error this module raises."""

    def __init__(self, code: str, message: str, line: int | None = None) -> None:
        super().__init__(message)  # args[0] stays a str: SpiffWorkflow concatenates it
        self.code, self.message, self.line = code, message, line

    def __str__(self) -> str:
        return f"{self.message} (第 {self.line} 行)" if self.line else self.message

    def __reduce__(self):  # pickling/copying despite the 3-argument constructor
        return (type(self), (self.code, self.message, self.line))


def _refused(msg: str, line: int | None = None) -> ExpressionError:
    return ExpressionError("expression.refused", msg, line)


def _limit(msg: str, line: int | None = None) -> ExpressionError:
    return ExpressionError("expression.limit", msg, line)


def _runtime(msg: str, line: int | None = None) -> ExpressionError:
    return ExpressionError("expression.runtime", msg, line)


# ---------------------------------------------------------------- allow-lists
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
        raise _limit(f"range 过长: 最多 {MAX_ITERATION} 项 (range too long)")
    return list(r)  # a list keeps values plain JSON-like data


def _sum(values: Any, start: Any = 0) -> Any:
    items = list(values)  # numbers only: summing lists could multiply memory through aliasing
    if not {type(start), *map(type, items)} <= _NUMBERS:  # map: checked at C speed
        raise TypeError("sum() 只能用于数字")
    return sum(items, start)


def _str(v: Any = "") -> str:
    _measure([v], "str()", text=True)
    s = str(v)
    if len(s) > MAX_ITEMS:
        raise _limit(f"字符串超过 {MAX_ITEMS} 个字符 (string too long)")
    return s


def _round(number: Any, ndigits: Any = None) -> Any:
    if type(ndigits) is int and abs(ndigits) > MAX_EXPONENT:  # round(5, -10**6) computes 10**1000000
        raise _limit(f"round 的位数超过 {MAX_EXPONENT} (ndigits too large)")
    return round(number) if ndigits is None else round(number, ndigits)


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "len": len, "sum": _sum, "min": min, "max": max, "any": any, "all": all, "abs": abs, "round": _round,
    "int": int, "float": float, "str": _str, "bool": bool, "sorted": sorted, "list": list, "dict": dict,
    "set": set, "range": _range, "date": _as_date, "add_months": _add_months,
    "today": lambda: _dt.date.today().isoformat(),
    "now": lambda: _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
    "days_between": lambda a, b: (_as_date(b) - _as_date(a)).days,
    "add_days": lambda d, n: (_as_date(d) + _dt.timedelta(days=int(n))).isoformat(),
}
# Keyword names each function accepts (None = any); unlisted functions take none (no key=).
_KEYWORDS: dict[str, set[str] | None] = {
    "sorted": {"reverse"}, "min": {"default"}, "max": {"default"}, "sum": {"start"},
    "round": {"ndigits"}, "int": {"base"}, "dict": None,
}
# Methods are chosen by receiver type and called unbound, so no user-visible object is reached.
_METHODS: tuple[tuple[type, dict[str, Callable[..., Any]]], ...] = (
    (str, {n: getattr(str, n) for n in ("startswith", "endswith", "strip", "lower", "upper", "split", "join", "count")}),
    (dict, {"get": dict.get, "keys": list, "values": lambda d: list(d.values()),
            "items": lambda d: [list(kv) for kv in d.items()]}),
    (list, {"count": list.count, "append": list.append}),
    (tuple, {"count": tuple.count}),
)
_METHOD_NAMES = {name for _, table in _METHODS for name in table}
_FORBIDDEN = {"eval", "exec", "open", "getattr", "setattr", "delattr", "hasattr", "compile", "globals", "locals",
              "vars", "type", "object", "breakpoint", "input", "print", "super", "memoryview"}
_BINOPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow)
_SCALARS = {str, int, float, bool, type(None)}
_NUMBERS = {int, float, bool}
_CONTAINERS = {list, tuple, dict, set, frozenset}
_HEAVY = _CONTAINERS | {str}  # operands whose comparison cost depends on their size
_ITERABLE = (list, tuple, str, dict, set, frozenset)
_NAMED = {  # refused constructs are named in Chinese, the Python node name follows
    "Import": "import 语句", "ImportFrom": "from ... import 语句", "Lambda": "lambda 表达式",
    "FunctionDef": "函数定义 def", "AsyncFunctionDef": "async def", "ClassDef": "类定义 class",
    "While": "while 循环", "Try": "try 语句", "TryStar": "try 语句", "With": "with 语句", "AsyncWith": "async with",
    "AsyncFor": "async for", "Global": "global 语句", "Nonlocal": "nonlocal 语句", "Yield": "yield",
    "YieldFrom": "yield from", "Await": "await", "NamedExpr": "海象运算符 :=", "Starred": "星号解包 *",
    "Return": "return 语句", "Raise": "raise 语句", "Assert": "assert 语句", "Match": "match 语句",
    "AnnAssign": "类型注解赋值", "BitOr": "位运算 |", "BitAnd": "位运算 &", "BitXor": "位运算 ^",
    "LShift": "位移 <<", "RShift": "位移 >>", "Invert": "按位取反 ~", "MatMult": "矩阵乘 @",
}


# ---------------------------------------------------------------- static check
class _Checker:
    """Collects every problem in a parsed tree; refused nodes are reported, not descended."""

    PASS = (ast.Expression, ast.BoolOp, ast.IfExp, ast.List, ast.Tuple, ast.Set, ast.Subscript, ast.Slice,
            ast.JoinedStr, ast.keyword, ast.Compare, ast.Expr, ast.Pass, ast.If)
    SKIP = (ast.expr_context, ast.operator, ast.unaryop, ast.boolop, ast.cmpop)

    def __init__(self, script: bool) -> None:
        self.script, self.problems, self.loops, self.too_deep = script, [], 0, False

    def add(self, node: ast.AST, msg: str, code: str = "expression.refused") -> None:
        self.problems.append((code, msg, getattr(node, "lineno", None)))

    def refuse(self, node: ast.AST, at: ast.AST | None = None) -> bool:
        name = type(node).__name__  # operators carry no line number: report the enclosing node's
        self.add(at or node, f"不允许的语法: {_NAMED.get(name, name)} ({name} is not allowed)")
        return False

    def visit(self, node: ast.AST, depth: int = 0) -> None:
        if depth > MAX_DEPTH:
            if not self.too_deep:  # one report is enough
                self.too_deep = True
                self.add(node, f"嵌套层数超过 {MAX_DEPTH} (nesting too deep)", "expression.limit")
            return
        handler = getattr(self, "v_" + type(node).__name__, None)
        if not isinstance(node, self.PASS) and handler is None:
            self.refuse(node)
        elif handler is None or handler(node, depth) is not False:  # False: handler did the children
            for child in ast.iter_child_nodes(node):
                if not isinstance(child, self.SKIP):
                    self.visit(child, depth + 1)

    def name(self, node: ast.AST, ident: str) -> None:
        if ident.startswith("__"):
            self.add(node, f"不允许使用双下划线名称: {ident} (dunder names are not allowed)")
        elif ident in _FORBIDDEN:
            self.add(node, f"不允许的函数: {ident} ({ident} is not allowed)")

    def target(self, node: ast.AST, depth: int, subscript: bool = True) -> None:
        if isinstance(node, ast.Name):
            self.name(node, node.id)
        elif isinstance(node, (ast.Tuple, ast.List)) and all(isinstance(e, ast.Name) for e in node.elts):
            for e in node.elts:
                self.name(e, e.id)
        elif subscript and isinstance(node, ast.Subscript) and not isinstance(node.slice, ast.Slice):
            self.visit(node, depth + 1)
        else:
            self.add(node, f"不允许的赋值目标: {type(node).__name__} (only names, tuples of names and x[k])")

    def v_Name(self, n, d):
        self.name(n, n.id)

    def v_Constant(self, n, d):
        if type(n.value) not in _SCALARS:
            self.add(n, f"不允许的常量类型: {type(n.value).__name__}")
        elif type(n.value) is float and not math.isfinite(n.value):
            self.add(n, "浮点数常量超出范围, 不是有限数 (non-finite constant)")

    def v_Dict(self, n, d):
        if None in n.keys:
            self.add(n, "不允许的语法: 字典解包 ** (dict unpacking is not allowed)")

    def v_UnaryOp(self, n, d):
        return self.refuse(n.op, n) if isinstance(n.op, ast.Invert) else None

    def v_BinOp(self, n, d):
        return None if isinstance(n.op, _BINOPS) else self.refuse(n.op, n)

    def v_Compare(self, n, d):
        operands = [n.left, *n.comparators]
        for i, op in enumerate(n.ops):
            if isinstance(op, (ast.Is, ast.IsNot)) and not any(
                    isinstance(x, ast.Constant) and x.value is None for x in operands[i:i + 2]):
                self.add(n, "is / is not 只能与 None 比较 (use == instead)")

    def v_Attribute(self, n, d):  # reached only when not the callee of an allowed method call
        self.visit(n.value, d + 1)  # inner problems first: messages read left to right
        if n.attr.startswith("_"):
            self.add(n, f"不允许访问下划线属性: {n.attr} (underscore attributes are not allowed)")
        else:
            self.add(n, f"不允许的属性访问: .{n.attr} (only allow-listed method calls)")
        return False

    def v_FormattedValue(self, n, d):
        if n.format_spec is not None:  # a spec like {x:>999999999} allocates at will
            self.add(n, "f-string 不允许格式说明 (format specs are not allowed)")
            return False

    def v_Call(self, n, d):
        f = n.func
        if any(isinstance(a, ast.Starred) for a in n.args) or any(k.arg is None for k in n.keywords):
            self.add(n, "不允许的语法: 星号解包 * / ** (argument unpacking is not allowed)")
        if isinstance(f, ast.Name):
            self.name(f, f.id)
            allowed = _KEYWORDS.get(f.id, set())
            for kw in n.keywords:
                if kw.arg is not None and allowed is not None and f.id in _FUNCTIONS and kw.arg not in allowed:
                    self.add(kw, f"不允许的关键字参数: {f.id}({kw.arg}=...)")
            if f.id not in _FUNCTIONS and not f.id.startswith("__") and f.id not in _FORBIDDEN:
                self.add(f, f"不允许的函数: {f.id} (function is not allowed)")
        elif isinstance(f, ast.Attribute):
            if f.attr.startswith("_"):
                self.v_Attribute(f, d)
            else:
                self.visit(f.value, d + 1)
                if f.attr not in _METHOD_NAMES:
                    self.add(f, f"不允许的方法: .{f.attr} (method is not allowed)")
                elif f.attr == "append" and not self.script:
                    self.add(f, "append 只能在脚本中使用 (append is only allowed in scripts)")
            if n.keywords:
                self.add(f, f"方法 .{f.attr} 不允许关键字参数 (no keyword arguments for methods)")
        else:
            self.add(n, "不允许的调用: 只能调用允许的函数或方法 (only allow-listed calls)")
            self.visit(f, d + 1)
        for a in [*n.args, *n.keywords]:
            self.visit(a, d + 1)
        return False

    def v_ListComp(self, n, d):
        if len(n.generators) != 1:
            self.add(n, "推导式只允许一个 for (only one for per comprehension)")
        for g in n.generators:
            if g.is_async:
                self.add(n, "不允许的语法: async for")
            self.target(g.target, d, subscript=False)
            for part in [g.iter, *g.ifs]:
                self.visit(part, d + 1)
        for part in (n.key, n.value) if isinstance(n, ast.DictComp) else (n.elt,):
            self.visit(part, d + 1)
        return False

    v_SetComp = v_DictComp = v_GeneratorExp = v_ListComp

    # Statements: an expression tree never contains them
    def v_Module(self, n, d):
        return None if self.script else self.refuse(n)

    def v_Assign(self, n, d):
        for t in n.targets:
            self.target(t, d)
        self.visit(n.value, d + 1)
        return False

    def v_AugAssign(self, n, d):
        if not isinstance(n.op, _BINOPS):
            self.refuse(n.op, n)
        self.target(n.target, d)
        self.visit(n.value, d + 1)
        return False

    def v_Delete(self, n, d):
        for t in n.targets:
            if isinstance(t, (ast.Tuple, ast.List)):
                self.add(t, "del 只能删除变量或 x[k] (del only takes names and x[k])")
            else:
                self.target(t, d)
        return False

    def v_For(self, n, d):
        self.target(n.target, d, subscript=False)
        self.visit(n.iter, d + 1)
        self.loops += 1
        for s in [*n.body, *n.orelse]:
            self.visit(s, d + 1)
        self.loops -= 1
        return False

    def v_Break(self, n, d):
        if not self.loops:  # the parser accepts a stray break; only the compiler would object
            self.add(n, f"{type(n).__name__.lower()} 只能用在 for 循环中", "expression.syntax")

    v_Continue = v_Break


def _bracket_depth(source: str) -> int:
    """Deepest (/[/{ nesting; redundant parentheses leave no trace in the AST."""
    depth = deepest = 0
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.OP and tok.string in "([{":
                depth += 1
                deepest = max(deepest, depth)
            elif tok.type == tokenize.OP and tok.string in ")]}":
                depth -= 1
    except (tokenize.TokenError, SyntaxError):  # rare tokenizer/parser disagreement: count naively
        return max(deepest, sum(source.count(c) for c in "([{"))
    return deepest


@functools.lru_cache(maxsize=1024)
def _prepare(text: str, script: bool) -> tuple[ast.AST | None, tuple[tuple[str, str, int | None], ...]]:
    """Parse and check once per distinct text (cached); returns (tree, problems)."""
    # BPMN XML often indents a script block as a whole, or pads an expression with newlines.
    source = textwrap.dedent(text) if script else text.strip()
    lead = 0 if script else text[:len(text) - len(text.lstrip())].count("\n")  # keep lines true to the text
    try:
        tree = ast.increment_lineno(ast.parse(source, mode="exec" if script else "eval"), lead)
    except SyntaxError as exc:
        return None, (("expression.syntax", f"语法错误: {exc.msg}", exc.lineno and exc.lineno + lead),)
    except (RecursionError, MemoryError):
        return None, (("expression.limit", "表达式嵌套过深 (nesting too deep)", None),)
    except ValueError as exc:  # e.g. NUL bytes in the source
        return None, (("expression.syntax", f"语法错误: {exc}", None),)
    if _bracket_depth(source) > MAX_DEPTH:
        return None, (("expression.limit", f"括号嵌套超过 {MAX_DEPTH} 层 (nesting too deep)", None),)
    checker = _Checker(script)
    try:
        checker.visit(tree)
    except RecursionError:
        checker.add(tree, "表达式嵌套过深 (nesting too deep)", "expression.limit")
    return tree, tuple(checker.problems)


def _problems(text: Any, script: bool) -> tuple[ast.AST | None, list[ExpressionError]]:
    if not isinstance(text, str):
        return None, [ExpressionError("expression.syntax", f"表达式必须是字符串，而不是 {type(text).__name__}")]
    if len(text) > MAX_SOURCE:
        return None, [_limit(f"表达式过长: 超过 {MAX_SOURCE} 个字符 (source too long)")]
    tree, problems = _prepare(text, script)
    # Fresh exception objects: cached ones would pile up tracebacks across raises.
    return tree, [ExpressionError(code, msg, line) for code, msg, line in problems]


def check_expression(text: str) -> list[ExpressionError]:
    """Statically check one expression; returns every problem found (empty list = OK)."""
    return _problems(text, False)[1]


def check_script(text: str) -> list[ExpressionError]:
    """Statically check a script (statements); returns every problem found (empty list = OK)."""
    return _problems(text, True)[1]


# ---------------------------------------------------------------- run time
_MISSING = object()


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


def _scalar_units(v: Any, text: bool) -> int:
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


class _Walk:
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
            raise _limit(f"数据嵌套超过 {MAX_DATA_DEPTH} 层 (value nested too deeply)")
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
            raise _limit(f"数据嵌套超过 {MAX_DATA_DEPTH} 层 (value nested too deeply)")
        self.memo[id(v)] = found
        return found

    def scalars(self, items: Any, kinds: set[type]) -> int:
        if len(kinds) == 1:
            return _flat_units(items, next(iter(kinds)), self.text)
        return sum(_flat_units([*itertools.compress(items, map(functools.partial(operator.is_, kind), map(type, items)))],
                               kind, self.text) for kind in kinds)

    def batch(self, items: Any, n: int, limit: int) -> tuple[int, int] | None:
        kinds = set(map(type, items))
        if kinds.isdisjoint(_CONTAINERS):
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
        return (1 + n + self.scalars(inner, inner_kinds), 2) if inner_kinds.isdisjoint(_CONTAINERS) else None

    def each(self, items: Any, depth: int, limit: int) -> tuple[int, int]:
        n = len(items)
        distinct = dict(zip(map(id, items), items)) if n > 16 else None
        counts = collections.Counter(map(id, items)) if distinct and 2 * len(distinct) <= n else None
        units, height = 1, 1
        for x in (distinct.values() if counts else items):
            if type(x) in _CONTAINERS:
                each, below = self.memo.get(id(x)) or self.units(x, depth + 1, limit - units)
                height = max(height, below + 1)
            else:
                each = _scalar_units(x, self.text)
            units += each * counts[id(x)] if counts else each
            if units > limit:
                break
        return units, height


_CYCLE = 1 << 62
_MAX_VISITS = 10_000  # containers one operation may walk one by one (~1 µs each)


def _size(value: Any, limit: int, text: bool = False, visits: int | None = _MAX_VISITS) -> int:
    """Size units of a value, counted only until they pass ``limit`` (so a cycle ends the walk too).

    A shared reference costs at each appearance, as comparing or serialising it does.
    ``text`` prices conversion to text (str(), f-strings) instead of comparing and hashing.
    """
    if type(value) not in _CONTAINERS:
        return _scalar_units(value, text)
    return _Walk(text, visits).units(value, 0, limit)[0]


def _check_size(value: Any) -> None:
    """Refuse values whose serialised form would explode: aliasing (a = [a, a]), cycles, deep nesting."""
    if type(value) in _SCALARS and (type(value) is not str or len(value) <= 4096):
        return
    if _size(value, MAX_ITEMS, visits=None) > MAX_ITEMS:
        raise _limit("结果过大或包含循环引用 (value too large or cyclic)")


# ---------------------------------------------------------------- the cost of one operation
def _afford(units: int, what: str) -> int:
    if units > MAX_OP_UNITS:
        raise _limit(f"{what} 的运算量超过 {MAX_OP_UNITS} 个单位 (operation too large)")
    return units


def _measure(values: Any, what: str, limit: int = MAX_OPERAND, text: bool = False) -> int:
    """Size of an operation's operands, refused past ``limit`` before the operation runs."""
    walk, total = _Walk(text, _MAX_VISITS), 0  # one memo: a value shared by operands is walked once, counted twice
    for v in values:
        total += walk.units(v, 0, limit - total)[0] if type(v) in _CONTAINERS else _scalar_units(v, text)
        if total > limit:
            raise _limit(f"{what} 的操作数超过 {limit} 个单位 (operands too large)")
    return total


def _items(values: Any, what: str, limit: int = MAX_OPERAND) -> int:
    """Size of what iterating ``values`` yields: a string yields one value per character."""
    if type(values) is str:
        if len(values) >= limit:
            raise _limit(f"{what} 的操作数超过 {limit} 个单位 (operands too large)")
        return len(values) + 1
    return _measure([values], what, limit)


def _length(values: Any) -> int:
    return len(values) if isinstance(values, _ITERABLE) else 1


def _sort_cost(values: Any = (), *_: Any, **__: Any) -> int:
    rounds = max(1, _length(values).bit_length())  # n log n comparisons, each costing what it compares
    _afford(_length(values) * rounds, "sorted()")
    return rounds * _items(values, "sorted()", min(MAX_OPERAND, MAX_OP_UNITS // rounds))


def _pick_cost(what: str, *args: Any, **kwargs: Any) -> int:
    return _items(args[0], what) if len(args) == 1 else _measure(args, what)


def _length_cost(what: str) -> Callable[..., int]:
    return lambda values=(), *_, **__: _afford(_length(values), what)


def _list_cost(values: Any = (), *_: Any) -> int:
    return _afford(_length(values) * (_NEW_OBJECT if type(values) is str else 1), "list()")  # a string per character


_CALL_COSTS: dict[str, Callable[..., int]] = {  # str() measures itself; the rest cost next to nothing
    "sorted": _sort_cost, "min": functools.partial(_pick_cost, "min()"), "max": functools.partial(_pick_cost, "max()"),
    "set": lambda values=(), *_: _items(values, "set()"), "dict": lambda *a, **kw: _measure(a, "dict()") + len(kw),
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
    if not isinstance(items, _ITERABLE):
        return 1  # join itself raises the TypeError
    n = len(items)
    if n > MAX_OPERAND:
        raise _limit(f".join() 的操作数超过 {MAX_OPERAND} 个单位 (operands too large)")
    try:
        chars = len(sep) * max(n - 1, 0) + sum(map(len, items))
    except TypeError:  # an item without a length: join raises its own error
        return n
    if chars > MAX_ITEMS:
        raise _limit(f"join 结果超过 {MAX_ITEMS} 个字符 (join too long)")
    return n + (chars >> 4)


def _method_cost(recv: Any, name: str, args: list) -> int:
    what = f".{name}()"
    if isinstance(recv, str):
        if name == "join":
            return _join_cost(recv, args)
        units = 1 + (len(recv) >> 4) + _measure(args, what)
        return _afford(units + _NEW_OBJECT * _split_pieces(recv, args) if name == "split" else units, what)
    if name == "count":  # each comparison costs at most what the needle weighs
        return _afford(len(recv) * max(1, _measure(args, what)), what)
    if name == "get":
        return _measure(args[:1], what)  # the key is hashed
    if name in ("keys", "values", "items"):
        return _afford(len(recv) * (2 * _NEW_OBJECT if name == "items" else 1), what)
    return 1


def _compare_cost(op: type, a: Any, b: Any) -> int:
    if op is ast.In or op is ast.NotIn:
        if isinstance(b, str):
            return 1 + ((len(b) + (len(a) if isinstance(a, str) else 0)) >> 4)
        if isinstance(b, (list, tuple)):  # each comparison costs at most what the needle weighs
            return _afford(len(b) * max(1, _measure([a], "in")), "in")
        return _measure([a], "in")  # a dict or set hashes the needle
    if op is ast.Is or op is ast.IsNot:
        return 1
    if (op is ast.Eq or op is ast.NotEq) and type(a) is type(b) and type(a) in _HEAVY and len(a) != len(b):
        return 1  # Python answers from the lengths
    return _measure([a, b], "比较")


def _number(value: Any) -> Any:
    """Numbers stay finite (task data is JSON) and within MAX_INT_BITS."""
    t = type(value)
    if t is float and not math.isfinite(value):
        raise _runtime(f"数值溢出, 结果不是有限数: {value} (non-finite numbers are not allowed)")
    if t is int and value.bit_length() > MAX_INT_BITS:
        raise _limit("整数超过 10000 位 (integer too large)")
    return value


def _check_repeat(seq: Any, n: int) -> None:
    if type(seq) is str:
        weight, limit = len(seq), MAX_ITEMS // n
    else:  # the elements are repeated, not the container: n references to a long string weigh n times it
        limit = min(MAX_OPERAND, MAX_ITEMS // n)
        weight = _size(seq, limit + 1) - 1
    if weight > limit or weight * n > MAX_ITEMS:
        raise _limit(f"重复结果超过 {MAX_ITEMS} 项 (repetition too long)")


def _binop(op: type, a: Any, b: Any) -> Any:
    """Apply an allowed arithmetic operator; size guards run before anything is computed."""
    seqs = (str, list, tuple)
    if op is ast.Add:
        if isinstance(a, seqs) and isinstance(b, seqs) and len(a) + len(b) > MAX_ITEMS:
            raise _limit(f"拼接结果超过 {MAX_ITEMS} 项 (concatenation too long)")
        r = a + b
    elif op is ast.Sub:
        r = a - b
    elif op is ast.Mult:
        for seq, n in ((a, b), (b, a)):
            if isinstance(seq, seqs) and isinstance(n, int) and n > 1:
                _check_repeat(seq, n)
        if isinstance(a, int) and isinstance(b, int) and a.bit_length() + b.bit_length() > MAX_INT_BITS:
            raise _limit("整数超过 10000 位 (integer too large)")
        r = a * b
    elif op is ast.Div:
        r = a / b
    elif op is ast.FloorDiv:
        r = a // b
    elif op is ast.Mod:
        if isinstance(a, str):  # '%999999999d' % 1 would allocate gigabytes
            raise _refused("不允许使用 % 字符串格式化，请用 f-string (printf-style formatting is not allowed)")
        r = a % b
    else:
        if isinstance(b, (int, float)) and b > MAX_EXPONENT:
            raise _limit(f"指数超过 {MAX_EXPONENT} (exponent too large)")
        if isinstance(a, int) and isinstance(b, int) and b > 0 and a.bit_length() * b > MAX_INT_BITS:
            raise _limit("整数超过 10000 位 (integer too large)")
        r = a ** b
    if type(r) is complex:  # (-8) ** 0.5 is not JSON data
        raise _runtime("结果是复数，不支持 (complex result)")
    return _number(r)


_COMPARE: dict[type, Callable[[Any, Any], bool]] = {
    ast.Eq: lambda a, b: a == b, ast.NotEq: lambda a, b: a != b, ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b, ast.Gt: lambda a, b: a > b, ast.GtE: lambda a, b: a >= b,
    ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b,
    ast.Is: lambda a, b: a is b, ast.IsNot: lambda a, b: a is not b,
}


def _root(node: ast.AST) -> str | None:
    """Variable a mutation target belongs to (x for x['a'].get('b')); None if it cannot be told."""
    while type(node) is not ast.Name:
        if type(node) is ast.Subscript:
            node = node.value
        elif type(node) is ast.Call and type(node.func) is ast.Attribute:
            node = node.func.value
        else:
            return None
    return node.id


class _Run:
    """One evaluation or execution: scopes, budgets, and the variables a script mutated."""

    __slots__ = ("ctx", "ext", "scopes", "steps", "alloc", "work", "clock_at", "deadline", "step_seconds", "touched")

    def __init__(self, ctx: dict, ext: dict | None) -> None:
        self.ctx, self.ext, self.scopes, self.touched = ctx, ext or {}, [], set()
        self.steps, self.alloc, self.work, self.clock_at = 0, 0, 0, _CLOCK_UNITS
        self.deadline, self.step_seconds = time.monotonic() + MAX_SECONDS, None
        step = _STEP.get()
        if step is not None and step[0] < self.deadline:  # the engine step's budget runs out first
            self.deadline, self.step_seconds = step

    def ev(self, node: ast.AST) -> Any:
        handler = _EVAL.get(type(node))
        if handler is None:  # unreachable after the check; defence in depth
            raise _refused(f"不允许的语法: {type(node).__name__}", getattr(node, "lineno", None))
        return handler(self, node)

    def step(self) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise _limit(f"执行步数超过 {MAX_STEPS} (too many steps)")
        self.clock()

    def clock(self) -> None:
        if time.monotonic() > self.deadline:
            if self.step_seconds is None:
                raise _limit(f"执行时间超过 {MAX_SECONDS} 秒 (took too long)")
            raise _limit(f"本步骤的表达式执行时间合计超过 {self.step_seconds:g} 秒 (step took too long)")

    def spend(self, units: int) -> None:
        """Count an operation's work; a statement of many bounded operations still meets the clock."""
        self.work += units
        if self.work >= self.clock_at:
            self.clock_at = self.work + _CLOCK_UNITS
            self.clock()

    def charge(self, value: Any) -> Any:
        """Count what a run builds, so a loop cannot hoard memory one allowed piece at a time."""
        if isinstance(value, (str, list, tuple, dict, set)):
            self.alloc += len(value)
            if self.alloc > MAX_ALLOC:
                raise _limit(f"本次运行创建的数据超过 {MAX_ALLOC} 项 (too much data built)")
            self.spend(len(value))
        return value

    def iterate(self, value: Any, node: ast.AST) -> list:
        if not isinstance(value, _ITERABLE):
            raise _runtime(f"不可迭代的值: {type(value).__name__} (not iterable)", node.lineno)
        if len(value) > MAX_ITERATION:
            raise _limit(f"迭代集合超过 {MAX_ITERATION} 项 (collection too large)", node.lineno)
        return list(value)  # a snapshot: appending while looping cannot run forever

    def bind(self, target: ast.AST, value: Any, scope: dict) -> None:
        if type(target) is ast.Name:
            scope[target.id] = value
            return
        if not isinstance(value, (list, tuple)) or len(value) != len(target.elts):
            raise _runtime(f"无法解包为 {len(target.elts)} 个变量 (cannot unpack)", target.lineno)
        for t, v in zip(target.elts, value):
            scope[t.id] = v

    def e_name(self, n: ast.Name) -> Any:
        for scope in reversed(self.scopes):
            if n.id in scope:
                return scope[n.id]
        if n.id in self.ctx:
            return self.ctx[n.id]
        if n.id in self.ext:
            return self.ext[n.id]
        raise _runtime(f"未定义的变量: {n.id} (name {n.id!r} is not defined)", n.lineno)

    def e_boolop(self, n: ast.BoolOp) -> Any:
        is_and = type(n.op) is ast.And
        for e in n.values:
            v = self.ev(e)
            if (not v) if is_and else v:
                return v
        return v

    def e_compare(self, n: ast.Compare) -> bool:
        left = self.ev(n.left)
        for op, comp in zip(n.ops, n.comparators):
            right = self.ev(comp)
            if type(left) in _HEAVY or type(right) in _HEAVY:  # numbers compare in constant time
                self.spend(_compare_cost(type(op), left, right))
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True

    def e_subscript(self, n: ast.Subscript) -> Any:
        value, key = self.ev(n.value), self.ev(n.slice)
        if not isinstance(value, (list, tuple, str, dict)):
            raise _runtime(f"不能对 {type(value).__name__} 取下标 (not subscriptable)", n.lineno)
        if type(key) is tuple:  # hashed, element by element
            self.spend(_measure([key], "下标"))
        return self.charge(value[key]) if type(key) is slice else value[key]

    def e_formatted(self, n: ast.FormattedValue) -> str:
        v = self.ev(n.value)
        self.spend(_measure([v], "f-string", text=True))
        return repr(v) if n.conversion == ord("r") else ascii(v) if n.conversion == ord("a") else str(v)

    def e_joined(self, n: ast.JoinedStr) -> str:
        s = "".join(p.value if type(p) is ast.Constant else self.ev(p) for p in n.values)
        if len(s) > MAX_ITEMS:
            raise _limit(f"字符串超过 {MAX_ITEMS} 个字符 (string too long)", n.lineno)
        return self.charge(s)

    def e_call(self, n: ast.Call) -> Any:
        f = n.func
        if type(f) is ast.Name:  # the checker allowed only names in _FUNCTIONS
            args = [self.ev(a) for a in n.args]
            kwargs = {k.arg: self.ev(k.value) for k in n.keywords}
            cost = _CALL_COSTS.get(f.id)
            if cost is not None:
                self.spend(cost(*args, **kwargs))
            result = _number(_FUNCTIONS[f.id](*args, **kwargs))
            return result if f.id in ("min", "max") else self.charge(result)  # those pick, not build
        recv = self.ev(f.value)
        args = [self.ev(a) for a in n.args]
        method = next((table.get(f.attr) for typ, table in _METHODS if isinstance(recv, typ)), None)
        if method is None:
            raise _refused(f"不允许在 {type(recv).__name__} 上调用 .{f.attr} (method not allowed here)", n.lineno)
        self.spend(_method_cost(recv, f.attr, args))
        if f.attr == "get":  # returns an existing value: nothing was built
            return method(recv, *args)
        if f.attr == "append":
            self.touched.add(_root(f.value))
        return self.charge(method(recv, *args))

    def e_comp(self, n: ast.expr) -> Any:
        g, is_dict = n.generators[0], type(n) is ast.DictComp
        items = self.iterate(self.ev(g.iter), g.iter)  # evaluated outside the new scope, as in Python
        scope: dict[str, Any] = {}
        out: Any = {} if is_dict else []
        self.scopes.append(scope)
        try:
            for item in items:
                self.step()
                self.bind(g.target, item, scope)
                if all(self.ev(c) for c in g.ifs):
                    if is_dict:
                        out[self.ev(n.key)] = self.ev(n.value)
                    else:
                        out.append(self.ev(n.elt))
        finally:
            self.scopes.pop()
        return self.charge(set(out) if type(n) is ast.SetComp else out)

    # statements
    def container(self, t: ast.Subscript) -> tuple[Any, Any]:
        obj, key = self.ev(t.value), self.ev(t.slice)
        if not isinstance(obj, (list, dict)):
            raise _runtime(f"只能修改 list 或 dict 的元素，而不是 {type(obj).__name__}", t.lineno)
        self.touched.add(_root(t.value))  # None = unknown root: check the whole context at the end
        return obj, key

    def store(self, t: ast.AST, value: Any) -> None:
        if type(t) is ast.Subscript:
            obj, key = self.container(t)
            obj[key] = value
        else:
            self.bind(t, value, self.ctx)
            self.touched.update(e.id for e in ([t] if type(t) is ast.Name else t.elts))

    def block(self, body: list[ast.stmt]) -> None:
        for s in body:
            self.step()
            try:
                _STMT[type(s)](self, s)
            except (_Break, _Continue):
                raise
            except ExpressionError as exc:
                exc.line = exc.line or s.lineno
                raise
            except Exception as exc:
                raise _wrap(exc, s.lineno) from None

    def s_augassign(self, s: ast.AugAssign) -> None:
        if type(s.target) is ast.Name:
            self.store(s.target, self.charge(_binop(type(s.op), self.e_name(s.target), self.ev(s.value))))
        else:
            obj, key = self.container(s.target)
            obj[key] = self.charge(_binop(type(s.op), obj[key], self.ev(s.value)))

    def s_for(self, s: ast.For) -> None:
        for item in self.iterate(self.ev(s.iter), s.iter):
            self.store(s.target, item)
            try:
                self.block(s.body)
            except _Break:
                return
            except _Continue:
                continue
        self.block(s.orelse)

    def s_delete(self, s: ast.Delete) -> None:
        for t in s.targets:
            if type(t) is ast.Subscript:
                obj, key = self.container(t)
                del obj[key]
            elif self.ctx.pop(t.id, _MISSING) is _MISSING:
                raise _runtime(f"未定义的变量: {t.id} (name {t.id!r} is not defined)", t.lineno)

    def check_touched(self) -> None:
        if None in self.touched:
            _check_size([*self.ctx.values(), *self.ext.values()])
        else:
            _check_size([self.ctx[k] if k in self.ctx else self.ext.get(k) for k in self.touched])


def _raise(exc: type[Exception]) -> Callable[[_Run, ast.AST], None]:
    def handler(run: _Run, s: ast.AST) -> None:
        raise exc()
    return handler


def _unary(r: _Run, n: ast.UnaryOp) -> Any:
    v = r.ev(n.operand)
    return (not v) if type(n.op) is ast.Not else -v if type(n.op) is ast.USub else +v


_EVAL: dict[type, Callable[[_Run, Any], Any]] = {
    ast.Constant: lambda r, n: n.value, ast.Name: _Run.e_name, ast.UnaryOp: _unary,
    ast.List: lambda r, n: [r.ev(e) for e in n.elts], ast.Tuple: lambda r, n: tuple(r.ev(e) for e in n.elts),
    ast.Set: lambda r, n: {r.ev(e) for e in n.elts},
    ast.Dict: lambda r, n: {r.ev(k): r.ev(v) for k, v in zip(n.keys, n.values)},
    ast.BinOp: lambda r, n: r.charge(_binop(type(n.op), r.ev(n.left), r.ev(n.right))),
    ast.BoolOp: _Run.e_boolop, ast.Compare: _Run.e_compare,
    ast.IfExp: lambda r, n: r.ev(n.body) if r.ev(n.test) else r.ev(n.orelse),
    ast.Subscript: _Run.e_subscript, ast.Call: _Run.e_call, ast.JoinedStr: _Run.e_joined,
    ast.Slice: lambda r, n: slice(*(None if p is None else r.ev(p) for p in (n.lower, n.upper, n.step))),
    ast.FormattedValue: _Run.e_formatted, ast.ListComp: _Run.e_comp, ast.SetComp: _Run.e_comp,
    ast.DictComp: _Run.e_comp, ast.GeneratorExp: _Run.e_comp,  # generators are built eagerly, bounded
}
_STMT: dict[type, Callable[[_Run, Any], None]] = {
    ast.Assign: lambda r, s: [r.store(t, v) for v in [r.ev(s.value)] for t in s.targets] and None,
    ast.AugAssign: _Run.s_augassign, ast.For: _Run.s_for, ast.Delete: _Run.s_delete,
    ast.If: lambda r, s: r.block(s.body if r.ev(s.test) else s.orelse),
    ast.Expr: lambda r, s: r.ev(s.value) and None, ast.Pass: lambda r, s: None,
    ast.Break: _raise(_Break), ast.Continue: _raise(_Continue),
}
_ERROR_LABELS = ((ZeroDivisionError, "除数为零"), (KeyError, "键不存在"), (IndexError, "索引超出范围"),
                 (TypeError, "类型错误"), (ValueError, "值错误"), (OverflowError, "数值溢出"))


def _wrap(exc: Exception, line: int | None) -> ExpressionError:
    """Turn a Python error raised by user data into a readable ExpressionError."""
    if isinstance(exc, (RecursionError, MemoryError)):
        return _limit(f"超出资源限制 ({type(exc).__name__})", line)
    label = next((text for typ, text in _ERROR_LABELS if isinstance(exc, typ)), "运行错误")
    return _runtime(f"{label} ({type(exc).__name__}: {str(exc)[:200]})", line)


def _run(text: str, context: dict, external: dict | None, script: bool) -> Any:
    tree, problems = _problems(text, script)
    if problems:
        raise problems[0]
    run = _Run(context, external)
    line = None if script else tree.body.lineno
    try:
        run.clock()  # a step whose budget is spent runs nothing more
        if script:
            run.block(tree.body)
            return run.check_touched()
        result = run.ev(tree.body)
        _check_size(result)
        return result
    except ExpressionError as exc:
        exc.line = exc.line or line
        raise
    except Exception as exc:  # nothing raw may escape
        raise _wrap(exc, line) from None


def evaluate(text: str, context: dict) -> Any:
    """Evaluate a checked expression; names resolve to context keys, calls to allow-listed functions."""
    return _run(text, context, None, False)


def execute(text: str, context: dict) -> None:
    """Run a checked script; assignments write into ``context`` (the task data dict)."""
    _run(text, context, None, True)


# ---------------------------------------------------------------- SpiffWorkflow integration
_TIMER_HINT = re.compile(r"[PR0-9][0-9A-Z:.,+\-/]*")


class SafeScriptEnvironment(BasePythonScriptEngineEnvironment):
    """SpiffWorkflow script environment that runs everything through the restricted interpreter."""

    def __init__(self, service_caller: Callable[..., str] | None = None) -> None:
        super().__init__()
        self.service_caller = service_caller

    def evaluate(self, expression: str, context: dict, external_context: dict | None = None) -> Any:
        """Evaluate a condition/parameter/timer expression against task data, then data objects."""
        # Camunda Modeler writes timer literals unquoted (PT1H, R3/PT1H); hand them back as text.
        text = expression.strip() if isinstance(expression, str) else ""
        if _TIMER_HINT.fullmatch(text) and text not in context and is_iso8601_timer(text):
            return text
        return _run(expression, context, external_context, False)

    def execute(self, script: str, context: dict, external_context: dict | None = None) -> bool:
        """Run a script task; it mutates ``context`` (task.data) in place."""
        _run(script, context, external_context, True)
        return True

    def call_service(self, context: dict, **kwargs: Any) -> str:
        """Delegate a service task to the configured caller, which must return a JSON string."""
        if self.service_caller is None:
            raise ExpressionError("handler.none", f"未配置服务调用处理器: {kwargs.get('operation_name')} (no service caller)")
        result = self.service_caller(context, **kwargs)
        if not isinstance(result, str):
            raise ExpressionError("handler.result", "服务处理器必须返回 JSON 字符串 (service caller must return JSON text)")
        return result


class SafePythonScriptEngine(PythonScriptEngine):
    """PythonScriptEngine that keeps ExpressionError details (code, message, line) in step errors."""

    def evaluate(self, task, expression, external_context=None):
        try:
            return self.environment.evaluate(expression, task.data, external_context)
        except SpiffWorkflowException:
            raise
        except Exception as err:  # the base class would drop our message
            code = f"{err.code}: " if isinstance(err, ExpressionError) else ""
            raise WorkflowTaskException(f"表达式 {expression!r} 出错: {code}{err}", task=task, exception=err) from err

    def call_service(self, task, **kwargs):
        # SpiffWorkflow 3.2.0's version references an undefined name when the service fails.
        try:
            return self.environment.call_service(task.data, **kwargs)
        except SpiffWorkflowException:
            raise
        except Exception as err:
            code = f"{err.code}: " if isinstance(err, ExpressionError) else ""
            raise WorkflowTaskException(f"服务调用失败: {code}{err}", task=task, exception=err) from err

    def create_task_exec_exception(self, task, script, err):
        if not isinstance(err, ExpressionError):
            return super().create_task_exec_exception(task, script, err)
        lines = script.splitlines() if isinstance(script, str) else []
        error_line = lines[err.line - 1] if err.line and err.line <= len(lines) else ""
        wte = WorkflowTaskException(f"{err.code}: {err}", task=task, exception=err,
                                    line_number=err.line or 0, error_line=error_line)
        wte.__cause__ = err  # the base engine raises it without `from`
        return wte


def make_script_engine(service_caller: Callable[..., str] | None = None) -> PythonScriptEngine:
    """A SpiffWorkflow script engine whose conditions, scripts and services never reach eval/exec."""
    return SafePythonScriptEngine(environment=SafeScriptEnvironment(service_caller))
