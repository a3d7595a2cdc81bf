"""Run time: a checked tree is walked here node by node, against the task data.

The tree is never compiled to a code object, so task data cannot reach Python internals. Every
operation is priced (``cost``) and charged to the run's ``Budget`` before it happens, and only
ExpressionError leaves a run.
"""
from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

from .budget import Budget
from .check import parse_checked
from .cost import CALL_COSTS, binop, checked_number, compare_cost, measure, method_cost
from .errors import ExpressionError, as_expression_error, over_limit, refused, run_error
from .functions import FUNCTIONS, METHODS
from .limits import MAX_ITEMS, MAX_ITERATION
from .sizes import HEAVY, ITERABLE, check_size

_MISSING = object()


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


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


class Run(Budget):
    """One evaluation or execution: scopes, and the variables a script mutated; its budget is inherited."""

    __slots__ = ("ctx", "ext", "scopes", "touched")

    def __init__(self, ctx: dict, ext: dict | None) -> None:
        super().__init__()
        self.ctx, self.ext, self.scopes, self.touched = ctx, ext or {}, [], set()

    def ev(self, node: ast.AST) -> Any:
        handler = _EVAL.get(type(node))
        if handler is None:  # unreachable after the check; defence in depth
            raise refused(f"不允许的语法: {type(node).__name__}", getattr(node, "lineno", None))
        return handler(self, node)

    def iterate(self, value: Any, node: ast.AST) -> list:
        if not isinstance(value, ITERABLE):
            raise run_error(f"不可迭代的值: {type(value).__name__} (not iterable)", node.lineno)
        if len(value) > MAX_ITERATION:
            raise over_limit(f"迭代集合超过 {MAX_ITERATION} 项 (collection too large)", node.lineno)
        return list(value)  # a snapshot: appending while looping cannot run forever

    def bind(self, target: ast.AST, value: Any, scope: dict) -> None:
        if type(target) is ast.Name:
            scope[target.id] = value
            return
        if not isinstance(value, (list, tuple)) or len(value) != len(target.elts):
            raise run_error(f"无法解包为 {len(target.elts)} 个变量 (cannot unpack)", target.lineno)
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
        raise run_error(f"未定义的变量: {n.id} (name {n.id!r} is not defined)", n.lineno)

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
            if type(left) in HEAVY or type(right) in HEAVY:  # numbers compare in constant time
                self.spend(compare_cost(type(op), left, right))
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True

    def e_subscript(self, n: ast.Subscript) -> Any:
        value, key = self.ev(n.value), self.ev(n.slice)
        if not isinstance(value, (list, tuple, str, dict)):
            raise run_error(f"不能对 {type(value).__name__} 取下标 (not subscriptable)", n.lineno)
        if type(key) is tuple:  # hashed, element by element
            self.spend(measure([key], "下标"))
        return self.charge(value[key]) if type(key) is slice else value[key]

    def e_formatted(self, n: ast.FormattedValue) -> str:
        v = self.ev(n.value)
        self.spend(measure([v], "f-string", text=True))
        return repr(v) if n.conversion == ord("r") else ascii(v) if n.conversion == ord("a") else str(v)

    def e_joined(self, n: ast.JoinedStr) -> str:
        s = "".join(p.value if type(p) is ast.Constant else self.ev(p) for p in n.values)
        if len(s) > MAX_ITEMS:
            raise over_limit(f"字符串超过 {MAX_ITEMS} 个字符 (string too long)", n.lineno)
        return self.charge(s)

    def e_call(self, n: ast.Call) -> Any:
        f = n.func
        if type(f) is ast.Name:  # the checker allowed only names in FUNCTIONS
            args = [self.ev(a) for a in n.args]
            kwargs = {k.arg: self.ev(k.value) for k in n.keywords}
            cost = CALL_COSTS.get(f.id)
            if cost is not None:
                self.spend(cost(*args, **kwargs))
            result = checked_number(FUNCTIONS[f.id](*args, **kwargs))
            return result if f.id in ("min", "max") else self.charge(result)  # those pick, not build
        recv = self.ev(f.value)
        args = [self.ev(a) for a in n.args]
        method = next((table.get(f.attr) for typ, table in METHODS if isinstance(recv, typ)), None)
        if method is None:
            raise refused(f"不允许在 {type(recv).__name__} 上调用 .{f.attr} (method not allowed here)", n.lineno)
        self.spend(method_cost(recv, f.attr, args))
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
            raise run_error(f"只能修改 list 或 dict 的元素，而不是 {type(obj).__name__}", t.lineno)
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
                raise as_expression_error(exc, s.lineno) from None

    def s_augassign(self, s: ast.AugAssign) -> None:
        if type(s.target) is ast.Name:
            self.store(s.target, self.charge(binop(type(s.op), self.e_name(s.target), self.ev(s.value))))
        else:
            obj, key = self.container(s.target)
            obj[key] = self.charge(binop(type(s.op), obj[key], self.ev(s.value)))

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
                raise run_error(f"未定义的变量: {t.id} (name {t.id!r} is not defined)", t.lineno)

    def check_touched(self) -> None:
        if None in self.touched:
            check_size([*self.ctx.values(), *self.ext.values()])
        else:
            check_size([self.ctx[k] if k in self.ctx else self.ext.get(k) for k in self.touched])


def _raise(exc: type[Exception]) -> Callable[[Run, ast.AST], None]:
    def handler(run: Run, s: ast.AST) -> None:
        raise exc()
    return handler


def _unary(r: Run, n: ast.UnaryOp) -> Any:
    v = r.ev(n.operand)
    return (not v) if type(n.op) is ast.Not else -v if type(n.op) is ast.USub else +v


_EVAL: dict[type, Callable[[Run, Any], Any]] = {
    ast.Constant: lambda r, n: n.value, ast.Name: Run.e_name, ast.UnaryOp: _unary,
    ast.List: lambda r, n: [r.ev(e) for e in n.elts], ast.Tuple: lambda r, n: tuple(r.ev(e) for e in n.elts),
    ast.Set: lambda r, n: {r.ev(e) for e in n.elts},
    ast.Dict: lambda r, n: {r.ev(k): r.ev(v) for k, v in zip(n.keys, n.values)},
    ast.BinOp: lambda r, n: r.charge(binop(type(n.op), r.ev(n.left), r.ev(n.right))),
    ast.BoolOp: Run.e_boolop, ast.Compare: Run.e_compare,
    ast.IfExp: lambda r, n: r.ev(n.body) if r.ev(n.test) else r.ev(n.orelse),
    ast.Subscript: Run.e_subscript, ast.Call: Run.e_call, ast.JoinedStr: Run.e_joined,
    ast.Slice: lambda r, n: slice(*(None if p is None else r.ev(p) for p in (n.lower, n.upper, n.step))),
    ast.FormattedValue: Run.e_formatted, ast.ListComp: Run.e_comp, ast.SetComp: Run.e_comp,
    ast.DictComp: Run.e_comp, ast.GeneratorExp: Run.e_comp,  # generators are built eagerly, bounded
}
_STMT: dict[type, Callable[[Run, Any], None]] = {
    ast.Assign: lambda r, s: [r.store(t, v) for v in [r.ev(s.value)] for t in s.targets] and None,
    ast.AugAssign: Run.s_augassign, ast.For: Run.s_for, ast.Delete: Run.s_delete,
    ast.If: lambda r, s: r.block(s.body if r.ev(s.test) else s.orelse),
    ast.Expr: lambda r, s: r.ev(s.value) and None, ast.Pass: lambda r, s: None,
    ast.Break: _raise(_Break), ast.Continue: _raise(_Continue),
}


def interpret(text: str, context: dict, external: dict | None, script: bool) -> Any:
    tree, problems = parse_checked(text, script)
    if problems:
        raise problems[0]
    run = Run(context, external)
    line = None if script else tree.body.lineno
    try:
        run.clock()  # a step whose budget is spent runs nothing more
        if script:
            run.block(tree.body)
            return run.check_touched()
        result = run.ev(tree.body)
        check_size(result)
        return result
    except ExpressionError as exc:
        exc.line = exc.line or line
        raise
    except Exception as exc:  # nothing raw may escape
        raise as_expression_error(exc, line) from None


def evaluate(text: str, context: dict) -> Any:
    """Evaluate a checked expression; names resolve to context keys, calls to allow-listed functions."""
    return interpret(text, context, None, False)


def execute(text: str, context: dict) -> None:
    """Run a checked script; assignments write into ``context`` (the task data dict)."""
    interpret(text, context, None, True)
