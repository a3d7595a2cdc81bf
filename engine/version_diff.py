"""What changed between two versions of a process, element by element, in the words a designer checks before
deploying: names, lanes (roles), forms and their fields, deadlines, conditions, timers, what is called.

Layout (the diagram's coordinates) is not a change of the process; it is counted, not listed.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from lxml import etree

from .roles import ROLES, role_for_lane
from .validation import BPMN_NS, FORM_PROPERTY, NS, _local, _safe_parser

KIND_NAMES = {
    "userTask": "用户任务", "manualTask": "人工任务", "serviceTask": "服务任务", "scriptTask": "脚本任务",
    "businessRuleTask": "业务规则任务", "callActivity": "调用活动", "subProcess": "子流程", "task": "任务",
    "sendTask": "发送任务", "receiveTask": "接收任务", "startEvent": "开始事件", "endEvent": "结束事件",
    "intermediateCatchEvent": "中间捕获事件", "intermediateThrowEvent": "中间抛出事件", "boundaryEvent": "边界事件",
    "exclusiveGateway": "排他网关", "parallelGateway": "并行网关", "inclusiveGateway": "包容网关",
    "eventBasedGateway": "事件网关", "sequenceFlow": "顺序流", "lane": "泳道",
}
_SKIP = {"laneSet", "flowNodeRef", "incoming", "outgoing", "conditionExpression", "extensionElements",
         "documentation", "timeDuration", "timeDate", "timeCycle", "timerEventDefinition", "multiInstanceLoopCharacteristics",
         "standardLoopCharacteristics", "loopCardinality", "completionCondition", "script", "ioSpecification",
         "dataInput", "dataOutput", "inputSet", "outputSet", "dataInputAssociation", "dataOutputAssociation"}


@dataclass
class ElementChange:
    element_id: str
    kind: str  # the element type's Chinese name
    name: str
    change: str  # added / removed / changed
    details: list[str] = field(default_factory=list)


@dataclass
class FileChange:
    path: str
    change: str  # added / removed / changed
    details: list[str] = field(default_factory=list)


@dataclass
class VersionDiff:
    elements: list[ElementChange] = field(default_factory=list)
    files: list[FileChange] = field(default_factory=list)
    moved: int = 0  # elements whose only change is their place on the diagram

    @property
    def empty(self) -> bool:
        return not self.elements and not self.files

    def as_dict(self) -> dict[str, Any]:
        return {"elements": [asdict(e) for e in self.elements], "files": [asdict(f) for f in self.files],
                "moved": self.moved}


def _parse(text: str | None):
    if not text:
        return None
    try:
        return etree.fromstring(text.encode("utf-8"), _safe_parser())
    except (etree.XMLSyntaxError, ValueError):
        return None


def _text(el, path: str) -> str:
    found = el.find(path, NS)
    return (found.text or "").strip() if found is not None else ""


def _properties(el) -> dict[str, str]:
    return {p.get("name"): p.get("value") or "" for p in el.iterfind(
        "bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", NS)}


def _lane_label(lane) -> str:
    role = role_for_lane(lane.get("id"), lane.get("name"))
    return lane.get("name") or ROLES.get(role or "", "") or lane.get("id")


def _loop(el) -> str:
    for tag in ("bpmn:multiInstanceLoopCharacteristics", "bpmn:standardLoopCharacteristics"):
        found = el.find(tag, NS)
        if found is not None:
            return " ".join(etree.tostring(found, encoding="unicode").split())
    return ""


def _elements(root, process_key: str) -> dict[str, dict[str, Any]]:
    """Each BPMN element of the process with the facts a designer changes, by id."""
    if root is None:
        return {}
    process = next((p for p in root.iter(f"{{{BPMN_NS}}}process") if p.get("id") == process_key), None)
    if process is None:
        return {}
    lanes = {(ref.text or "").strip(): ref.getparent() for ref in process.iter(f"{{{BPMN_NS}}}flowNodeRef")}
    out = {}
    for el in process.iter():
        if not isinstance(el.tag, str) or etree.QName(el).namespace != BPMN_NS or not el.get("id"):
            continue
        kind = _local(el)
        if kind in _SKIP:
            continue
        props = _properties(el)
        lane = lanes.get(el.get("id"))
        timer = next((_text(el, f"bpmn:timerEventDefinition/bpmn:{t}") for t in ("timeDuration", "timeDate", "timeCycle")
                      if el.find(f"bpmn:timerEventDefinition/bpmn:{t}", NS) is not None), "")
        operator = el.find("bpmn:extensionElements/spiffworkflow:serviceTaskOperator", NS)
        out[el.get("id")] = {
            "kind": kind, "name": el.get("name") or "", "lane": _lane_label(lane) if lane is not None else "",
            "form": props.get(FORM_PROPERTY, ""), "due_in": props.get("dueIn", ""), "unit_from": props.get("unitFrom", ""),
            "condition": _text(el, "bpmn:conditionExpression"), "timer": timer,
            "called": el.get("calledElement") or _text(el, "bpmn:extensionElements/spiffworkflow:calledDecisionId"),
            "operator": operator.get("id") if operator is not None else "",
            "script": _text(el, "bpmn:script"),
            "instructions": _text(el, "bpmn:extensionElements/spiffworkflow:instructionsForEndUser"),
            "flow": f"{el.get('sourceRef')}→{el.get('targetRef')}" if kind == "sequenceFlow" else "",
            "loop": _loop(el),
        }
    return out


_FACTS = (("name", "名称"), ("kind", "类型"), ("lane", "泳道"), ("form", "表单"), ("due_in", "期限"),
          ("unit_from", "办理单位字段"), ("condition", "条件"), ("timer", "定时"), ("called", "调用"),
          ("operator", "处理程序"), ("script", "脚本"), ("instructions", "办理说明"), ("flow", "连线"),
          ("loop", "循环/多实例设置"))


def _show(key: str, value: str) -> str:
    if key == "kind":
        return KIND_NAMES.get(value, value)
    if key in ("script", "instructions", "loop") and len(value) > 60:
        return value[:57] + "…"
    return value or "（无）"


def _positions(root) -> dict[str, tuple]:
    if root is None:
        return {}
    out = {}
    for shape in root.iter("{http://www.omg.org/spec/BPMN/20100524/DI}BPMNShape"):
        bounds = shape.find("{http://www.omg.org/spec/DD/20100524/DC}Bounds")
        if bounds is not None:
            out[shape.get("bpmnElement")] = tuple(bounds.get(k) for k in ("x", "y", "width", "height"))
    for edge in root.iter("{http://www.omg.org/spec/BPMN/20100524/DI}BPMNEdge"):
        out[edge.get("bpmnElement")] = tuple((w.get("x"), w.get("y")) for w in edge.iter(
            "{http://www.omg.org/spec/DD/20100524/DI}waypoint"))
    return out


def _form_fields(text: str | None) -> tuple[dict[str, Any], set[str]] | None:
    try:
        schema = json.loads(text) if text else None
    except ValueError:
        return None
    if not isinstance(schema, dict):
        return None
    props = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    required = set(schema.get("required") or []) if isinstance(schema.get("required"), list) else set()
    return props, required


def form_changes(old_text: str | None, new_text: str | None) -> list[str]:
    """The fields a form gained, lost or changed, by their titles."""
    old, new = _form_fields(old_text), _form_fields(new_text)
    if old is None or new is None:
        return [] if old_text == new_text else ["内容已修改"]
    (old_props, old_req), (new_props, new_req) = old, new

    def title(props, key):
        node = props.get(key)
        return str(node.get("title") or key) if isinstance(node, dict) else key

    out = [f"新增字段“{title(new_props, k)}”" + ("（必填）" if k in new_req else "") for k in new_props if k not in old_props]
    out += [f"删除字段“{title(old_props, k)}”" for k in old_props if k not in new_props]
    for key in [k for k in old_props if k in new_props]:
        if old_props[key] != new_props[key]:
            before, after = title(old_props, key), title(new_props, key)
            out.append(f"字段“{before}”改为“{after}”" if before != after else f"字段“{after}”的设置已修改")
        if (key in old_req) != (key in new_req):
            out.append(f"字段“{title(new_props, key)}”" + ("改为必填" if key in new_req else "改为选填"))
    if not out and old_text != new_text:
        out.append("仅格式或说明文字修改")
    return out


def diff_files(old_files: dict[str, str], new_files: dict[str, str], process_key: str) -> VersionDiff:
    """The differences from the version in `old_files` to `new_files` ({path: text}, the BPMN under its file name)."""
    diff = VersionDiff()
    old_bpmn = next((v for k, v in old_files.items() if k.endswith(".bpmn")), None)
    new_bpmn = next((v for k, v in new_files.items() if k.endswith(".bpmn")), None)
    old_root, new_root = _parse(old_bpmn), _parse(new_bpmn)
    old_els, new_els = _elements(old_root, process_key), _elements(new_root, process_key)
    form_diffs = {path[len("forms/"):]: form_changes(old_files.get(path), new_files.get(path))
                  for path in sorted(set(old_files) | set(new_files))
                  if path.startswith("forms/") and old_files.get(path) != new_files.get(path)}
    for element_id, facts in new_els.items():
        before = old_els.get(element_id)
        if before is None:
            diff.elements.append(ElementChange(element_id, KIND_NAMES.get(facts["kind"], facts["kind"]), facts["name"],
                                               "added", [f"{label}：{_show(key, facts[key])}" for key, label in _FACTS
                                                         if facts[key] and key not in ("kind", "flow", "loop", "script")]))
            continue
        details = [f"{label}：{_show(key, before[key])} → {_show(key, facts[key])}"
                   for key, label in _FACTS if before[key] != facts[key]]
        if facts["form"] and facts["form"] == before["form"] and form_diffs.get(facts["form"]):
            details += [f"表单 {facts['form']}：{d}" for d in form_diffs[facts["form"]]]
        if details:
            diff.elements.append(ElementChange(element_id, KIND_NAMES.get(facts["kind"], facts["kind"]),
                                               facts["name"] or before["name"], "changed", details))
    for element_id, facts in old_els.items():
        if element_id not in new_els:
            diff.elements.append(ElementChange(element_id, KIND_NAMES.get(facts["kind"], facts["kind"]), facts["name"],
                                               "removed", []))
    listed = {e.element_id for e in diff.elements}
    old_pos, new_pos = _positions(old_root), _positions(new_root)
    diff.moved = sum(1 for k in new_pos if k in old_pos and old_pos[k] != new_pos[k] and k not in listed)
    for path in sorted(set(old_files) | set(new_files)):
        if path.endswith(".bpmn") or old_files.get(path) == new_files.get(path):
            continue
        change = "added" if path not in old_files else "removed" if path not in new_files else "changed"
        details = form_diffs.get(path[len("forms/"):], []) if path.startswith("forms/") and change == "changed" else []
        diff.files.append(FileChange(path, change, details))
    return diff
