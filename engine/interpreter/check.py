"""The static check: which syntax, names, functions and methods an expression may use.

Text is parsed with ``ast.parse`` and checked once per distinct text (cached); the same check
guards every run, and validation calls it to report every problem in a process file at once.
"""
from __future__ import annotations

import ast
import functools
import io
import math
import textwrap
import tokenize
from typing import Any

from .errors import ExpressionError, over_limit
from .functions import FUNCTIONS, KEYWORDS, METHOD_NAMES
from .limits import MAX_DEPTH, MAX_SOURCE
from .sizes import SCALARS

_FORBIDDEN = {"eval", "exec", "open", "getattr", "setattr", "delattr", "hasattr", "compile", "globals", "locals",
              "vars", "type", "object", "breakpoint", "input", "print", "super", "memoryview"}
_BINOPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow)
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
        if type(n.value) not in SCALARS:
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
            allowed = KEYWORDS.get(f.id, set())
            for kw in n.keywords:
                if kw.arg is not None and allowed is not None and f.id in FUNCTIONS and kw.arg not in allowed:
                    self.add(kw, f"不允许的关键字参数: {f.id}({kw.arg}=...)")
            if f.id not in FUNCTIONS and not f.id.startswith("__") and f.id not in _FORBIDDEN:
                self.add(f, f"不允许的函数: {f.id} (function is not allowed)")
        elif isinstance(f, ast.Attribute):
            if f.attr.startswith("_"):
                self.v_Attribute(f, d)
            else:
                self.visit(f.value, d + 1)
                if f.attr not in METHOD_NAMES:
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
def prepare(text: str, script: bool) -> tuple[ast.AST | None, tuple[tuple[str, str, int | None], ...]]:
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


def parse_checked(text: Any, script: bool) -> tuple[ast.AST | None, list[ExpressionError]]:
    """The checked tree of any text, with every problem found; a run refuses on the first."""
    if not isinstance(text, str):
        return None, [ExpressionError("expression.syntax", f"表达式必须是字符串，而不是 {type(text).__name__}")]
    if len(text) > MAX_SOURCE:
        return None, [over_limit(f"表达式过长: 超过 {MAX_SOURCE} 个字符 (source too long)")]
    tree, problems = prepare(text, script)
    # Fresh exception objects: cached ones would pile up tracebacks across raises.
    return tree, [ExpressionError(code, msg, line) for code, msg, line in problems]


def check_expression(text: str) -> list[ExpressionError]:
    """Statically check one expression; returns every problem found (empty list = OK)."""
    return parse_checked(text, False)[1]


def check_script(text: str) -> list[ExpressionError]:
    """Statically check a script (statements); returns every problem found (empty list = OK)."""
    return parse_checked(text, True)[1]
