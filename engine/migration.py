"""Moving running cases to another version of their process.

SpiffWorkflow's `bpmn.util.diff` aligns the old version's task specs with the new one's (by id, then by
structure). `migrate_workflow` would then reset every ready and waiting task, and a reset clears a task's
internal data: a waiting timer would forget when it fires and start its deadline again from the moment of the
migration. So the realignment is done here: every task keeps its id, data and internal data and is pointed at
its aligned spec; only the predicted future of the ready and waiting tasks is predicted again on the new
diagram. Loops (standard, multi-instance, a gateway back to an earlier step) and call activities are fine
as long as what the case waits on still exists with the same kind (SpiffArena refuses all of them).

A case that cannot move says why, in Chinese, naming its steps; nothing about it changes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.bpmn.util.diff import SpecDiff, WorkflowDiff
from SpiffWorkflow.util.task import TaskState

from . import audit
from .access import Actor
from .errors import Conflict, DubanError, NotFound
from .models import Case, ProcessVersion, WorkItem
from .projection import CASE_BY_ID, CASE_STATE_JSON, CASES, LOCK_CASE, CaseState, EventLog, _unit_of, step_id
from .specs import SERIALIZER, LoadedVersion
from .state import _counted_by_join, _drop, _removable, dump_state, load_state
from .steps import retrying
from .timers import cancel_deadlines, due_at, schedule_deadlines

_CASE_STATES = {"completed": "已办结", "terminated": "已终止", "suspended": "已暂停", "error": "系统异常待处理"}
_LIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED
# What makes a started multi-instance or loop another activity: its instances were made from these.
_INSTANCE_KEYS = {"task_spec", "cardinality", "data_input", "data_output", "input_item", "output_item",
                  "condition", "maximum", "test_before"}


@dataclass
class CaseMove:
    """One case of a migration plan or run: whether it can move (or, after a run, moved) and why not."""

    case_id: int
    title: str
    unit: str
    from_version: int
    to_version: int
    movable: bool
    reasons: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)
    moved: bool = False


# --- the realignment ---------------------------------------------------------------------------------------
def _label(task, catalogue: dict[str, Any]) -> str:
    """A step as users know it: its name in the catalogue, else its BPMN name, else its id."""
    sid = step_id(task)
    names = catalogue.get("names") or {}
    base = sid.split(".")[0]  # SpiffWorkflow's own specs around an activity: "review.BoundaryEventSplit"
    return names.get(sid) or getattr(task.task_spec, "bpmn_name", None) or names.get(base) or sid


def _waiting(workflow: BpmnWorkflow, catalogue: dict[str, Any]) -> list[str]:
    """Names of the steps a case waits on: ready work, waiting events, started activities (a call activity,
    a multi-instance), each named once."""
    names = []
    for wf in [workflow, *workflow.subprocesses.values()]:
        for task in wf.tasks.values():
            if task.state & _LIVE and getattr(task.task_spec, "bpmn_id", None) \
                    and (task.state != TaskState.STARTED or isinstance(task.task_spec, (LoopTask, SubWorkflowTask))):
                names.append(_label(task, catalogue))
    return list(dict.fromkeys(names))


def _host(workflow: BpmnWorkflow, sp_id) -> Any:
    for wf in [workflow, *workflow.subprocesses.values()]:
        if sp_id in wf.tasks:
            return wf.tasks[sp_id]
    return None


def _predict_again(task) -> None:
    """Drop a ready or waiting task's predicted children and predict them on its (new) spec, as SpiffWorkflow
    predicted them: an event attached to an activity was predicted while it was only possible (MAYBE), so what
    follows it stays possible, not definite (a join must not wait for an escalation path that may never run)."""
    task._drop_children()
    parent = task.parent
    attached = parent is not None and isinstance(parent.task_spec, BoundaryEventSplit) \
        and isinstance(task.task_spec, parent.task_spec.event_type)
    if not attached:
        task.task_spec._predict(task, mask=TaskState.NOT_FINISHED_MASK)
        return
    state, task._state = task._state, TaskState.MAYBE  # as predicted, without touching its state-change time
    try:
        task.task_spec._predict(task, mask=TaskState.NOT_FINISHED_MASK)
    finally:
        task._state = state


def realign(workflow: BpmnWorkflow, old: LoadedVersion, new: LoadedVersion) -> tuple[BpmnWorkflow | None, list[str]]:
    """The case's workflow on `new`, every task keeping its id, data and internal data, or why it cannot move.

    `workflow` is changed in place and must be thrown away afterwards (it may be half-moved); the workflow
    returned is the moved one saved and loaded again on the new version, wired as any loaded case is (loop
    instances to their loop, a call activity's subprocess to its host)."""
    registry = SERIALIZER.registry
    reasons: list[str] = []
    old_names, new_names = old.catalogue, new.catalogue
    top = SpecDiff(registry, workflow.spec, new.spec)
    parts = [(workflow, top, WorkflowDiff(workflow, top), new.spec)]
    for sp_id, sp in list(workflow.subprocesses.items()):
        host = _host(workflow, sp_id)
        finished = host is None or host.has_state(TaskState.FINISHED_MASK)
        target = new.subprocess_specs.get(sp.spec.name)
        if target is None:
            if finished:  # a call activity done with: its history is in the events
                del workflow.subprocesses[sp_id]
                continue
            reasons.append(f"正在执行的子流程“{_label(host, old_names) if host else sp.spec.name}”"
                           f"（{sp.spec.name}）在新版本中已删除")
            continue
        spec_diff = SpecDiff(registry, sp.spec, target)
        parts.append((sp, spec_diff, WorkflowDiff(sp, spec_diff), target))
    if reasons:
        return None, reasons

    # What the case waits on must still be there, as the same kind of activity.
    for wf, spec_diff, diff, _ in parts:
        for task in wf.tasks.values():
            if not task.state & _LIVE:
                continue
            aligned = diff.alignment.get(task)
            name = _label(task, old_names)
            if aligned is None:
                reasons.append(f"当前步骤“{name}”在新版本中已删除")
                continue
            changes = spec_diff.comparisons.get(task.task_spec) or []
            if "typename" in changes:
                reasons.append(f"当前步骤“{name}”在新版本中类型已更改"
                               f"（{type(task.task_spec).__name__} → {type(aligned).__name__}）")
            elif task.state == TaskState.STARTED and isinstance(task.task_spec, LoopTask) and _INSTANCE_KEYS & set(changes):
                reasons.append(f"正在进行的多实例/循环步骤“{name}”在新版本中的实例定义已更改")
            elif task.state == TaskState.STARTED and isinstance(task.task_spec, SubWorkflowTask) and "spec" in changes:
                reasons.append(f"正在执行的调用活动“{name}”在新版本中调用的流程已更改")
    if reasons:
        return None, list(dict.fromkeys(reasons))

    # Move: each task to its aligned spec; finished tasks of removed steps spliced out where nothing depends on them.
    workflow.subprocess_specs = new.subprocess_specs
    for wf, spec_diff, diff, spec in parts:
        wf.spec = spec
        for task in list(wf.tasks.values()):
            aligned = diff.alignment.get(task)
            if aligned is not None:
                task.task_spec = aligned
        for task in diff.removed:
            if task.id not in wf.tasks or not task.has_state(TaskState.FINISHED_MASK):
                continue  # predicted tasks are predicted again below
            parent = task.parent
            child = task.children[0] if len(task._children) == 1 else None
            if parent is None or child is None or not _removable(wf, task) or _counted_by_join(child):
                reasons.append(f"已完成的步骤“{_label(task, old_names)}”在新版本中已删除，"
                               f"而进行中的环节仍依赖它（分支或汇合）")
                continue
            parent._children = [child.id if c == task.id else c for c in parent._children]
            child._parent = parent.id
            _drop(wf, task)
        # The predicted future, on the new diagram: below what is ready or waiting, and after what has started
        # (a call activity, a loop: their own instances are kept, only what comes after them is predicted again).
        for task in [t for t in wf.tasks.values() if t.state in (TaskState.READY, TaskState.WAITING)]:
            if task.id in wf.tasks:
                _predict_again(task)
        for task in [t for t in wf.tasks.values() if t.state == TaskState.STARTED
                     and not isinstance(t.task_spec, BoundaryEventSplit)]:
            if task.id not in wf.tasks:
                continue
            for child in list(task.children):
                if not child.triggered and child.has_state(TaskState.PREDICTED_MASK | TaskState.FUTURE):
                    wf._remove_task(child.id)
            task.task_spec._predict(task, mask=TaskState.NOT_FINISHED_MASK)
        if wf.last_task is not None and wf.last_task.id not in wf.tasks:
            wf.last_task = None
    if reasons:
        return None, list(dict.fromkeys(reasons))
    for wf, _, _, spec in parts:
        for task in wf.tasks.values():
            if spec.task_specs.get(task.task_spec.name) is not task.task_spec:
                reasons.append(f"步骤“{_label(task, old_names)}”在新版本中已删除，项目中仍有依赖它的环节")
    if reasons:
        return None, list(dict.fromkeys(reasons))
    try:  # what is saved must load on the new version, or the case is lost at its next step
        moved = load_state(dump_state(workflow), new.spec, new.subprocess_specs, None)
    except Exception as err:  # noqa: BLE001 - any failure to reload means: do not move it
        return None, [f"迁移后的状态无法在新版本上恢复：{str(err).splitlines()[0] if str(err) else type(err).__name__}"]
    return moved, []


# --- reading a case ------------------------------------------------------------------------------------------
def _version(session: Session, process_key: str, version: int) -> ProcessVersion:
    row = session.scalar(select(ProcessVersion).where(ProcessVersion.process_key == process_key,
                                                      ProcessVersion.version == version))
    if row is None:
        known = session.scalars(select(ProcessVersion.version).where(ProcessVersion.process_key == process_key)
                                .order_by(ProcessVersion.version)).all()
        if not known:
            raise NotFound(f"流程未部署：{process_key}")
        raise NotFound(f"流程 {process_key} 没有第 {version} 版（已部署：" + "、".join(f"第 {v} 版" for v in known) + "）")
    return row


def _assess(engine, session: Session, case: CaseState, new: LoadedVersion, process_key: str
            ) -> tuple[CaseMove, BpmnWorkflow | None, LoadedVersion]:
    """The case's move, and its workflow already moved in memory when it can move."""
    old = engine.versions.get(session, case.process_version_id)
    move = CaseMove(case.id, case.title, case.unit, old.version, new.version, False)
    if case.process_key != process_key:
        move.reasons.append(f"不属于流程 {process_key}（属于 {old.name}）")
        return move, None, old
    if case.status != "running":
        move.reasons.append(f"项目{_CASE_STATES.get(case.status, case.status)}，不能迁移")
        return move, None, old
    if case.process_version_id == new.id:
        move.reasons.append(f"已在第 {new.version} 版")
        return move, None, old
    state = session.connection().execute(CASE_STATE_JSON, {"case_id": case.id}).scalar_one()
    workflow = load_state(state, old.spec, old.subprocess_specs, None)  # never the live cache: it may be refused
    move.waiting = _waiting(workflow, old.catalogue)
    try:
        moved, move.reasons = realign(workflow, old, new)
    except Exception as err:  # noqa: BLE001 - a tree the diff cannot walk is a refusal, not a crash
        moved, move.reasons = None, [f"无法比对新旧版本：{str(err).splitlines()[0] if str(err) else type(err).__name__}"]
    move.movable = moved is not None
    if moved is not None:
        move.waiting = _waiting(moved, new.catalogue)
    return move, moved, old


def _case(session: Session, case_id: int) -> CaseState:
    row = session.connection().execute(CASE_BY_ID, {"case_id": case_id}).one_or_none()
    if row is None:
        raise NotFound(f"项目不存在：{case_id}")
    return CaseState(*row)


# --- the verbs -------------------------------------------------------------------------------------------------
def migration_plan(engine, process_key: str, to_version: int, actor: Actor,
                   case_ids: list[int] | None = None) -> list[CaseMove]:
    """Every running case of the process on another version than `to_version` (or the given cases, whatever
    their state), each with whether it can move and why not; changes nothing."""
    actor.require_design()
    with engine.db.reading() as session:
        target = _version(session, process_key, to_version)
        new = engine.versions.get(session, target.id)
        if case_ids is None:
            case_ids = list(session.scalars(select(Case.id).where(
                Case.process_key == process_key, Case.status == "running",
                Case.process_version_id != target.id).order_by(Case.id)))
        return [_assess(engine, session, _case(session, cid), new, process_key)[0] for cid in case_ids]


def migrate_case(engine, case_id: int, to_version: int, actor: Actor) -> CaseMove:
    """Move one case to version `to_version` of its process in one transaction, or refuse (Conflict, with the
    reasons) and change nothing. Its work items, timers and summary follow the new version."""
    actor.require_design()
    return retrying(lambda: _migrate_case(engine, case_id, to_version, actor))


def _migrate_case(engine, case_id: int, to_version: int, actor: Actor) -> CaseMove:
    now = engine.clock()
    with engine.db.transaction() as session:
        if not engine.db.is_sqlite:
            session.execute(LOCK_CASE, {"case_id": case_id})
        case = _case(session, case_id)
        target = _version(session, case.process_key, to_version)
        new = engine.versions.get(session, target.id)
        move, workflow, old = _assess(engine, session, case, new, case.process_key)
        if workflow is None:
            raise Conflict(f"项目 {case.id} 不能迁移：" + "；".join(move.reasons), details={"reasons": move.reasons})
        session.execute(update(CASES).where(CASES.c.id == case.id).values(process_version_id=new.id))
        case.process_version_id = new.id
        _follow_work_items(session, case, workflow, old, new, now)
        workflow.script_engine = engine._script_engine(session, case, actor, now)
        log = EventLog(case, actor.username, now)
        log.add("case_migrated", step_name=new.name,
                before={"version": old.version, "process_version_id": old.id},
                after={"version": new.version, "process_version_id": new.id})
        engine._advance(session, case, workflow, new.catalogue, log, now, timers_before=None)
        audit.record(session, actor.username, "case_migrated", f"case:{case.id}",
                     {"process_key": case.process_key, "from": old.version, "to": new.version}, now)
    engine.live.put(case.id, case.lock_version, workflow)
    move.moved = True
    return move


def _follow_work_items(session: Session, case: CaseState, workflow: BpmnWorkflow, old: LoadedVersion,
                       new: LoadedVersion, now: datetime) -> None:
    """Ready work items that stay (same task) take the new version's step name, role, unit and deadline; a claim
    that no longer fits the role or unit is given back."""
    from .accounts import actor_for

    tasks = {str(t.id): t for wf in [workflow, *workflow.subprocesses.values()] for t in wf.tasks.values()
             if t.state == TaskState.READY and t.task_spec.manual}
    items = session.scalars(select(WorkItem).where(WorkItem.case_id == case.id, WorkItem.status == "ready")).all()
    redated = []
    for item in items:
        task = tasks.get(item.task_id)
        if task is None:
            continue  # no longer ready on the new version: the projection cancels it
        sid = step_id(task)
        step = new.catalogue["steps"].get(sid, {})
        before = old.catalogue["steps"].get(item.step_id, {})
        values: dict[str, Any] = {"step_id": sid, "step_name": step.get("name") or sid,
                                  "role": step.get("role") or "", "unit": _unit_of(task, step, case)}
        if step.get("due_in") != before.get("due_in"):
            values["due_at"] = due_at(item.created_at, step.get("due_in"), task.data)
        if item.assignee and (values["role"] != item.role or values["unit"] != item.unit):
            try:
                holder = actor_for(session, item.assignee)
                fits = values["role"] in holder.roles and holder.in_scope(values["unit"])
            except DubanError:
                fits = False
            if not fits:
                values["assignee"] = None
        if "due_at" in values and values["due_at"] != item.due_at:
            redated.append({"id": item.id, "case_id": case.id, "due_at": values["due_at"]})
        session.execute(update(WorkItem).where(WorkItem.id == item.id).values(**values)
                        .execution_options(synchronize_session=False))
    if redated:
        cancel_deadlines(session, case.id, [r["id"] for r in redated])
        schedule_deadlines(session, redated, now)


def migrate(engine, process_key: str, to_version: int, actor: Actor, case_ids: list[int] | None = None,
            dry_run: bool = False) -> list[CaseMove]:
    """The plan, then each movable case moved in its own transaction (`dry_run`: the plan only). A case that
    could not move after all (it moved on meanwhile) is reported with the reason."""
    plan = migration_plan(engine, process_key, to_version, actor, case_ids)
    if dry_run:
        return plan
    out = []
    for move in plan:
        if not move.movable:
            out.append(move)
            continue
        try:
            out.append(migrate_case(engine, move.case_id, to_version, actor))
        except DubanError as err:
            reasons = (getattr(err, "details", None) or {}).get("reasons") if isinstance(
                getattr(err, "details", None), dict) else None
            out.append(CaseMove(move.case_id, move.title, move.unit, move.from_version, move.to_version, False,
                                reasons or [err.message], move.waiting))
    return out
