"""DMN decision tables: validated like BPMN, deployed and versioned, run by the safe evaluator.

A table lives in `processes/decisions/<id>.dmn` (one decision per file, as SpiffWorkflow reads
them). Every cell — input expressions, input entries, output entries — is checked by the same
restricted interpreter as BPMN conditions and never reaches Python's eval. Two ways to run one:

- a BPMN business-rule task (`spiffworkflow:calledDecisionId`): the table is embedded in the
  process version deployed with it, so a running case keeps the rules it started with;
- `decide(session, decision_id, data)` from a handler or `duban decide`: the newest deployed version.

Hit policies: FIRST (the first rule that fires, in table order — how the seeds state their rules),
UNIQUE (SpiffWorkflow also stops at the first match) and COLLECT (every matching rule, as lists).
"""
from __future__ import annotations

import ast
import hashlib
import re
import threading
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine
from SpiffWorkflow.dmn.parser.BpmnDmnParser import SCHEMAS
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from . import expressions
from .errors import InvalidData, NotFound
from .models import DecisionVersion
from .validation import Problem, _FileCheck, _owner_id, _safe_parser

HIT_POLICIES = ("FIRST", "UNIQUE", "COLLECT")
TYPES = {"string": (str,), "number": (int, float), "integer": (int,), "long": (int,), "double": (int, float),
         "boolean": (bool,)}
_QUESTION = re.compile(r"(\?)(?=(?:[^'\"]|['\"][^'\"]*['\"])*$)")  # SpiffWorkflow's '?' outside quotes


@dataclass
class CheckedDecision:
    """A DMN file that passed every check: what a decision version stores."""

    path: Path
    xml: str
    tree: Any
    decision_id: str
    name: str
    content_hash: str

    @property
    def filename(self) -> str:
        return self.path.name


def is_decision_file(path: Path) -> bool:
    return path.suffix.lower() == ".dmn"


@lru_cache(maxsize=None)
def _schema(namespace: str) -> etree.XMLSchema:
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    return etree.XMLSchema(etree.parse(SCHEMAS[namespace], parser))


def _text(el, ns: str) -> tuple[str | None, Any]:
    node = el.find(f"{{{ns}}}text")
    return (node.text if node is not None else None), (node if node is not None else el)


def entry_expression(input_expression: str, entry: str) -> str:
    """The expression SpiffWorkflow's DMN engine builds from an input entry (DMNEngine.evaluate)."""
    if _QUESTION.search(entry):
        return _QUESTION.sub("(" + input_expression + ")", entry)
    try:
        ast.parse(entry)
        return f"({input_expression}) == ({entry})"
    except SyntaxError:
        return f"{input_expression} {entry}"


class _DecisionCheck(_FileCheck):
    def check(self) -> CheckedDecision | None:
        loaded = self.load_xml()
        if loaded is None:
            return None
        raw, tree = loaded
        root = tree.getroot()
        ns = etree.QName(root).namespace or ""
        if etree.QName(root).localname != "definitions" or ns not in SCHEMAS:
            self.add(root.sourceline, root.get("id"),
                     f"根元素应为 DMN 1.1–1.3 的 definitions, 实为 {root.tag}", "dmn.root")
            return None
        schema = _schema(ns)
        if not schema.validate(tree):
            for entry in list(schema.error_log)[:50]:
                self.add(entry.line, "-", f"不符合 DMN XSD: {re.sub(r'{[^}]*}', 'dmn:', entry.message)}", "xsd")
            return None
        decisions = root.findall(f"{{{ns}}}decision")
        if len(decisions) != 1:
            self.add(root.sourceline, root.get("id"), f"每个 .dmn 文件只能有一个决策 (decision)，实有 {len(decisions)} 个",
                     "dmn.decisions")
            return None
        decision = decisions[0]
        tables = decision.findall(f"{{{ns}}}decisionTable")
        if len(tables) != 1:
            self.add(decision.sourceline, decision.get("id"), "决策须有且只有一张决策表 (decisionTable)", "dmn.table")
            return None
        self._table(tables[0], ns)
        if self.problems:
            return None
        digest = hashlib.sha256(b"dmn\0" + raw).hexdigest()
        return CheckedDecision(self.path, raw.decode("utf-8", errors="replace"), tree, decision.get("id"),
                               decision.get("name") or decision.get("id"), digest)

    def _table(self, table, ns: str) -> None:
        policy = (table.get("hitPolicy") or "UNIQUE").upper()
        if policy not in HIT_POLICIES:
            self.add(table.sourceline, table.get("id"), f"不支持的命中策略 {policy}（可用：{'、'.join(HIT_POLICIES)}）",
                     "dmn.hit_policy")
        inputs, outputs = table.findall(f"{{{ns}}}input"), table.findall(f"{{{ns}}}output")
        input_texts = []
        for el in inputs:
            expression = el.find(f"{{{ns}}}inputExpression")
            text, node = _text(expression, ns) if expression is not None else (None, el)
            if not (text or "").strip():
                self.add(node.sourceline, el.get("id"), "输入列缺少表达式 (inputExpression)", "dmn.input")
                input_texts.append(None)
                continue
            self._cell(node, el.get("id"), text, "输入列")
            type_ref = expression.get("typeRef") if expression is not None else None
            if type_ref and type_ref not in TYPES:
                self.add(node.sourceline, el.get("id"), f"未知的输入类型 typeRef={type_ref}（可用：{'、'.join(TYPES)}）",
                         "dmn.type")
            input_texts.append(text.strip())
        for el in outputs:
            if not (el.get("name") or el.get("label")):
                self.add(el.sourceline, el.get("id"), "输出列须有 name（结果写入的字段名）", "dmn.output")
        for row, rule in enumerate(table.findall(f"{{{ns}}}rule"), start=1):
            entries = rule.findall(f"{{{ns}}}inputEntry")
            results = rule.findall(f"{{{ns}}}outputEntry")
            if len(entries) != len(inputs) or len(results) != len(outputs):
                self.add(rule.sourceline, rule.get("id"), f"第 {row} 条规则的单元格数与列数不符", "dmn.rule")
                continue
            for entry, input_text in zip(entries, input_texts):
                text, node = _text(entry, ns)
                if input_text is None or text is None or text.strip() in ("", "-"):
                    continue
                self._cell(node, rule.get("id"), entry_expression(input_text, text.strip()), f"第 {row} 条规则的条件")
            for result in results:
                text, node = _text(result, ns)
                if text is not None and text.strip():
                    self._cell(node, rule.get("id"), text, f"第 {row} 条规则的结果")

    def _cell(self, node, element_id: str | None, text: str, what: str) -> None:
        for err in expressions.check_expression(text):
            self.add(node.sourceline, element_id or _owner_id(node), f"{what}表达式被拒绝: {err.message}",
                     "expression.refused")


def check_decision_file(path: Path, display: str | None = None) -> tuple[list[Problem], CheckedDecision | None]:
    """All problems of one .dmn file, and the checked decision when there are none."""
    check = _DecisionCheck(path, None, display or str(path))
    try:
        checked = check.check()
    except RecursionError:
        check.add(0, "-", "文件嵌套过深, 无法检查 (nesting too deep)", "xml.depth")
        checked = None
    except Exception as err:  # a validator bug must still yield a line, not a traceback
        check.add(0, "-", f"检查时出错: {type(err).__name__}: {err}", "internal")
        checked = None
    if checked is not None and not check.problems:
        problem = _parse_problem(checked, display or str(path))
        if problem is not None:
            return [problem], None
    return check.problems, (checked if not check.problems else None)


def _parse_problem(checked: CheckedDecision, display: str) -> Problem | None:
    try:
        _engine_for(checked.xml, checked.filename)
    except Exception as err:  # SpiffWorkflow's refusal, as a line like ours
        line = getattr(err, "line_number", 0) or 0
        return Problem(display, int(line), getattr(err, "id", None) or checked.decision_id,
                       f"SpiffWorkflow 无法读取决策表: {err}", "dmn.parse")
    return None


def _spiff_tree(xml: str):
    """The table as SpiffWorkflow should read it. Its engine glues an operator entry to the input
    expression without a space (`unit_level` + `in (...)` = `unit_levelin (...)`), so such entries
    get their leading space here; the stored file stays exactly as the designer wrote it."""
    root = etree.fromstring(xml.encode(), _safe_parser())
    ns = etree.QName(root).namespace or ""
    for node in root.iter(f"{{{ns}}}inputEntry"):
        text = node.find(f"{{{ns}}}text")
        if text is None or not (text.text or "").strip() or text.text.strip() == "-" or _QUESTION.search(text.text):
            continue
        entry = text.text.strip()
        try:
            ast.parse(entry)
            text.text = entry
        except SyntaxError:
            text.text = " " + entry
    return root


def add_to_parser(parser: SpiffBpmnParser, decisions: list[CheckedDecision]) -> None:
    """Let a BPMN parser resolve business-rule tasks against these tables (embedded in the process)."""
    for decision in decisions:
        parser.add_dmn_xml(_spiff_tree(decision.xml), filename=decision.filename)


# --- deploy ---------------------------------------------------------------------------------
def store(session: Session, checked: CheckedDecision, actor: str, now: datetime) -> tuple[int, bool]:
    """Store a decision version (unchanged content keeps its version); returns (version, new)."""
    existing = session.scalar(select(DecisionVersion).where(DecisionVersion.content_hash == checked.content_hash))
    if existing is not None:
        return existing.version, False
    latest = session.scalar(select(func.max(DecisionVersion.version))
                            .where(DecisionVersion.decision_id == checked.decision_id)) or 0
    session.add(DecisionVersion(decision_id=checked.decision_id, version=latest + 1, content_hash=checked.content_hash,
                                name=checked.name, filename=checked.filename, dmn_xml=checked.xml,
                                deployed_at=now, deployed_by=actor))
    return latest + 1, True


# --- run ------------------------------------------------------------------------------------
class _Spec:
    def __init__(self, decision_id: str) -> None:
        self.bpmn_id = self.bpmn_name = self.name = decision_id
        self.file = f"{decision_id}.dmn"


class _Workflow:
    def __init__(self, decision_id: str) -> None:
        self.script_engine = expressions.make_script_engine()
        self.spec = _Spec(decision_id)
        self.top_workflow = self


class _Task:
    """What SpiffWorkflow's DMN engine asks of a task when no workflow is running (handlers, the shell)."""

    def __init__(self, decision_id: str, data: dict[str, Any]) -> None:
        self.data = data
        self.workflow = _Workflow(decision_id)
        self.task_spec = self.workflow.spec


_ENGINES: dict[str, DMNEngine] = {}
_LOCK = threading.Lock()


def _engine_for(xml: str, filename: str) -> DMNEngine:
    key = hashlib.sha256(xml.encode()).hexdigest()
    with _LOCK:
        found = _ENGINES.get(key)
    if found is not None:
        return found
    parser = SpiffBpmnParser()
    root = _spiff_tree(xml)
    parser.add_dmn_xml(root, filename=filename)
    (decision_id,) = parser.dmn_parsers.keys()
    engine = parser.get_engine(decision_id, root)
    with _LOCK:
        _ENGINES[key] = engine
    return engine


def _names(expression: str) -> list[str]:
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError:
        return []
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    return list(dict.fromkeys(node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and id(node) not in called))


def _check_inputs(table, data: dict[str, Any]) -> None:
    problems: dict[str, list[str]] = {}
    for column in table.inputs:
        expression = (column.expression or "").strip()
        for name in _names(expression):
            if name not in data and name not in problems:
                problems[name] = [f"缺少输入 {name}（{column.label or name}）"]
        name = expression
        if not name.isidentifier() or name not in data:
            continue  # a computed column: its names were checked above
        allowed = TYPES.get(column.typeRef or "")
        value = data[name]
        if allowed and (not isinstance(value, allowed) or (bool not in allowed and isinstance(value, bool))):
            problems.setdefault(name, []).append(
                f"输入 {name}（{column.label or name}）应为 {column.typeRef}，实为 {type(value).__name__}: {value!r}")
    if problems:
        first = next(iter(problems.values()))[0]
        raise InvalidData(f"决策表输入有误：{first}", details=problems)


def run(xml: str, filename: str, decision_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """The outputs of a decision table for these inputs; InvalidData names the input or cell that failed."""
    if not isinstance(data, dict):
        raise InvalidData("决策表的输入必须是对象 (JSON object)")
    engine = _engine_for(xml, filename)
    _check_inputs(engine.decision_table, data)
    task = _Task(decision_id, dict(data))
    try:
        result = engine.result(task)
    except Exception as err:  # a cell that cannot be evaluated on these inputs
        notes = "；".join(getattr(err, "notes", []) or [])
        raise InvalidData(f"决策表 {decision_id} 无法计算：{err}" + (f"（{notes}）" if notes else ""))
    return dict(result)


def newest(session: Session, decision_id: str) -> DecisionVersion:
    found = session.scalar(select(DecisionVersion).where(DecisionVersion.decision_id == decision_id)
                           .order_by(DecisionVersion.version.desc()).limit(1))
    if found is None:
        known = session.scalars(select(DecisionVersion.decision_id).distinct()).all()
        raise NotFound(f"决策表未部署：{decision_id}" + (f"（已部署：{'、'.join(sorted(known))}）" if known else ""))
    return found


def decide(session: Session, decision_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """Run the newest deployed version of a decision table (from a handler, a page or the shell)."""
    version = newest(session, decision_id)
    return run(version.dmn_xml, version.filename, decision_id, data)


# --- read side: the tables as people read them -----------------------------------------------
@dataclass
class TableView:
    decision_id: str
    name: str
    description: str
    hit_policy: str
    inputs: list[str]
    outputs: list[str]
    rules: list[dict[str, Any]]  # {"description", "when": [cell...], "then": [cell...]}


def table_view(xml: str) -> TableView:
    """A deployed table as rows and columns (labels, not expressions, where the designer gave them)."""
    root = etree.fromstring(xml.encode(), _safe_parser())
    ns = etree.QName(root).namespace or ""
    q = lambda tag: f"{{{ns}}}{tag}"  # noqa: E731
    decision = root.find(q("decision"))
    table = decision.find(q("decisionTable"))
    description = decision.find(q("description"))

    def cell(el) -> str:
        text = el.find(q("text"))
        value = (text.text or "").strip() if text is not None else ""
        return "" if value == "-" else value.strip('"') if value.count('"') == 2 and value.startswith('"') else value

    rules = []
    for rule in table.findall(q("rule")):
        note = rule.find(q("description"))
        rules.append({"description": (note.text or "").strip() if note is not None else "",
                      "when": [cell(e) for e in rule.findall(q("inputEntry"))],
                      "then": [cell(e) for e in rule.findall(q("outputEntry"))]})
    return TableView(
        decision.get("id"), decision.get("name") or decision.get("id"),
        (description.text or "").strip() if description is not None else "",
        (table.get("hitPolicy") or "UNIQUE").upper(),
        [i.get("label") or cell(i.find(q("inputExpression"))) for i in table.findall(q("input"))],
        [o.get("label") or o.get("name") for o in table.findall(q("output"))], rules)


def deployed(session: Session) -> list[DecisionVersion]:
    """The newest version of every deployed table, by id."""
    newest_ids = select(func.max(DecisionVersion.id)).group_by(DecisionVersion.decision_id)
    return list(session.scalars(select(DecisionVersion).where(DecisionVersion.id.in_(newest_ids))
                                .order_by(DecisionVersion.decision_id)).all())
