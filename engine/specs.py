"""From a checked BPMN file to what a version stores: the SpiffWorkflow spec and the step catalogue."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
import threading
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.spiff.specs import defaults as spiff_specs

from . import expressions
from .models import ProcessVersion
from .roles import role_for_lane
from .validation import BPMN_NS, FORM_PROPERTY, NS, CheckedFile, Problem, _local, _owner_id

MANUAL_KINDS = {"userTask", "manualTask"}
MAX_INSTANCES = 1000  # instances of one multi-instance activity, rounds of one loop activity


class InstanceCap:
    """Fails the step, before any instance exists, when an activity asks for more than MAX_INSTANCES."""

    def refuse(self, my_task, what: str, english: str = "too many instances") -> None:
        raise WorkflowTaskException(f"{self.bpmn_id}: {what}，超过上限 {MAX_INSTANCES} ({english})", task=my_task)

    def check_collection(self, collection, my_task) -> None:
        if hasattr(collection, "__len__") and len(collection) > MAX_INSTANCES:
            self.refuse(my_task, f"多实例集合有 {len(collection)} 项")

    def check_cardinality(self, count, my_task) -> None:
        if isinstance(count, int) and count > MAX_INSTANCES:
            self.refuse(my_task, f"多实例数量为 {count}")


# Named as SpiffWorkflow's own classes: the stored typename is unchanged, so versions stored before the
# cap load capped, and specs stored now load anywhere.
class ParallelMultiInstanceTask(InstanceCap, spiff_specs.ParallelMultiInstanceTask):
    def create_children(self, my_task):
        if self.data_input is not None:
            self.check_collection(self.data_input.get(my_task) if self.data_input.exists(my_task) else (), my_task)
        else:  # SpiffWorkflow evaluates it again to create the children; it is a side-effect-free expression
            self.check_cardinality(my_task.workflow.script_engine.evaluate(my_task, self.cardinality), my_task)
        super().create_children(my_task)


class SequentialMultiInstanceTask(InstanceCap, spiff_specs.SequentialMultiInstanceTask):
    def init_remaining_items(self, my_task):
        remaining = super().init_remaining_items(my_task)
        self.check_collection(remaining, my_task)
        return remaining

    def add_next_child(self, my_task):
        if self.data_input is None:
            self.check_cardinality(my_task.internal_data.get("cardinality"), my_task)
        super().add_next_child(my_task)


class StandardLoopTask(InstanceCap, spiff_specs.StandardLoopTask):
    def create_child(self, my_task):
        if len(self._merged_children(my_task)) >= MAX_INSTANCES:
            self.refuse(my_task, f"循环已执行 {MAX_INSTANCES} 轮", "too many loop rounds")
        super().create_child(my_task)


_CAPPED = {spiff_specs.ParallelMultiInstanceTask: ParallelMultiInstanceTask,
           spiff_specs.SequentialMultiInstanceTask: SequentialMultiInstanceTask,
           spiff_specs.StandardLoopTask: StandardLoopTask}
SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(
    {_CAPPED.get(cls, cls): converter for cls, converter in SPIFF_CONFIG.items()}))


@dataclass
class ParsedProcess:
    """One executable process of a file, ready to be stored as a version."""

    process_key: str
    name: str
    filename: str
    xml: str
    spec: Any
    subprocess_specs: dict[str, Any]
    catalogue: dict[str, Any]
    content_hash: str
    # The other files deployed with it, text as read: {"forms/<name>": ..., "decisions/<file>.dmn": ...}.
    files: dict[str, str] = field(default_factory=dict)

    def spec_json(self) -> str:
        return json.dumps({
            "spec": SERIALIZER.to_dict(self.spec),
            "subprocess_specs": {k: SERIALIZER.to_dict(v) for k, v in self.subprocess_specs.items()},
        })


def _literal_timers(specs: list[Any]) -> None:
    """Camunda Modeler writes timer literals bare (P10D); the engine evaluates expressions, so quote them."""
    for spec in specs:
        for task_spec in spec.task_specs.values():
            definition = getattr(task_spec, "event_definition", None)
            if isinstance(definition, TimerEventDefinition):
                text = (definition.expression or "").strip()
                if expressions.is_iso8601_timer(text):
                    definition.expression = repr(text)


def _cap_instances(specs: list[Any]) -> None:
    for spec in specs:
        for task_spec in spec.task_specs.values():
            capped = _CAPPED.get(type(task_spec))
            if capped is not None:
                task_spec.__class__ = capped


def _properties(el) -> dict[str, str]:
    return {p.get("name"): p.get("value") for p in el.iterfind(
        "bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", NS)}


def _step(el, lanes, forms) -> dict[str, Any]:
    lane = lanes.get(el.get("id"))
    props = _properties(el)
    instructions = el.find("bpmn:extensionElements/spiffworkflow:instructionsForEndUser", NS)
    form_file = props.get(FORM_PROPERTY)
    return {
        "name": el.get("name") or el.get("id"),
        "name_en": props.get("name_en") or "",
        "kind": _local(el),
        "role": role_for_lane(lane.get("id"), lane.get("name")) if lane is not None else None,
        "lane": lane.get("id") if lane is not None else None,
        "form_file": form_file,
        "form": forms.get(form_file) if form_file else None,
        "due_in": props.get("dueIn"),
        # The unit whose clerks do this step, when it is not the case's own: a case-data field naming it (the
        # office above reviewing a unit's deliverable works in the unit's case, on its own unit's scope).
        "unit_from": props.get("unitFrom") or None,
        "instructions": (instructions.text or "").strip() if instructions is not None else "",
        "instructions_en": (props.get("instructions_en") or "").strip(),
    }


def catalogue_for(process, forms: dict[str, Any]) -> dict[str, Any]:
    """What projections need per step, read once at deploy: names, roles, forms, deadlines."""
    lanes = {(ref.text or "").strip(): ref.getparent() for ref in process.iter(f"{{{BPMN_NS}}}flowNodeRef")}
    steps = {}
    start = None
    for el in process.iter():
        kind = _local(el)
        if kind in MANUAL_KINDS and el.get("id"):
            steps[el.get("id")] = _step(el, lanes, forms)
        elif kind == "startEvent" and el.getparent() is process and start is None:
            start = _step(el, lanes, forms)
    names = {el.get("id"): el.get("name") for el in process.iter() if isinstance(el.tag, str) and el.get("id")}
    # Every named element's English name (steps, service tasks, gateways, lanes, flows): the timeline and the
    # English diagram read them; the process's own is a property of bpmn:process (the XSD allows it there).
    names_en = {el.get("id"): _properties(el).get("name_en") for el in process.iter()
                if isinstance(el.tag, str) and el.get("id") and el.get("name")}
    return {
        "name": process.get("name") or process.get("id"),
        "name_en": _properties(process).get("name_en") or "",
        # Where its cases are opened, when not on the generic 立项 page: "other_cases" (a campaign's units, a
        # complaint's assignment, the yearly reports) or the path of its own page (/complaints/new).
        "started_from": (_properties(process).get("startedFrom") or "").strip(),
        # How its cases are titled, from the start data: "信访举报第{complaint_id}号（{complaint_unit}）".
        "case_title": (_properties(process).get("caseTitle") or "").strip(),
        "has_timers": any(_local(el) == "timerEventDefinition" for el in process.iter()),
        "steps": steps,
        "start": start or {"name": "", "role": None, "form": None},
        "names": {k: v for k, v in names.items() if v},
        "names_en": {k: v for k, v in names_en.items() if v},
    }


def in_language(node: Any, key: str, locale: str | None) -> str:
    """A designer's text of a catalogue or form node (`name`, `title`, `description`, `instructions`) in `locale`:
    its `<key>_en` for English where the designer gave one, else the Chinese; "" when the node has neither."""
    if not isinstance(node, dict):
        return ""
    if str(locale or "").startswith("en") and node.get(f"{key}_en"):
        return str(node[f"{key}_en"])
    return str(node.get(key) or "")


def english_diagram(xml: str) -> str:
    """The BPMN XML with each element's name replaced by its `name_en` property where it has one (a pool by its
    process's), so bpmn-js draws the English labels; the stored, validated XML is never changed."""
    from lxml import etree

    from .validation import _safe_parser

    root = etree.fromstring(xml.encode("utf-8"), _safe_parser())
    english = {el.get("id"): _properties(el).get("name_en") for el in root.iter()
               if isinstance(el.tag, str) and el.get("id") and el.get("name")}
    for el in root.iter(f"{{{BPMN_NS}}}participant"):
        if not english.get(el.get("id")):
            english[el.get("id")] = english.get(el.get("processRef"))
    for el in root.iter():
        if isinstance(el.tag, str) and english.get(el.get("id")):
            el.set("name", english[el.get("id")])
    return etree.tostring(root, encoding="unicode")


def _problem_from(err, checked: CheckedFile, display: str) -> Problem:
    element_id = getattr(err, "id", "") or "-"
    line = 0
    if element_id != "-":
        found = checked.tree.getroot().xpath("//*[@id=$i]", i=element_id)
        line = found[0].sourceline if found else 0
    message = str(err).split("\n")[0]
    return Problem(display, line, element_id, f"流程无法解析：{message}", "bpmn.parse")


def _called_decisions(root) -> list[tuple[Any, str]]:
    return [(el, (el.text or "").strip()) for el in root.iter(f"{{{NS['spiffworkflow']}}}calledDecisionId")]


def parse_checked(checked: CheckedFile, display: str,
                  decisions: dict[str, Any] | None = None) -> tuple[list[Problem], list[ParsedProcess]]:
    """Parse a checked file with SpiffWorkflow; its refusals become problems like ours.

    A business-rule task's decision table must be among `decisions` (deployed with the process):
    it is embedded in the version, and its content is part of the version's hash."""
    root = checked.tree.getroot()
    processes = [p for p in root.findall(f"{{{BPMN_NS}}}process") if p.get("isExecutable", "true").lower() != "false"]
    parser = SpiffBpmnParser()
    parsed: list[ParsedProcess] = []
    xml = checked.raw.decode("utf-8", errors="replace")
    decisions = decisions or {}
    used = []
    for el, decision_id in _called_decisions(root):
        if decision_id not in decisions:
            known = "、".join(sorted(decisions)) or "无"
            return [Problem(display, el.sourceline or 0, _owner_id(el),
                            f"业务规则任务引用的决策表 {decision_id!r} 不在本次部署中（请与流程一同部署 decisions/{decision_id}.dmn；"
                            f"本次的决策表：{known}）", "dmn.missing")], []
        used.append(decisions[decision_id])
    forms_blob = json.dumps(checked.forms, sort_keys=True, ensure_ascii=False)
    forms_blob += "".join(sorted("\0" + d.content_hash for d in used))
    try:
        from .decisions import add_to_parser

        add_to_parser(parser, used)
        parser.add_bpmn_xml(checked.tree, filename=str(checked.path.name))
        for process in processes:
            key = process.get("id")
            spec = parser.get_spec(key)
            subprocess_specs = parser.get_subprocess_specs(key)
            _literal_timers([spec, *subprocess_specs.values()])
            _cap_instances([spec, *subprocess_specs.values()])
            digest = hashlib.sha256(key.encode() + b"\0" + checked.raw + b"\0" + forms_blob.encode()).hexdigest()
            parsed.append(ParsedProcess(
                key, process.get("name") or key, checked.path.name, xml, spec, subprocess_specs,
                catalogue_for(process, checked.forms), digest,
                {**{f"forms/{name}": text for name, text in checked.form_texts.items()},
                 **{f"decisions/{d.filename}": d.xml for d in used}},
            ))
    except RecursionError:
        return [Problem(display, 0, "-", "流程嵌套过深，无法解析", "bpmn.parse")], []
    except Exception as err:  # SpiffWorkflow raises many kinds; each is the user's to fix, not a crash
        return [_problem_from(err, checked, display)], []
    return [], parsed


def newest_versions(session: Session) -> dict[str, int]:
    """The id of each deployed process's newest version, by process key."""
    newest = select(ProcessVersion.process_key, func.max(ProcessVersion.version).label("version")) \
        .group_by(ProcessVersion.process_key).subquery()
    is_newest = (ProcessVersion.process_key == newest.c.process_key) & (ProcessVersion.version == newest.c.version)
    return dict(session.execute(select(ProcessVersion.process_key, ProcessVersion.id).join(newest, is_newest)).all())


@dataclass(frozen=True)
class LoadedVersion:
    """A deployed version as steps and views use it: catalogue and deserialized spec."""

    id: int
    process_key: str
    version: int
    name: str
    catalogue: dict[str, Any]
    spec: Any
    subprocess_specs: dict[str, Any]


class VersionCache:
    """Deployed versions read and deserialized once per database: versions are immutable."""

    def __init__(self) -> None:
        self._loaded: dict[int, LoadedVersion] = {}
        self._lock = threading.Lock()

    def get(self, session: Session, version_id: int) -> LoadedVersion:
        hit = self._loaded.get(version_id)
        if hit is not None:
            return hit
        row = session.execute(select(
            ProcessVersion.id, ProcessVersion.process_key, ProcessVersion.version, ProcessVersion.name,
            ProcessVersion.catalogue, ProcessVersion.spec_json).where(ProcessVersion.id == version_id)).one()
        blob = json.loads(row.spec_json)
        loaded = LoadedVersion(
            row.id, row.process_key, row.version, row.name, row.catalogue, SERIALIZER.from_dict(blob["spec"]),
            {k: SERIALIZER.from_dict(v) for k, v in blob["subprocess_specs"].items()},
        )
        with self._lock:
            return self._loaded.setdefault(version_id, loaded)
