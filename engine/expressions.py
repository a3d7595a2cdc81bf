"""Restricted interpreter for BPMN conditions, scripts, service parameters and timers.

Text is parsed with ``ast.parse`` and the tree is walked here node by node; it is never
compiled to a code object, so task data cannot reach Python internals.
"""
from __future__ import annotations

import ast
import calendar
import datetime as _dt
import functools
import io
import re
import tokenize
from collections.abc import Callable
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine.python_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.exceptions import SpiffWorkflowException

from .timer_literals import TimerSpec, is_iso8601_timer, parse_iso8601_timer

__all__ = [
    "ExpressionError", "check_expression", "check_script", "evaluate", "execute",
    "SafeScriptEnvironment", "SafePythonScriptEngine", "make_script_engine",
    "TimerSpec", "is_iso8601_timer", "parse_iso8601_timer",
]

MAX_SOURCE = 20_000        # characters of expression/script text
MAX_DEPTH = 50             # AST / bracket nesting
MAX_ITERATION = 10_000     # items in one iterated collection or range()
MAX_STEPS = 100_000        # statements + comprehension items per run
MAX_ITEMS = 1_000_000      # length of a built string/list, and "size units" of a result
MAX_EXPONENT = 1_000
MAX_INT_BITS = 33_220      # ~10,000 decimal digits


class ExpressionError(Exception):
    """A refused, malformed, failing or over-limit expression; the only error this module raises."""

    def __init__(self, code: str, message: str, line: int | None = None) -> None:
        super().__init__(message)  # args[0] stays a str: SpiffWorkflow concatenates it
        self.code, self.message, self.line = code, message, line

    def __str__(self) -> str:
        return f"{self.message} (第 {self.line} 行)" if self.line else self.message

    def __reduce__(self):  # keep pickling/copying working despite the 3-arg constructor
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
    raise ValueError(f"不是 ISO 日期: {v!r}")


def _add_months(d: Any, n: int) -> str:
    base, n = _as_date(d), int(n)
    months = base.year * 12 + base.month - 1 + n
    year, month = divmod(months, 12)
    day = min(base.day, calendar.monthrange(year, month + 1)[1])  # clamp 31 Jan + 1 → 28/29 Feb
    return _dt.date(year, month + 1, day).isoformat()


def _range(*args: int) -> list[int]:
    r = range(*args)
    try:
        n = len(r)
    except OverflowError:
        n = MAX_ITERATION + 1
    if n > MAX_ITERATION:
        raise _limit(f"range 过长: 最多 {MAX_ITERATION} 项 (range too long)")
    return list(r)  # a list keeps values plain JSON-like data


def _sum(values: Any, start: Any = 0) -> Any:
    # Only numbers: summing lists/strings could multiply memory through aliasing.
    items = list(values)
    if not all(isinstance(x, (int, float)) for x in [start, *items]):
        raise TypeError("sum() 只能用于数字")
    return sum(items, start)


def _str(v: Any = "") -> str:
    _check_size(v)
    return str(v)


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "len": len, "sum": _sum, "min": min, "max": max, "any": any, "all": all, "abs": abs,
    "round": round, "int": int, "float": float, "str": _str, "bool": bool, "sorted": sorted,
    "list": list, "dict": dict, "set": set, "range": _range,
    "today": lambda: _dt.date.today().isoformat(),
    "now": lambda: _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
    "date": _as_date,
    "days_between": lambda a, b: (_as_date(b) - _as_date(a)).days,
    "add_days": lambda d, n: (_as_date(d) + _dt.timedelta(days=int(n))).isoformat(),
    "add_months": _add_months,
}
# Allowed keyword names per function (None = any); functions not listed take none.
_KEYWORDS: dict[str, set[str] | None] = {
    "sorted": {"reverse"}, "min": {"default"}, "max": {"default"}, "sum": {"start"},
    "round": {"ndigits"}, "int": {"base"}, "dict": None,
}
# Methods are looked up by receiver type and called unbound, so overrides never run.
_METHODS: tuple[tuple[type, dict[str, Callable[..., Any]]], ...] = (
    (str, {n: getattr(str, n) for n in
           ("startswith", "endswith", "strip", "lower", "upper", "split", "join", "count")}),
    (dict, {"get": dict.get, "keys": lambda d: list(d), "values": lambda d: list(d.values()),
            "items": lambda d: [list(kv) for kv in d.items()]}),
    (list, {"count": list.count, "append": list.append}),
    (tuple, {"count": tuple.count}),
)
_METHOD_NAMES = {name for _, table in _METHODS for name in table}
_FORBIDDEN = {"eval", "exec", "open", "getattr", "setattr", "delattr", "hasattr", "compile",
              "globals", "locals", "vars", "type", "object", "breakpoint", "input", "print",
              "super", "memoryview", "classmethod", "staticmethod"}
_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//",
           ast.Mod: "%", ast.Pow: "**"}
_CONSTANT_TYPES = (str, int, float, bool, type(None))
_SCALARS = {str, int, float, bool, type(None)}
_ITERABLE = (list, tuple, str, dict, set, frozenset)
_NAMED = {  # refused constructs get a readable Chinese name in the message
    "Import": "import 语句", "ImportFrom": "from ... import 语句", "Lambda": "lambda 表达式",
    "FunctionDef": "函数定义 def", "AsyncFunctionDef": "async def", "ClassDef": "类定义 class",
    "While": "while 循环", "Try": "try 语句", "TryStar": "try 语句", "With": "with 语句",
    "AsyncWith": "async with", "AsyncFor": "async for", "Global": "global 语句",
    "Nonlocal": "nonlocal 语句", "Yield": "yield", "YieldFrom": "yield from", "Await": "await",
    "NamedExpr": "海象运算符 :=", "Starred": "星号解包 *", "Return": "return 语句",
    "Raise": "raise 语句", "Assert": "assert 语句", "Match": "match 语句",
    "AnnAssign": "类型注解赋值", "BitOr": "位运算 |", "BitAnd": "位运算 &", "BitXor": "位运算 ^",
    "LShift": "位移 <<", "RShift": "位移 >>", "Invert": "按位取反 ~", "MatMult": "矩阵乘 @",
}


# ---------------------------------------------------------------- static check
class _Checker:
    """Collects every problem in a parsed tree; refused nodes are reported, not descended."""

    def __init__(self, script: bool) -> None:
        self.script, self.problems, self.loops, self.too_deep = script, [], 0, False

    def add(self, node: ast.AST, code: str, msg: str) -> None:
        self.problems.append((code, msg, getattr(node, "lineno", None)))

    def refuse(self, node: ast.AST, at: ast.AST | None = None) -> None:
        name = type(node).__name__  # operators carry no line: report the expression's
        self.add(at or node, "expression.refused", f"不允许的语法: {_NAMED.get(name, name)} ({name} is not allowed)")

    def visit(self, node: ast.AST, depth: int = 0) -> None:
        if depth > MAX_DEPTH:
            if not self.too_deep:  # one report is enough
                self.too_deep = True
                self.add(node, "expression.limit", f"嵌套层数超过 {MAX_DEPTH} (nesting too deep)")
            return
        handler = getattr(self, "v_" + type(node).__name__, None)
        if handler is None:
            return self.refuse(node)
        if handler(node, depth) is not False:  # False = handler already did its children
            for child in ast.iter_child_nodes(node):
                if not isinstance(child, (ast.expr_context, ast.operator, ast.unaryop, ast.boolop, ast.cmpop)):
                    self.visit(child, depth + 1)

    def name(self, node: ast.AST, ident: str) -> None:
        if ident.startswith("__"):
            self.add(node, "expression.refused", f"不允许使用双下划线名称: {ident} (dunder names are not allowed)")
        elif ident in _FORBIDDEN:
            self.add(node, "expression.refused", f"不允许的函数: {ident} ({ident} is not allowed)")

    def targets(self, node: ast.AST, depth: int, allow_subscript: bool) -> None:
        if isinstance(node, ast.Name):
            return self.name(node, node.id)
        if isinstance(node, (ast.Tuple, ast.List)) and all(isinstance(e, ast.Name) for e in node.elts):
            for e in node.elts:
                self.name(e, e.id)
            return None
        if allow_subscript and isinstance(node, ast.Subscript) and not isinstance(node.slice, ast.Slice):
            return self.visit(node, depth + 1)
        self.add(node, "expression.refused", f"不允许的赋值目标: {type(node).__name__} (only names, name tuples and x[k])")

    # Expressions
    def v_Expression(self, n, d): pass
    def v_BoolOp(self, n, d): pass
    def v_IfExp(self, n, d): pass
    def v_List(self, n, d): pass
    def v_Tuple(self, n, d): pass
    def v_Set(self, n, d): pass
    def v_Subscript(self, n, d): pass
    def v_Slice(self, n, d): pass
    def v_JoinedStr(self, n, d): pass
    def v_Name(self, n, d): self.name(n, n.id)

    def v_Constant(self, n, d):
        if not isinstance(n.value, _CONSTANT_TYPES):
            self.add(n, "expression.refused", f"不允许的常量类型: {type(n.value).__name__}")

    def v_Dict(self, n, d):
        if any(k is None for k in n.keys):
            self.add(n, "expression.refused", "不允许的语法: 字典解包 ** (dict unpacking is not allowed)")

    def v_UnaryOp(self, n, d):
        if isinstance(n.op, ast.Invert):
            return self.refuse(n.op, n) or False

    def v_BinOp(self, n, d):
        if type(n.op) not in _BINOPS:
            return self.refuse(n.op, n) or False

    def v_Compare(self, n, d):
        operands = [n.left, *n.comparators]
        for i, op in enumerate(n.ops):
            pair = operands[i:i + 2]
            if isinstance(op, (ast.Is, ast.IsNot)) and not any(
                    isinstance(x, ast.Constant) and x.value is None for x in pair):
                self.add(n, "expression.refused", "is / is not 只能与 None 比较 (use == instead)")

    def v_Attribute(self, n, d):  # reached only when not the callee of a method call
        self.visit(n.value, d + 1)  # inner problems first: messages read left to right
        if n.attr.startswith("_"):
            self.add(n, "expression.refused", f"不允许访问下划线属性: {n.attr} (underscore attributes are not allowed)")
        else:
            self.add(n, "expression.refused", f"不允许的属性访问: .{n.attr} (only allow-listed method calls)")
        return False

    def v_FormattedValue(self, n, d):
        if n.format_spec is not None:
            self.add(n, "expression.refused", "f-string 不允许格式说明 (format specs are not allowed)")
            return False

    def v_Call(self, n, d):
        f = n.func
        for a in [*n.args, *n.keywords]:
            if isinstance(a, ast.Starred) or (isinstance(a, ast.keyword) and a.arg is None):
                self.add(n, "expression.refused", "不允许的语法: 星号解包 * / ** (argument unpacking is not allowed)")
        if isinstance(f, ast.Name):
            self.name(f, f.id)
            if f.id in _FUNCTIONS:
                allowed = _KEYWORDS.get(f.id, set())
                for kw in n.keywords:
                    if kw.arg is not None and allowed is not None and kw.arg not in allowed:
                        self.add(kw, "expression.refused", f"不允许的关键字参数: {f.id}({kw.arg}=...)")
            elif not f.id.startswith("__") and f.id not in _FORBIDDEN:
                self.add(f, "expression.refused", f"不允许的函数: {f.id} (function is not allowed)")
        elif isinstance(f, ast.Attribute):
            if f.attr.startswith("_"):
                self.v_Attribute(f, d)
            else:
                self.visit(f.value, d + 1)
                if f.attr not in _METHOD_NAMES:
                    self.add(f, "expression.refused", f"不允许的方法: .{f.attr} (method is not allowed)")
                elif f.attr == "append" and not self.script:
                    self.add(f, "expression.refused", "append 只能在脚本中使用 (append is only allowed in scripts)")
            if n.keywords:
                self.add(f, "expression.refused", f"方法 .{f.attr} 不允许关键字参数")
        else:
            self.add(n, "expression.refused", "不允许的调用: 只能调用允许的函数或方法")
            self.visit(f, d + 1)
        for a in [*n.args, *n.keywords]:
            self.visit(a, d + 1)
        return False

    def v_keyword(self, n, d): pass

    def _comp(self, n, d):
        if len(n.generators) != 1:
            self.add(n, "expression.refused", "推导式只允许一个 for (only one for per comprehension)")
        for g in n.generators:
            if g.is_async:
                self.add(n, "expression.refused", "不允许的语法: async for")
            self.targets(g.target, d, allow_subscript=False)
            for part in [g.iter, *g.ifs]:
                self.visit(part, d + 1)
        for part in (n.key, n.value) if isinstance(n, ast.DictComp) else (n.elt,):
            self.visit(part, d + 1)
        return False

    v_ListComp = v_SetComp = v_DictComp = v_GeneratorExp = _comp

    # Statements (scripts only; an expression tree never contains them)
    def v_Module(self, n, d):
        if not self.script:
            return self.refuse(n) or False

    def v_Expr(self, n, d): pass
    def v_Pass(self, n, d): pass
    def v_If(self, n, d): pass

    def v_Assign(self, n, d):
        for t in n.targets:
            self.targets(t, d, allow_subscript=True)
        self.visit(n.value, d + 1)
        return False

    def v_AugAssign(self, n, d):
        if type(n.op) not in _BINOPS:
            self.refuse(n.op, n)
        self.targets(n.target, d, allow_subscript=True)
        self.visit(n.value, d + 1)
        return False

    def v_Delete(self, n, d):
        for t in n.targets:
            if isinstance(t, ast.Tuple):
                self.add(t, "expression.refused", "del 只能删除单个变量或 x[k]")
            else:
                self.targets(t, d, allow_subscript=True)
        return False

    def v_For(self, n, d):
        self.targets(n.target, d, allow_subscript=False)
        self.visit(n.iter, d + 1)
        self.loops += 1
        for s in [*n.body, *n.orelse]:
            self.visit(s, d + 1)
        self.loops -= 1
        return False

    def _loop_control(self, n, d):
        if not self.loops:  # the parser accepts a stray break; the compiler would not
            self.add(n, "expression.syntax", f"{type(n).__name__.lower()} 只能用在 for 循环中")

    v_Break = v_Continue = _loop_control


def _bracket_depth(text: str) -> int:
    """Deepest (/[/{ nesting; redundant parentheses leave no trace in the AST."""
    depth = deepest = 0
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.OP and tok.string in "([{":
                depth += 1
                deepest = max(deepest, depth)
            elif tok.type == tokenize.OP and tok.string in ")]}":
                depth -= 1
    except (tokenize.TokenError, SyntaxError):
        pass  # ast.parse already accepted the text; tokenizer quirks are not our concern
    return deepest


@functools.lru_cache(maxsize=1024)
def _prepare(text: str, script: bool) -> tuple[ast.AST | None, tuple[tuple[str, str, int | None], ...]]:
    """Parse and check once per distinct text; returns (tree, problems) and is cached."""
    try:
        tree = ast.parse(text, mode="exec" if script else "eval")
    except SyntaxError as exc:
        return None, (("expression.syntax", f"语法错误: {exc.msg}", exc.lineno),)
    except (RecursionError, MemoryError):
        return None, (("expression.limit", "表达式嵌套过深 (nesting too deep)", None),)
    except ValueError as exc:  # e.g. NUL bytes in the source
        return None, (("expression.syntax", f"语法错误: {exc}", None),)
    if _bracket_depth(text) > MAX_DEPTH:
        return None, (("expression.limit", f"括号嵌套超过 {MAX_DEPTH} 层 (nesting too deep)", None),)
    checker = _Checker(script)
    try:
        checker.visit(tree)
    except RecursionError:
        checker.add(tree, "expression.limit", "表达式嵌套过深 (nesting too deep)")
    return tree, tuple(checker.problems)


def _problems(text: Any, script: bool) -> tuple[ast.AST | None, list[ExpressionError]]:
    if not isinstance(text, str):
        return None, [ExpressionError("expression.syntax", f"表达式必须是字符串，而不是 {type(text).__name__}")]
    if len(text) > MAX_SOURCE:
        return None, [_refused(f"表达式过长: 超过 {MAX_SOURCE} 个字符 (source too long)")]
    tree, problems = _prepare(text, script)
    # Fresh exception objects: cached ones would accumulate tracebacks across raises.
    return tree, [ExpressionError(code, msg, line) for code, msg, line in problems]


def check_expression(text: str) -> list[ExpressionError]:
    """Statically check one expression; returns every problem found (empty list = OK)."""
    return _problems(text, False)[1]


def check_script(text: str) -> list[ExpressionError]:
    """Statically check a script (statements); returns every problem found (empty list = OK)."""
    return _problems(text, True)[1]


# ---------------------------------------------------------------- run time
class _Break(Exception):
    pass


class _Continue(Exception):
    pass


def _check_size(value: Any) -> None:
    """Refuse values whose serialised size would explode (aliasing like a=[a,a], cycles, huge text)."""
    if type(value) in _SCALARS and not (type(value) is str and len(value) > 4096):
        return
    units, stack = 0, [value]
    while stack:  # deliberately no memo: shared references count every time they would serialise
        v = stack.pop()
        units += 1 + (len(v) // 64 if isinstance(v, str) else 0)
        if isinstance(v, dict):
            stack.extend(v.keys())
            stack.extend(v.values())
        elif isinstance(v, (list, tuple, set, frozenset)):
            stack.extend(v)
        if units > MAX_ITEMS:
            raise _limit("结果过大或包含循环引用 (value too large or cyclic)")


def _binop(op: type, a: Any, b: Any) -> Any:
    """Apply an allowed arithmetic operator with size guards checked before computing."""
    if op is ast.Add:
        if isinstance(a, (str, list, tuple)) and isinstance(b, (str, list, tuple)) and len(a) + len(b) > MAX_ITEMS:
            raise _limit(f"拼接结果超过 {MAX_ITEMS} 项 (concatenation too long)")
        r = a + b
    elif op is ast.Sub:
        r = a - b
    elif op is ast.Mult:
        for seq, n in ((a, b), (b, a)):
            if isinstance(seq, (str, list, tuple)) and isinstance(n, int) and len(seq) * n > MAX_ITEMS:
                raise _limit(f"重复结果超过 {MAX_ITEMS} 项 (repetition too long)")
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
    else:  # ast.Pow
        if isinstance(b, (int, float)) and b > MAX_EXPONENT:
            raise _limit(f"指数超过 {MAX_EXPONENT} (exponent too large)")
        if isinstance(a, int) and isinstance(b, int) and b > 0 and a.bit_length() * b > MAX_INT_BITS:
            raise _limit("整数超过 10000 位 (integer too large)")
        r = a ** b
    if type(r) is int and r.bit_length() > MAX_INT_BITS:
        raise _limit("整数超过 10000 位 (integer too large)")
    if type(r) is complex:  # (-8) ** 0.5; not JSON data
        raise _runtime("结果是复数，不支持 (complex result)")
    return r


_COMPARE: dict[type, Callable[[Any, Any], bool]] = {
    ast.Eq: lambda a, b: a == b, ast.NotEq: lambda a, b: a != b, ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b, ast.Gt: lambda a, b: a > b, ast.GtE: lambda a, b: a >= b,
    ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b,
    ast.Is: lambda a, b: a is b, ast.IsNot: lambda a, b: a is not b,
}


def _root(node: ast.AST) -> str | None:
    """Variable whose value a mutation target belongs to (x for x['a'].get('b')); None if unknown."""
    while True:
        if type(node) is ast.Name:
            return node.id
        if type(node) is ast.Subscript:
            node = node.value
        elif type(node) is ast.Call and type(node.func) is ast.Attribute:
            node = node.func.value
        else:
            return None


class _Run:
    """One evaluation/execution: variable scopes, step budget and mutated roots."""

    __slots__ = ("ctx", "ext", "scopes", "steps", "touched")

    def __init__(self, ctx: dict, ext: dict | None) -> None:
        self.ctx, self.ext, self.scopes, self.steps, self.touched = ctx, ext or {}, [], 0, set()

    def ev(self, node: ast.AST) -> Any:
        handler = _EVAL.get(type(node))
        if handler is None:  # unreachable after the check; defence in depth
            raise _refused(f"不允许的语法: {type(node).__name__}", getattr(node, "lineno", None))
        return handler(self, node)

    def step(self) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise _limit(f"执行步数超过 {MAX_STEPS} (too many steps)")

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
        self.touched.update(t.id for t in target.elts)

    # expressions
    def e_name(self, n: ast.Name) -> Any:
        for scope in reversed(self.scopes):
            if n.id in scope:
                return scope[n.id]
        if n.id in self.ctx:
            return self.ctx[n.id]
        if n.id in self.ext:
            return self.ext[n.id]
        raise _runtime(f"未定义的变量: {n.id} (name {n.id!r} is not defined)", n.lineno)

    def e_unary(self, n: ast.UnaryOp) -> Any:
        v = self.ev(n.operand)
        return not v if type(n.op) is ast.Not else -v if type(n.op) is ast.USub else +v

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
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True

    def e_subscript(self, n: ast.Subscript) -> Any:
        value, key = self.ev(n.value), self.ev(n.slice)
        if not isinstance(value, (list, tuple, str, dict)):
            raise _runtime(f"不能对 {type(value).__name__} 取下标 (not subscriptable)", n.lineno)
        return value[key]

    def e_slice(self, n: ast.Slice) -> slice:
        return slice(*(None if p is None else self.ev(p) for p in (n.lower, n.upper, n.step)))

    def e_formatted(self, n: ast.FormattedValue) -> str:
        v = self.ev(n.value)
        _check_size(v)
        return repr(v) if n.conversion == ord("r") else ascii(v) if n.conversion == ord("a") else str(v)

    def e_joined(self, n: ast.JoinedStr) -> str:
        s = "".join(p.value if type(p) is ast.Constant else self.ev(p) for p in n.values)
        if len(s) > MAX_ITEMS:
            raise _limit(f"字符串超过 {MAX_ITEMS} 个字符 (string too long)", n.lineno)
        return s

    def e_call(self, n: ast.Call) -> Any:
        f = n.func
        if type(f) is ast.Name:  # the checker allowed only names in _FUNCTIONS
            args = [self.ev(a) for a in n.args]
            return _FUNCTIONS[f.id](*args, **{k.arg: self.ev(k.value) for k in n.keywords})
        recv = self.ev(f.value)
        args = [self.ev(a) for a in n.args]
        method = next((table.get(f.attr) for typ, table in _METHODS if isinstance(recv, typ)), None)
        if method is None:
            raise _refused(f"不允许在 {type(recv).__name__} 上调用 .{f.attr} (method not allowed here)", n.lineno)
        if f.attr == "join" and args and isinstance(args[0], _ITERABLE):
            items = list(args[0])
            total = len(recv) * max(len(items) - 1, 0) + sum(len(x) for x in items if isinstance(x, str))
            if total > MAX_ITEMS:
                raise _limit(f"join 结果超过 {MAX_ITEMS} 个字符 (join too long)", n.lineno)
        elif f.attr == "append":
            self.touch(f.value)
        return method(recv, *args)

    def e_comp(self, n: ast.expr) -> Any:
        g = n.generators[0]
        items = self.iterate(self.ev(g.iter), g.iter)  # evaluated outside the new scope, like Python
        scope: dict[str, Any] = {}
        is_dict = type(n) is ast.DictComp
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
        return set(out) if type(n) is ast.SetComp else out

    # statements
    def touch(self, node: ast.AST) -> None:
        self.touched.add(_root(node))  # None = unknown root: check the whole context at the end

    def container(self, t: ast.Subscript) -> tuple[Any, Any]:
        obj, key = self.ev(t.value), self.ev(t.slice)
        if not isinstance(obj, (list, dict)):
            raise _runtime(f"只能修改 list 或 dict 的元素，而不是 {type(obj).__name__}", t.lineno)
        self.touch(t.value)
        return obj, key

    def store(self, t: ast.AST, value: Any) -> None:
        if type(t) is ast.Subscript:
            obj, key = self.container(t)
            obj[key] = value
        else:
            self.bind(t, value, self.ctx)
            if type(t) is ast.Name:
                self.touched.add(t.id)

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
            self.store(s.target, _binop(type(s.op), self.e_name(s.target), self.ev(s.value)))
        else:
            obj, key = self.container(s.target)
            obj[key] = _binop(type(s.op), obj[key], self.ev(s.value))

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
            if type(t) is ast.Name:
                if t.id not in self.ctx:
                    raise _runtime(f"未定义的变量: {t.id}", t.lineno)
                del self.ctx[t.id]
            else:
                obj, key = self.container(t)
                del obj[key]

    def check_touched(self) -> None:
        roots = self.touched
        values = [*self.ctx.values(), *self.ext.values()] if None in roots else [
            self.ctx[k] if k in self.ctx else self.ext.get(k) for k in roots]
        _check_size(values)


def _raise(exc: type[Exception]) -> Callable[[_Run, ast.AST], None]:
    def handler(run: _Run, s: ast.AST) -> None:
        raise exc()
    return handler


_EVAL: dict[type, Callable[[_Run, Any], Any]] = {
    ast.Constant: lambda r, n: n.value, ast.Name: _Run.e_name,
    ast.List: lambda r, n: [r.ev(e) for e in n.elts], ast.Tuple: lambda r, n: tuple(r.ev(e) for e in n.elts),
    ast.Set: lambda r, n: {r.ev(e) for e in n.elts},
    ast.Dict: lambda r, n: {r.ev(k): r.ev(v) for k, v in zip(n.keys, n.values)},
    ast.UnaryOp: _Run.e_unary, ast.BinOp: lambda r, n: _binop(type(n.op), r.ev(n.left), r.ev(n.right)),
    ast.BoolOp: _Run.e_boolop, ast.Compare: _Run.e_compare,
    ast.IfExp: lambda r, n: r.ev(n.body) if r.ev(n.test) else r.ev(n.orelse),
    ast.Subscript: _Run.e_subscript, ast.Slice: _Run.e_slice, ast.Call: _Run.e_call,
    ast.JoinedStr: _Run.e_joined, ast.FormattedValue: _Run.e_formatted,
    ast.ListComp: _Run.e_comp, ast.SetComp: _Run.e_comp, ast.DictComp: _Run.e_comp, ast.GeneratorExp: _Run.e_comp,
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
    try:
        if script:
            run.block(tree.body)
            run.check_touched()
            return None
        result = run.ev(tree.body)
        _check_size(result)
        return result
    except ExpressionError as exc:
        exc.line = exc.line or (None if script else tree.body.lineno)
        raise
    except Exception as exc:  # nothing raw may escape
        raise _wrap(exc, None if script else tree.body.lineno) from None


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
        """Evaluate a condition/parameter/timer expression against task data (+ data objects)."""
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
            raise ExpressionError("handler.result", "服务处理器必须返回 JSON 字符串 (service caller must return a JSON string)")
        return result


class SafePythonScriptEngine(PythonScriptEngine):
    """PythonScriptEngine that keeps ExpressionError details (code, message, line) in step errors."""

    def evaluate(self, task, expression, external_context=None):
        try:
            return self.environment.evaluate(expression, task.data, external_context)
        except ExpressionError as err:  # the base class would drop our message
            raise WorkflowTaskException(f"表达式 {expression!r} 出错: {err.code}: {err}", task=task,
                                        exception=err) from err
        except SpiffWorkflowException:
            raise
        except Exception as err:
            raise WorkflowTaskException(f"表达式 {expression!r} 出错: {err}", task=task, exception=err) from err

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
        wte.__cause__ = err
        return wte


def make_script_engine(service_caller: Callable[..., str] | None = None) -> PythonScriptEngine:
    """A SpiffWorkflow script engine whose conditions, scripts and services never reach eval/exec."""
    return SafePythonScriptEngine(environment=SafeScriptEnvironment(service_caller))
