"""Validation of BPMN files before anything is stored: safe XML, the BPMN XSD, then our rules.

Every problem is reported as `FILE:LINE: ELEMENT_ID: message`, all problems at once.
A hostile or broken file yields problems, never a traceback.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

import SpiffWorkflow
from lxml import etree

from . import expressions
from .forms import schema_problems
from .roles import ROLES, role_for_lane

MAX_BYTES = 10 * 1024 * 1024
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS}
FORM_PROPERTY = "formJsonSchemaFilename"
XSD_PATH = Path(SpiffWorkflow.__file__).parent / "bpmn" / "parser" / "schema" / "BPMN20.xsd"

FLOW_NODES = {
    "task", "userTask", "manualTask", "serviceTask", "scriptTask", "sendTask", "receiveTask",
    "businessRuleTask", "callActivity", "subProcess", "transaction", "adHocSubProcess",
    "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
    "exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway",
}


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    element_id: str
    message: str
    code: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.element_id}: {self.message}"


@dataclass
class CheckedFile:
    """A file that passed the XML stage: its parsed tree, raw bytes and the forms it references."""

    path: Path
    raw: bytes
    tree: Any
    forms: dict[str, Any] = field(default_factory=dict)
    form_texts: dict[str, str] = field(default_factory=dict)  # each form file's text exactly as read


def _local(el) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _owner_id(el) -> str:
    """The id of the element or of its nearest ancestor that has one."""
    while el is not None:
        if isinstance(el.tag, str) and el.get("id"):
            return el.get("id")
        el = el.getparent()
    return "-"


@lru_cache(maxsize=1)
def _bpmn_schema() -> etree.XMLSchema:
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    return etree.XMLSchema(etree.parse(str(XSD_PATH), parser))


def _safe_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
        dtd_validation=False, remove_comments=False,
    )


class _FileCheck:
    """The checks of one file; collects problems instead of stopping at the first."""

    def __init__(self, path: Path, forms_dir: Path | None, display: str) -> None:
        self.path = path
        self.display = display
        self.forms_dir = forms_dir or path.parent / "forms"
        self.problems: list[Problem] = []
        self.forms: dict[str, Any] = {}
        self.form_texts: dict[str, str] = {}

    def add(self, line: int | None, element_id: str | None, message: str, code: str) -> None:
        self.problems.append(Problem(self.display, int(line or 0), element_id or "-", message, code))

    # --- XML stage -------------------------------------------------------------------------
    def load(self) -> CheckedFile | None:
        loaded = self.load_xml()
        if loaded is None:
            return None
        raw, tree = loaded
        root = tree.getroot()
        if root.tag != f"{{{BPMN_NS}}}definitions":
            self.add(root.sourceline, root.get("id"), f"根元素应为 bpmn:definitions, 实为 {root.tag}", "bpmn.root")
            return None
        return CheckedFile(self.path, raw, tree)

    def load_xml(self) -> tuple[bytes, Any] | None:
        """The file's bytes and tree, parsed safely (size cap, no DTD or entities, no network)."""
        try:
            size = self.path.stat().st_size
        except OSError as err:
            self.add(0, "-", f"无法读取文件: {err.strerror}", "file.unreadable")
            return None
        if size > MAX_BYTES:
            self.add(0, "-", f"文件过大: {size // (1024 * 1024)} MB, 上限 {MAX_BYTES // (1024 * 1024)} MB", "file.too_large")
            return None
        raw = self.path.read_bytes()
        if not raw.strip():
            self.add(1, "-", "空文件 (empty file)", "xml.syntax")
            return None
        doctype = re.search(rb"<!DOCTYPE|<!ENTITY", raw)
        if doctype:
            line = raw.count(b"\n", 0, doctype.start()) + 1
            self.add(line, "-", "不允许 DOCTYPE/实体声明 (DTDs and entities are refused)", "xml.entity")
            return None
        try:
            tree = etree.fromstring(raw, _safe_parser()).getroottree()
        except etree.XMLSyntaxError as err:
            self.add(err.lineno or 0, "-", f"XML 语法错误: {err.msg}", "xml.syntax")
            return None
        return raw, tree

    def check_xsd(self, tree) -> None:
        schema = _bpmn_schema()
        if schema.validate(tree):
            return
        by_line: dict[int, Any] = {}
        for el in tree.getroot().iter():
            if isinstance(el.tag, str):
                by_line.setdefault(el.sourceline or 0, el)
        for entry in list(schema.error_log)[:50]:
            el = by_line.get(entry.line)
            message = re.sub(r"\{http://www\.omg\.org/spec/BPMN/20100524/MODEL\}", "bpmn:", entry.message)
            self.add(entry.line, _owner_id(el) if el is not None else "-", f"不符合 BPMN 2.0 XSD: {message}", "xsd")

    # --- our rules -------------------------------------------------------------------------
    def check_rules(self, tree) -> None:
        root = tree.getroot()
        self._unique_ids(root)
        processes = root.findall(f"{{{BPMN_NS}}}process")
        executable = [p for p in processes if p.get("isExecutable", "true").lower() != "false"] or processes
        if not executable:
            self.add(root.sourceline, root.get("id"), "文件中没有流程 (no bpmn:process)", "process.missing")
        for process in executable:
            self._process(process)

    def _unique_ids(self, root) -> None:
        seen: dict[str, int] = {}
        for el in root.iter():
            # IDs are the model's and the diagram's (OMG namespaces); an extension's `id` attribute is not one:
            # spiffworkflow:serviceTaskOperator id= names a handler, which many service tasks may call.
            if not isinstance(el.tag, str) or not el.get("id") or not el.tag.startswith("{http://www.omg.org/spec/"):
                continue
            el_id = el.get("id")
            if el_id in seen:
                self.add(el.sourceline, el_id, f"id 重复 (first used on line {seen[el_id]})", "id.duplicate")
            else:
                seen[el_id] = el.sourceline or 0

    def _process(self, process) -> None:
        nodes = {el.get("id"): el for el in process.iter() if _local(el) in FLOW_NODES and el.get("id")}
        lanes = {}
        for ref in process.iter(f"{{{BPMN_NS}}}flowNodeRef"):
            lanes[(ref.text or "").strip()] = ref.getparent()
        for el in process.iter():
            kind = _local(el)
            if kind == "sequenceFlow":
                self._flow(el, nodes)
            elif kind == "userTask":
                self._user_task(el, lanes)
            elif kind == "serviceTask":
                self._service_task(el)
            elif kind == "scriptTask":
                self._script(el)
            elif kind == "timerEventDefinition":
                self._timer(el)
            elif kind in ("multiInstanceLoopCharacteristics", "standardLoopCharacteristics"):
                self._loop(el)
            elif kind == "startEvent" and el.getparent() is process:
                self._form(el)
        if not any(_local(el) == "startEvent" for el in process):
            self.add(process.sourceline, process.get("id"), "流程没有开始事件 (no start event)", "process.no_start")

    def _flow(self, el, nodes) -> None:
        for attr in ("sourceRef", "targetRef"):
            ref = el.get(attr)
            if not ref or ref not in nodes:
                self.add(el.sourceline, el.get("id"), f"顺序流的 {attr} 指向不存在的节点: {ref!r}", "flow.dangling")
        cond = el.find(f"{{{BPMN_NS}}}conditionExpression")
        if cond is not None and (cond.text or "").strip():
            self._expression(el, cond.text.strip(), "条件")

    def _expression(self, owner, text, what, script=False) -> None:
        """Problems are reported on the element that carries the id, with the line inside the text."""
        found = expressions.check_script(text) if script else expressions.check_expression(text)
        for err in found:
            where = f" (第 {err.line} 行)" if script and err.line else ""
            self.add(owner.sourceline, owner.get("id"), f"{what}表达式被拒绝{where}: {err.message}", "expression.refused")

    def _user_task(self, el, lanes) -> None:
        lane = lanes.get(el.get("id"))
        if lane is None:
            self.add(el.sourceline, el.get("id"), "用户任务不在任何泳道中, 无法确定办理角色 (user task outside any lane)", "lane.missing")
        elif role_for_lane(lane.get("id"), lane.get("name")) is None:
            known = ", ".join(ROLES)
            self.add(el.sourceline, el.get("id"),
                     f"泳道 {lane.get('id')} ({lane.get('name') or ''}) 不是已知角色; 已知角色: {known}", "lane.unknown_role")
        self._form(el)

    def _properties(self, el) -> dict[str, tuple[str, Any]]:
        props = {}
        for prop in el.iterfind("bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", NS):
            props[prop.get("name", "")] = (prop.get("value", ""), prop)
        return props

    def _form(self, el) -> None:
        props = self._properties(el)
        if "dueIn" in props:
            value = props["dueIn"][0].strip()
            spec = _timer_literal(value)
            if spec is None and (_ISO_LOOKING.match(value) or expressions.check_expression(value)):
                self.add(el.sourceline, el.get("id"), f"dueIn 应为 ISO 8601 时长 (如 P5D) 或给出日期的表达式 "
                         f"(如 rectification_deadline), 实为 {value!r}", "timer.invalid")
        if "unitFrom" in props and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,99}", props["unitFrom"][0].strip()):
            self.add(el.sourceline, el.get("id"), f"unitFrom 应为项目数据中给出单位名称的字段名 (如 issuing_office), "
                     f"实为 {props['unitFrom'][0]!r}", "unit_from.invalid")
        if FORM_PROPERTY not in props:
            return
        name, _ = props[FORM_PROPERTY]
        form_path = (self.forms_dir / name).resolve()
        if not name or "/" in name or "\\" in name or name.startswith("."):
            self.add(el.sourceline, el.get("id"), f"表单文件名不合法: {name!r}", "form.invalid")
            return
        if name in self.forms:
            return
        try:
            text = form_path.read_bytes().decode("utf-8")  # not read_text: CRLF must stay CRLF in the download
            schema = json.loads(text)
        except FileNotFoundError:
            self.add(el.sourceline, el.get("id"), f"引用的表单不存在: {name} (looked in {self.forms_dir})", "form.missing")
            return
        except (OSError, UnicodeDecodeError, ValueError) as err:
            self.add(el.sourceline, el.get("id"), f"表单 {name} 不是有效的 JSON: {err}", "form.invalid")
            return
        for message in schema_problems(schema):
            self.add(el.sourceline, el.get("id"), f"表单 {name}: {message}", "form.invalid")
        self.forms[name] = schema
        self.form_texts[name] = text

    def _service_task(self, el) -> None:
        from handlers import registered

        operator = el.find("bpmn:extensionElements/spiffworkflow:serviceTaskOperator", NS)
        if operator is None or not operator.get("id"):
            self.add(el.sourceline, el.get("id"),
                     "服务任务没有指定处理程序 (spiffworkflow:serviceTaskOperator id=...)", "handler.missing")
            return
        name = operator.get("id")
        if name not in registered():
            known = ", ".join(sorted(registered()))
            self.add(el.sourceline, el.get("id"), f"未注册的处理程序: {name}; 已注册: {known}", "handler.unknown")
        for param in operator.iter(f"{{{SPIFF_NS}}}parameter"):
            if param.get("value"):
                self._expression(el, param.get("value"), f"参数 {param.get('id')} 的")

    def _script(self, el) -> None:
        script = el.find(f"{{{BPMN_NS}}}script")
        text = (script.text or "") if script is not None else ""
        if not text.strip():
            self.add(el.sourceline, el.get("id"), "脚本任务没有脚本 (empty script)", "script.empty")
            return
        self._expression(el, text, "脚本", script=True)

    def _loop(self, el) -> None:
        """A count written into the diagram (or a constant expression) above the cap can never run."""
        from .specs import MAX_INSTANCES  # specs imports this module

        activity = el.getparent()
        count_el = el.find(f"{{{BPMN_NS}}}loopCardinality")
        text = (count_el.text or "").strip() if count_el is not None else ""
        if text:
            self._expression(activity, text, "多实例数量")
        count = _constant_count(text) if text else _constant_count(el.get("loopMaximum") or "")
        if count is not None and count > MAX_INSTANCES:
            what = "多实例数量" if text else "循环次数 loopMaximum"
            self.add(activity.sourceline, activity.get("id"), f"{what} {count} 超过上限 {MAX_INSTANCES} "
                     f"(too many instances)", "multi_instance.too_many")

    def _timer(self, el) -> None:
        # Reported on the event: the definition's own id (bpmn.io always writes one) says little.
        event = el.getparent() if el.getparent() is not None and el.getparent().get("id") else el
        parts = [c for c in el if _local(c) in ("timeDuration", "timeDate", "timeCycle")]
        if not parts:
            self.add(event.sourceline, event.get("id"), "定时器没有时间定义 (timeDuration/timeDate/timeCycle)", "timer.invalid")
        # A timer start event opens cases by itself, before any case data exists: only a literal can say when.
        starts_process = _local(event) == "startEvent" and _local(event.getparent()) == "process"
        for part in parts:
            text = (part.text or "").strip()
            problem = timer_problem(text)
            if problem:
                self.add(event.sourceline, event.get("id"), problem, "timer.invalid")
            elif starts_process and _timer_literal(text) is None:
                self.add(event.sourceline, event.get("id"), f"定时启动事件的时间必须是 ISO 8601 时间或周期"
                         f"（如 R/2026-01-01T00:00:00+08:00/P1Y），实为 {text!r}", "timer.invalid")


def _constant_count(text: str) -> int | None:
    """The value of a count that needs no data (100000, 10 ** 5), or None."""
    if not text.strip() or expressions.check_expression(text):
        return None
    try:
        value = expressions.evaluate(text, {})
    except expressions.ExpressionError:  # it reads data: known only at run time
        return None
    return value if type(value) is int else None


def _timer_literal(text: str):
    try:
        return expressions.parse_iso8601_timer(text)
    except expressions.ExpressionError:
        return None


_QUOTED = re.compile(r"""^(['"])(.*)\1$""", re.S)
_ISO_LOOKING = re.compile(r"^(R\d*/|P[\dT]|\d{4}-)")


def timer_problem(text: str) -> str | None:
    """Why a timer text is neither an ISO 8601 literal (bare or quoted) nor a safe expression."""
    if not text:
        return "定时器时间为空"
    quoted = _QUOTED.match(text)
    literal = quoted.group(2) if quoted else text
    if _timer_literal(literal) is not None:
        return None
    if quoted or _ISO_LOOKING.match(text):
        return f"不是有效的 ISO 8601 时间/时长/周期: {literal!r} (e.g. P10D, PT1H, 2026-08-31T00:00:00+08:00, R3/PT1H)"
    errors = expressions.check_expression(text)
    if errors:
        return f"既不是 ISO 8601 时间, 也不是允许的表达式: {text!r}: {errors[0].message}"
    return None


def _expand(paths: Iterable[str]) -> list[tuple[Path, str]]:
    out = []
    for given in paths:
        p = Path(given)
        if p.is_dir():
            out.extend((f, str(f)) for f in sorted([*p.rglob("*.bpmn"), *p.rglob("*.dmn")]))
        else:
            out.append((p, given))
    return out


def check_file(path: Path, forms_dir: Path | None = None, display: str | None = None) -> tuple[list[Problem], CheckedFile | None]:
    """All problems of one file, and the checked file when there are none."""
    check = _FileCheck(path, forms_dir, display or str(path))
    try:
        loaded = check.load()
        if loaded is not None:
            check.check_xsd(loaded.tree)
            check.check_rules(loaded.tree)
            loaded.forms = check.forms
            loaded.form_texts = check.form_texts
    except RecursionError:
        check.add(0, "-", "文件嵌套过深, 无法检查 (nesting too deep)", "xml.depth")
        loaded = None
    except Exception as err:  # a validator bug must still yield a line, not a traceback
        check.add(0, "-", f"检查时出错: {type(err).__name__}: {err}", "internal")
        loaded = None
    return check.problems, (loaded if not check.problems else None)


def check_paths(paths: list[str], forms_dir: str | None = None) -> tuple[list[Problem], list[Any]]:
    """Every problem in every BPMN and DMN file under `paths`, and what to deploy when there are none:
    the parsed processes, then the checked decision tables (`engine.decisions.CheckedDecision`)."""
    from .decisions import check_decision_file, is_decision_file
    from .specs import parse_checked

    problems: list[Problem] = []
    parsed: list[Any] = []
    files = _expand(paths)
    if not files:
        problems.append(Problem(",".join(paths), 0, "-", "没有找到 .bpmn 或 .dmn 文件", "file.none"))
    decisions: dict[str, Any] = {}
    for path, display in files:
        if is_decision_file(path) and path.exists():
            found, decision = check_decision_file(path, display)
            problems.extend(found)
            if decision is not None:
                if decision.decision_id in decisions:
                    problems.append(Problem(display, decision.tree.getroot().sourceline or 0, decision.decision_id,
                                            f"决策表 id 重复：{decisions[decision.decision_id].filename} 中已有",
                                            "dmn.duplicate"))
                decisions[decision.decision_id] = decision
    for path, display in files:
        if is_decision_file(path) and path.exists():
            continue
        if not path.exists():
            problems.append(Problem(display, 0, "-", "文件不存在 (no such file)", "file.unreadable"))
            continue
        found, checked = check_file(path, Path(forms_dir) if forms_dir else None, display)
        problems.extend(found)
        if checked is not None:
            more, processes = parse_checked(checked, display, decisions)
            problems.extend(more)
            parsed.extend(processes)
    return problems, ([] if problems else [*parsed, *decisions.values()])


def validate_paths(paths: list[str], forms_dir: str | None = None) -> list[Problem]:
    """Every problem in every BPMN file under `paths`; empty means all valid and parseable."""
    return check_paths(paths, forms_dir)[0]
