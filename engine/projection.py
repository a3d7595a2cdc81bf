"""What a step writes besides the workflow state: work items, case summary columns, events."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, or_, select, update
from sqlalchemy.orm import Session
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from .timers import due_at
from .models import Case, Event, WorkItem


def json_safe(value: Any) -> Any:
    """Task data as plain JSON (dates become ISO strings), for event rows."""
    return json.loads(json.dumps(value, default=str, ensure_ascii=False))


def step_id(task) -> str:
    return getattr(task.task_spec, "bpmn_id", None) or task.task_spec.name


def ready_user_tasks(workflow: BpmnWorkflow) -> list:
    return workflow.get_tasks(state=TaskState.READY, manual=True)


_OPEN = TaskState.READY | TaskState.WAITING | TaskState.STARTED


def case_data(workflow: BpmnWorkflow, tasks: list | None = None) -> dict[str, Any]:
    """The case's current data: the end data once complete, else the merged data of open tasks."""
    if workflow.is_completed():
        return json_safe(workflow.data)
    merged: dict[str, Any] = {}
    open_tasks = [t for t in (workflow.get_tasks() if tasks is None else tasks) if t.state & _OPEN]
    for task in open_tasks or ([workflow.last_task] if workflow.last_task else []):
        merged.update(task.data)
    return json_safe(merged)


WORK_ITEMS = WorkItem.__table__
CASES = Case.__table__
EVENTS = Event.__table__
# The statements of a step, built once: a step is a handful of them, and building costs more than running.
_close_item = (update(WORK_ITEMS).where(WORK_ITEMS.c.id == bindparam("item_id"))
               .values(status=bindparam("new_status"), completed_by=bindparam("by"), completed_at=bindparam("at")))
_ready_items = select(WORK_ITEMS.c.id, WORK_ITEMS.c.task_id, WORK_ITEMS.c.due_at).where(
    WORK_ITEMS.c.case_id == bindparam("case_id"), WORK_ITEMS.c.status == "ready")
_insert_items = insert(WORK_ITEMS).returning(WORK_ITEMS.c.id, sort_by_parameter_order=True)
_insert_events = insert(EVENTS)


@dataclass
class CaseState:
    """The columns of a case a step reads and writes; plain values, written back with one UPDATE."""

    id: int
    process_version_id: int
    process_key: str
    title: str
    unit: str
    status: str
    current_steps: str
    lock_version: int
    event_seq: int
    last_activity_at: datetime | None = None
    completed_at: datetime | None = None
    next_due_at: datetime | None = None
    opened: list[str] = field(default_factory=list)  # names of the work this step opened

    COLUMNS = ("id", "process_version_id", "process_key", "title", "unit", "status", "current_steps",
               "lock_version", "event_seq")

    @classmethod
    def columns(cls):
        return [CASES.c[name] for name in cls.COLUMNS]


# The item a step completes, with its case's columns, and the case's other ready items (the projection to sync).
STEP_ROWS = (select(WORK_ITEMS, *[c.label(f"case__{c.name}") for c in CaseState.columns()])
             .join(CASES, CASES.c.id == WORK_ITEMS.c.case_id)
             .where(WORK_ITEMS.c.case_id == select(WORK_ITEMS.c.case_id).where(
                 WORK_ITEMS.c.id == bindparam("item_id")).scalar_subquery(),
                 or_(WORK_ITEMS.c.status == "ready", WORK_ITEMS.c.id == bindparam("item_id"))))
CASE_BY_ID = select(*CaseState.columns()).where(CASES.c.id == bindparam("case_id"))
# Row locks (PostgreSQL) are always taken case first, then its work items, then its timers: no deadlocks.
LOCK_CASE = select(CASES.c.id).where(CASES.c.id == bindparam("case_id")).with_for_update()
LOCK_CASE_OF_ITEM = (select(CASES.c.id).where(CASES.c.id == select(WORK_ITEMS.c.case_id).where(
    WORK_ITEMS.c.id == bindparam("item_id")).scalar_subquery()).with_for_update())
CASE_STATE_JSON = select(CASES.c.state_json).where(CASES.c.id == bindparam("case_id"))
# The case row a step writes last, with a compare-and-set on the version it read.
SAVE_CASE = (update(CASES).where(CASES.c.id == bindparam("case_id"), CASES.c.lock_version == bindparam("seen"))
             .values(lock_version=bindparam("seen") + 1))


@dataclass
class Projected:
    """What one step changed in the work-item projection."""

    created: list[dict[str, Any]]
    closed_with_deadline: list[int]  # ids of closed items that had a deadline (reminder/escalation rows to drop)
    next_due_at: datetime | None


def sync_work_items(
    session: Session, case: CaseState, ready_tasks: list, catalogue: dict[str, Any], now: datetime,
    completed: tuple[int, str] | None = None, known: list[Any] | None = None,
) -> Projected:
    """Make the case's ready work items match the workflow's ready user tasks.

    `completed` is (work_item_id, actor) for the item this step completed; other items that
    are no longer ready (an interrupting event took them away) are marked cancelled. `known` are
    the case's ready work-item rows when the step already read them.
    """
    ready = {str(t.id): t for t in ready_tasks}
    conn = session.connection()
    existing = known if known is not None else conn.execute(_ready_items, {"case_id": case.id}).all()
    known = {row.task_id for row in existing}
    closing = [
        {"item_id": row.id, "at": now,
         **({"new_status": "completed", "by": completed[1]} if completed and row.id == completed[0]
            else {"new_status": "cancelled", "by": None})}
        for row in existing if row.task_id not in ready
    ]
    if closing:
        conn.execute(_close_item, closing)
    dues = [row.due_at for row in existing if row.task_id in ready and row.due_at is not None]
    new = []
    for task_id, task in ready.items():
        if task_id in known:
            continue
        sid = step_id(task)
        step = catalogue["steps"].get(sid, {})
        due = due_at(now, step.get("due_in"), task.data)
        new.append(dict(
            case_id=case.id, task_id=task_id, step_id=sid, step_name=step.get("name") or sid,
            role=step.get("role") or "", unit=_unit_of(task, step, case), assignee=None, status="ready", process_key=case.process_key,
            created_at=now, due_at=due, completed_at=None, completed_by=None, reminded_at=None, escalated_at=None,
        ))
        if due is not None:
            dues.append(due)
    if new:
        ids = conn.execute(_insert_items, new).scalars()
        for row, item_id in zip(new, ids):
            row["id"] = item_id
    dated = {row.id for row in existing if row.due_at is not None}
    return Projected(new, [c["item_id"] for c in closing if c["item_id"] in dated], min(dues) if dues else None)


def _unit_of(task, step: dict[str, Any], case: CaseState) -> str:
    """The case's unit, or the unit named by the step's `unitFrom` field of the task's data."""
    named = task.data.get(step["unit_from"]) if step.get("unit_from") else None
    return str(named).strip()[:200] if isinstance(named, str) and named.strip() else case.unit


def step_names(ready_tasks: list, catalogue: dict[str, Any]) -> list[str]:
    """The catalogue's name of each ready task's step (its id where it has none)."""
    return [catalogue["steps"].get(step_id(t), {}).get("name") or step_id(t) for t in ready_tasks]


def current_steps(ready_tasks: list, catalogue: dict[str, Any]) -> str:
    """The case's 当前环节 column: the ready steps' names, each once."""
    return "、".join(dict.fromkeys(step_names(ready_tasks, catalogue)))[:1000]


def summarise(case: CaseState, workflow: BpmnWorkflow, ready_tasks: list, catalogue: dict[str, Any],
              now: datetime) -> None:
    """Refresh the summary columns lists and dashboards read instead of the workflow."""
    case.current_steps = current_steps(ready_tasks, catalogue)
    case.last_activity_at = now
    if workflow.is_completed():
        case.status = "completed"
        case.completed_at = now
        case.current_steps = ""
        case.next_due_at = None


class EventLog:
    """A case's events of one step, numbered on from the case's counter and inserted in one statement."""

    def __init__(self, case: CaseState, actor: str, now: datetime) -> None:
        self.case, self.actor, self.now = case, actor, now
        self.rows: list[dict[str, Any]] = []

    def add(self, kind: str, *, step_id: str | None = None, step_name: str | None = None,
            work_item_id: int | None = None, before: Any = None, after: Any = None, actor: str | None = None) -> None:
        self.case.event_seq = (self.case.event_seq or 0) + 1
        self.rows.append(dict(
            case_id=self.case.id, seq=self.case.event_seq, at=self.now, actor=actor or self.actor, kind=kind,
            step_id=step_id, step_name=step_name, work_item_id=work_item_id,
            data_before=json_safe(before) if before is not None else None,
            data_after=json_safe(after) if after is not None else None,
        ))

    def write(self, session: Session) -> None:
        if self.rows:
            session.connection().execute(_insert_events, self.rows)
            self.rows = []


def append_event(session: Session, case_id: int, actor: str, kind: str, now: datetime, *,
                 step_id: str | None = None, step_name: str | None = None, work_item_id: int | None = None,
                 before: Any = None, after: Any = None) -> None:
    """One event outside a step (claim, comment, attachment), numbered by bumping the case's counter."""
    seq = session.execute(update(CASES).where(CASES.c.id == case_id).values(event_seq=CASES.c.event_seq + 1)
                          .returning(CASES.c.event_seq)).scalar_one()
    session.execute(_insert_events, [dict(case_id=case_id, seq=seq, at=now, actor=actor, kind=kind, step_id=step_id,
                                          step_name=step_name, work_item_id=work_item_id,
                                          data_before=json_safe(before) if before is not None else None,
                                          data_after=json_safe(after) if after is not None else None)])
