"""What a step writes besides the workflow state: work items, case summary columns, events."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from . import expressions
from .models import Case, Event, WorkItem


def json_safe(value: Any) -> Any:
    """Task data as plain JSON (dates become ISO strings), for event rows."""
    return json.loads(json.dumps(value, default=str, ensure_ascii=False))


def step_id(task) -> str:
    return getattr(task.task_spec, "bpmn_id", None) or task.task_spec.name


def ready_user_tasks(workflow: BpmnWorkflow) -> list:
    return workflow.get_tasks(state=TaskState.READY, manual=True)


def case_data(workflow: BpmnWorkflow) -> dict[str, Any]:
    """The case's current data: the end data once complete, else the merged data of open tasks."""
    if workflow.is_completed():
        return json_safe(workflow.data)
    merged: dict[str, Any] = {}
    open_tasks = workflow.get_tasks(state=TaskState.READY | TaskState.WAITING | TaskState.STARTED)
    for task in open_tasks or ([workflow.last_task] if workflow.last_task else []):
        merged.update(task.data)
    return json_safe(merged)


def _due(created: datetime, due_in: str | None) -> datetime | None:
    if not due_in:
        return None
    spec = expressions.parse_iso8601_timer(due_in)
    return created + spec.duration if spec.duration is not None else None


def sync_work_items(
    session: Session, case: Case, workflow: BpmnWorkflow, catalogue: dict[str, Any], now: datetime,
    completed: tuple[int, str] | None = None,
) -> list[WorkItem]:
    """Make the case's ready work items match the workflow; returns the newly created ones.

    `completed` is (work_item_id, actor) for the item this step completed; other items that
    are no longer ready (an interrupting event took them away) are marked cancelled.
    """
    ready = {str(t.id): t for t in ready_user_tasks(workflow)}
    existing = session.scalars(
        select(WorkItem).where(WorkItem.case_id == case.id, WorkItem.status == "ready")
    ).all()
    known = set()
    for item in existing:
        known.add(item.task_id)
        if item.task_id in ready:
            continue
        if completed and item.id == completed[0]:
            item.status, item.completed_by = "completed", completed[1]
        else:
            item.status = "cancelled"
        item.completed_at = now
    created = []
    for task_id, task in ready.items():
        if task_id in known:
            continue
        sid = step_id(task)
        step = catalogue["steps"].get(sid, {})
        item = WorkItem(
            case_id=case.id, task_id=task_id, step_id=sid, step_name=step.get("name") or sid,
            role=step.get("role") or "", unit=case.unit, assignee=None, status="ready",
            created_at=now, due_at=_due(now, step.get("due_in")),
        )
        session.add(item)
        created.append(item)
    session.flush()
    return created


def summarise(case: Case, workflow: BpmnWorkflow, catalogue: dict[str, Any], now: datetime) -> None:
    """Refresh the summary columns lists and dashboards read instead of the workflow."""
    names = [catalogue["steps"].get(step_id(t), {}).get("name") or step_id(t) for t in ready_user_tasks(workflow)]
    case.current_steps = "、".join(dict.fromkeys(names))[:1000]
    case.last_activity_at = now
    if workflow.is_completed():
        case.status = "completed"
        case.completed_at = now
        case.current_steps = ""


class EventLog:
    """Appends a case's events in order within the step's transaction."""

    def __init__(self, session: Session, case_id: int, actor: str, now: datetime) -> None:
        self.session, self.case_id, self.actor, self.now = session, case_id, actor, now
        self.seq = session.scalar(select(func.coalesce(func.max(Event.seq), 0)).where(Event.case_id == case_id))

    def add(self, kind: str, *, step_id: str | None = None, step_name: str | None = None,
            work_item_id: int | None = None, before: Any = None, after: Any = None, actor: str | None = None) -> None:
        self.seq += 1
        self.session.add(Event(
            case_id=self.case_id, seq=self.seq, at=self.now, actor=actor or self.actor, kind=kind,
            step_id=step_id, step_name=step_name, work_item_id=work_item_id,
            data_before=json_safe(before) if before is not None else None,
            data_after=json_safe(after) if after is not None else None,
        ))
