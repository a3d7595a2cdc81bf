"""`duban check`: the projections (work items, case summary columns, timer rows) rebuilt from each case's stored
workflow state and compared with what is in the database, case by case; `repair` makes them match.

Every step writes its state and its projections in one transaction, so drift should never happen: it comes from
hands in the database, a restore of some tables only, or a bug. A repair is one transaction per case that locks
the case row (a step of the same case waits), rereads it, and bumps its version so that a step which read the
case before the repair runs again on what the repair wrote. The repair is in the audit log with what it changed.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Iterator

from sqlalchemy import delete, select, update
from SpiffWorkflow.util.task import TaskState

from . import audit
from .models import Case, Timer, WorkItem
from .projection import LOCK_CASE, CaseState, current_steps, step_names, sync_work_items
from .state import load_state
from .timers import TIMERS, cancel_deadlines, schedule_deadlines, sync_case_timers, waiting_timers

_CLOSED = ("completed", "terminated")


@dataclass
class CaseDrift:
    """What one case's projections got wrong; `repaired` once `repair` fixed it."""

    case_id: int
    title: str
    problems: list[str]
    repaired: bool = False


@dataclass
class Report:
    checked: int = 0
    total: int = 0
    drifts: list[CaseDrift] = field(default_factory=list)
    seconds: float = 0.0
    out_of_time: bool = False

    @property
    def clean(self) -> bool:
        return not self.drifts


@dataclass
class _Expected:
    ready: dict[str, object]  # task id -> SpiffWorkflow task
    names: dict[str, str]  # task id -> step name
    timers: list[tuple[str, datetime]]
    current_steps: str
    completed: bool
    catalogue: dict


def _expected(engine, session, case: Case) -> _Expected:
    """The projections of an open case as its stored workflow state gives them."""
    version = engine.versions.get(session, case.process_version_id)
    workflow = load_state(case.state_json, version.spec, version.subprocess_specs, None)
    tasks = workflow.get_tasks()
    ready = [t for t in tasks if t.state == TaskState.READY and t.task_spec.manual]
    completed = workflow.is_completed()
    return _Expected({str(t.id): t for t in ready},
                     {str(t.id): n for t, n in zip(ready, step_names(ready, version.catalogue))},
                     waiting_timers(workflow, tasks), "" if completed else current_steps(ready, version.catalogue),
                     completed, version.catalogue)


def _minute(moment: datetime | None) -> datetime | None:
    return moment.replace(microsecond=0) if moment else None


def _problems(session, case: Case, expected: _Expected) -> list[str]:
    out: list[str] = []
    items = session.execute(select(WorkItem.id, WorkItem.task_id, WorkItem.step_name, WorkItem.due_at,
                                   WorkItem.escalated_at)
                            .where(WorkItem.case_id == case.id, WorkItem.status == "ready")).all()
    rows = session.execute(select(Timer.kind, Timer.task_id, Timer.work_item_id, Timer.fire_at)
                           .where(Timer.case_id == case.id)).all()
    have = {row.task_id for row in items}
    for task_id, task in expected.ready.items():
        if task_id not in have:
            out.append(f"缺少待办：步骤“{expected.names[task_id]}”在流程中待办，但没有待办事项")
    for row in items:
        if row.task_id not in expected.ready:
            out.append(f"多余待办：待办事项 #{row.id}“{row.step_name}”在流程中已不在待办状态")
    bpmn = sorted((r.task_id, _minute(r.fire_at)) for r in rows if r.kind == "bpmn")
    want = sorted((task_id, _minute(moment)) for task_id, moment in expected.timers)
    if bpmn != want:
        out.append(f"定时器不符：数据库中 {len(bpmn)} 个，流程等待 {len(want)} 个"
                   + ("（触发时间不同）" if len(bpmn) == len(want) else ""))
    ready_ids = {row.id for row in items if row.task_id in expected.ready}
    stray = [r for r in rows if r.kind != "bpmn" and r.work_item_id not in ready_ids]
    if stray:
        out.append(f"多余的催办/督办定时：{len(stray)} 个属于已关闭的待办事项")
    escalations = {r.work_item_id for r in rows if r.kind == "escalation"}
    missing = [row.id for row in items if row.id in ready_ids and row.due_at and not row.escalated_at
               and row.id not in escalations]
    if missing:
        out.append(f"缺少督办定时：待办事项 {'、'.join(f'#{i}' for i in missing)} 有期限但到期不会督办")
    if expected.completed and case.status != "completed":
        out.append(f"项目状态为“{case.status}”，但流程已结束")
    if case.status not in _CLOSED and (case.current_steps or "") != expected.current_steps:
        out.append(f"当前环节为“{case.current_steps or '无'}”，应为“{expected.current_steps or '无'}”")
    dues = [row.due_at for row in items if row.task_id in expected.ready and row.due_at]
    if case.status not in _CLOSED and _minute(case.next_due_at) != _minute(min(dues) if dues else None):
        out.append("下一截止时间与待办事项的期限不符")
    return out


def _closed_problems(session, case_id: int) -> list[str]:
    """A completed or terminated case: no ready work, no timers (read without loading the workflow)."""
    out = []
    ready = session.scalars(select(WorkItem.id).where(WorkItem.case_id == case_id, WorkItem.status == "ready")).all()
    if ready:
        out.append(f"项目已结束，仍有 {len(ready)} 个待办事项")
    timers = session.scalars(select(Timer.id).where(Timer.case_id == case_id)).all()
    if timers:
        out.append(f"项目已结束，仍有 {len(timers)} 个定时")
    return out


def _assess(engine, session, case: Case) -> tuple[list[str], _Expected | None]:
    """The case's drift, and (open cases) what its projections should be."""
    if case.status in _CLOSED:
        return _closed_problems(session, case.id), None
    expected = _expected(engine, session, case)
    return _problems(session, case, expected), expected


def check_case(engine, session, case: Case) -> list[str]:
    return _assess(engine, session, case)[0]


def repair_case(engine, case_id: int, actor: str = "cli") -> list[str]:
    """Recheck the case under its row lock and make its projections match its state; the problems fixed."""
    now = engine.clock()
    with engine.db.transaction() as session:
        session.execute(LOCK_CASE, {"case_id": case_id})  # SQLite: BEGIN IMMEDIATE made this the only writer
        case = session.get(Case, case_id)
        if case is None:  # removed since it was checked
            return []
        problems, expected = _assess(engine, session, case)
        if not problems:
            return []
        if expected is None:
            _close_all(session, case, now)
        else:
            catalogue = expected.catalogue
            state = CaseState(case.id, case.process_version_id, case.process_key, case.title, case.unit,
                              case.status, case.current_steps, case.lock_version, case.event_seq)
            projected = sync_work_items(session, state, list(expected.ready.values()), catalogue, now)
            cancel_deadlines(session, case.id, projected.closed_with_deadline)
            schedule_deadlines(session, projected.created, now)
            sync_case_timers(session, case.id, expected.timers)
            _mend_deadline_rows(session, case.id)
            dues = session.scalars(select(WorkItem.due_at).where(
                WorkItem.case_id == case.id, WorkItem.status == "ready", WorkItem.due_at.is_not(None))).all()
            values = dict(current_steps=expected.current_steps, next_due_at=min(dues) if dues else None)
            if expected.completed:
                values.update(status="completed", completed_at=now, next_due_at=None)
            session.execute(update(Case).where(Case.id == case.id).values(**values))
        session.execute(update(Case).where(Case.id == case.id).values(lock_version=Case.lock_version + 1))
        audit.record(session, actor, "projections_repaired", f"case:{case_id}", {"problems": problems}, now)
    return problems


def _close_all(session, case: Case, now: datetime) -> None:
    session.execute(update(WorkItem).where(WorkItem.case_id == case.id, WorkItem.status == "ready")
                    .values(status="cancelled", completed_at=now))
    session.execute(delete(Timer).where(Timer.case_id == case.id))


def _mend_deadline_rows(session, case_id: int) -> None:
    """Drop reminder/escalation rows of items no longer ready; give ready items with a deadline their escalation."""
    items = session.execute(select(WorkItem.id, WorkItem.due_at, WorkItem.escalated_at)
                            .where(WorkItem.case_id == case_id, WorkItem.status == "ready")).all()
    stray = delete(TIMERS).where(TIMERS.c.case_id == case_id, TIMERS.c.kind != "bpmn")
    ready = [row.id for row in items]
    session.execute(stray.where(TIMERS.c.work_item_id.not_in(ready)) if ready else stray)
    escalated = set(session.scalars(select(Timer.work_item_id).where(Timer.case_id == case_id,
                                                                      Timer.kind == "escalation")).all())
    rows = [dict(case_id=case_id, kind="escalation", task_id=None, work_item_id=row.id, fire_at=row.due_at,
                 claimed_until=None, claimed_by=None)
            for row in items if row.due_at and not row.escalated_at and row.id not in escalated]
    if rows:
        session.execute(TIMERS.insert(), rows)


def summary(report: Report) -> str:
    """The report's last line, as `duban check` and the start-up check print it."""
    done = f"已检查 {report.checked}/{report.total} 个项目（{report.seconds:.1f} 秒）"
    if report.out_of_time:
        done += "，时限已到，其余未检查"
    if not report.drifts:
        return f"{done}：投影与流程状态一致"
    fixed = sum(1 for d in report.drifts if d.repaired)
    return (f"{done}：{len(report.drifts)} 个项目不一致" +
            (f"，已修复 {fixed} 个" if fixed else "；运行 duban check --repair 修复"))


def _case_ids(engine, case_ids: list[int] | None) -> list[int]:
    with engine.db.reading() as session:
        query = select(Case.id)
        if case_ids:
            query = query.where(Case.id.in_(case_ids))
        # Open cases first, the most recently active first: what a start-up check within a budget should see.
        return list(session.scalars(query.order_by(Case.status.in_(_CLOSED), Case.last_activity_at.desc(), Case.id)))


def run(engine, *, repair: bool = False, case_ids: list[int] | None = None, budget: float | None = None,
        actor: str = "cli", on_drift: Callable[[CaseDrift], None] | None = None) -> Report:
    """Check every case (or those given), within `budget` seconds if given; repair what drifted if asked."""
    started = time.monotonic()
    ids = _case_ids(engine, case_ids)
    report = Report(total=len(ids))
    for chunk in _chunks(ids, 200):
        if budget is not None and time.monotonic() - started > budget:
            report.out_of_time = True
            break
        with engine.db.reading() as session:
            if not engine.db.is_sqlite:  # one snapshot for a case's state and its projections
                session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            cases = session.scalars(select(Case).where(Case.id.in_(chunk)).order_by(Case.id)).all()
            found = []
            for case in cases:
                if budget is not None and time.monotonic() - started > budget:
                    report.out_of_time = True
                    break
                report.checked += 1
                problems = check_case(engine, session, case)
                if problems:
                    found.append(CaseDrift(case.id, case.title, problems))
        for drift in found:
            if repair:
                fixed = repair_case(engine, drift.case_id, actor)
                if fixed:  # else a step put it right meanwhile (or the case is gone): nothing was repaired
                    drift.problems, drift.repaired = fixed, True
            report.drifts.append(drift)
            if on_drift:
                on_drift(drift)
        if report.out_of_time:
            break
    report.seconds = time.monotonic() - started
    return report


def _chunks(ids: list[int], size: int) -> Iterator[list[int]]:
    for i in range(0, len(ids), size):
        yield ids[i:i + size]
