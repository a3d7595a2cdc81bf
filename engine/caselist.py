"""The case list and the small case lookups the case pages need: summary columns only, never workflow state.

Every function takes a session; visibility follows `Actor.may_see_case` and `Actor.may_see_work`: everyone,
supervisors included, sees the cases and work of their units (a user without a units limit: all units).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, false, func, select, true
from sqlalchemy.orm import Session

from .access import Actor
from .errors import NotFound
from .models import Attachment, Case, ProcessVersion, WorkItem

STATUSES = ("running", "completed", "error", "terminated")
STATUS_NAMES = {"running": "办理中", "completed": "已办结", "error": "系统异常", "suspended": "已暂停", "terminated": "已终止"}
PER_PAGE = 25


@dataclass
class CaseQuery:
    """What the user asked to see; built from query-string values by `parse`, bad values fall back."""

    status: str | None = None
    process_key: str | None = None
    unit: str | None = None
    text: str | None = None
    page: int = 1
    per_page: int = PER_PAGE

    @classmethod
    def parse(cls, args: Any) -> "CaseQuery":
        def text(name: str) -> str | None:
            value = (args.get(name) or "").strip()
            return value[:200] or None

        try:
            page = min(max(int(args.get("page", 1)), 1), 100000)
        except (TypeError, ValueError):
            page = 1
        status = text("status")
        return cls(status=status if status in STATUSES else None, process_key=text("process"), unit=text("unit"),
                   text=text("q"), page=page)

    def args(self, **changes: Any) -> dict[str, Any]:
        """Query-string arguments reproducing this query (for pager links), with `changes` applied."""
        values = {"status": self.status, "process": self.process_key, "unit": self.unit, "q": self.text,
                  "page": self.page}
        values.update(changes)
        if values.get("page") == 1:
            del values["page"]
        return {k: v for k, v in values.items() if v}


@dataclass
class CaseRow:
    id: int
    title: str
    process_key: str
    process_name: str
    version: int
    unit: str
    status: str
    current_steps: list[str]
    started_by: str
    started_at: datetime
    last_activity_at: datetime
    completed_at: datetime | None

    @property
    def status_name(self) -> str:
        return STATUS_NAMES.get(self.status, self.status)


@dataclass
class CasePage:
    rows: list[CaseRow]
    total: int
    query: CaseQuery = field(default_factory=CaseQuery)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.query.per_page))


def visible(actor: Actor) -> ColumnElement[bool]:
    """The SQL condition matching the cases `actor` may see.

    Built by asking `Actor.may_see_case` itself (which depends on the case's unit only) about a unit
    nobody has and about each of the actor's units, so the list can never drift from the case pages.
    """
    if actor.may_see_case(Case(id=0, unit="\x00any unit")):
        return true()
    units = sorted(u for u in (actor.units or ()) if actor.may_see_case(Case(id=0, unit=u)))
    return Case.unit.in_(units) if units else false()


_ROW_COLUMNS = (Case.id, Case.title, Case.process_key, ProcessVersion.name, ProcessVersion.version, Case.unit,
                Case.status, Case.current_steps, Case.started_by, Case.started_at, Case.last_activity_at,
                Case.completed_at)


def _row(values) -> CaseRow:
    (id_, title, key, name, version, unit, status, steps, started_by, started_at, last, completed) = values
    return CaseRow(id_, title, key, name, version, unit, status, [s for s in (steps or "").split("、") if s],
                   started_by, started_at, last, completed)


def list_cases(session: Session, actor: Actor, query: CaseQuery) -> CasePage:
    """One page of the cases `actor` may see, newest activity first."""
    conditions = [visible(actor)]
    if query.status:
        conditions.append(Case.status == query.status)
    if query.process_key:
        conditions.append(Case.process_key == query.process_key)
    if query.unit:
        conditions.append(Case.unit == query.unit)
    if query.text:
        conditions.append(Case.title.contains(query.text, autoescape=True))
    total = session.scalar(select(func.count()).select_from(Case).where(*conditions)) or 0
    rows = session.execute(
        select(*_ROW_COLUMNS).join(ProcessVersion, ProcessVersion.id == Case.process_version_id).where(*conditions)
        .order_by(Case.last_activity_at.desc(), Case.id.desc())
        .limit(query.per_page).offset((query.page - 1) * query.per_page)
    ).all()
    return CasePage([_row(r) for r in rows], total, query)


def process_choices(session: Session) -> list[tuple[str, str]]:
    """(process key, name of its newest version) of every deployed process, for the filter."""
    newest = (select(ProcessVersion.process_key, func.max(ProcessVersion.version).label("version"))
              .group_by(ProcessVersion.process_key).subquery())
    rows = session.execute(
        select(ProcessVersion.process_key, ProcessVersion.name)
        .join(newest, (newest.c.process_key == ProcessVersion.process_key) & (newest.c.version == ProcessVersion.version))
        .order_by(ProcessVersion.process_key)
    ).all()
    return [(key, name) for key, name in rows]


def unit_choices(session: Session, actor: Actor) -> list[str]:
    """The units of the cases `actor` may see, for the filter."""
    return [u for u in session.scalars(select(Case.unit).where(visible(actor), Case.unit != "")
                                       .distinct().order_by(Case.unit)).all()]


def get_case(session: Session, case_id: int) -> Case:
    """The case's summary row (state and data stay unloaded); NotFound for unknown ids."""
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(f"项目不存在：{case_id}")
    return case


def seen_case(session: Session, case_id: int, actor: Actor) -> Case:
    """The case if `actor` may see it: NotFound for unknown ids, Forbidden otherwise."""
    case = get_case(session, case_id)
    actor.require_case(case)
    return case


def case_bpmn(session: Session, case_id: int, actor: Actor) -> str:
    """The BPMN XML (with its diagram) of the process version the case runs on."""
    case = seen_case(session, case_id, actor)
    xml = session.scalar(select(ProcessVersion.bpmn_xml).where(ProcessVersion.id == case.process_version_id))
    if xml is None:
        raise NotFound(f"流程版本不存在：{case.process_version_id}")
    return xml


def attachment_case(session: Session, attachment_id: int, actor: Actor) -> Case:
    """The case an attachment belongs to, if `actor` may see it (checked before the file is touched)."""
    case_id = session.scalar(select(Attachment.case_id).where(Attachment.id == attachment_id))
    if case_id is None:
        raise NotFound(f"附件不存在：{attachment_id}")
    return seen_case(session, case_id, actor)


def seen_work_item(session: Session, work_item_id: int, actor: Actor) -> WorkItem:
    """The work item if `actor` may see it: NotFound for unknown ids, Forbidden otherwise."""
    item = session.get(WorkItem, work_item_id)
    if item is None:
        raise NotFound(f"待办事项不存在：{work_item_id}")
    actor.require_see_work(item)
    return item


def work_item_in_case(session: Session, work_item_id: int, case_id: int) -> bool:
    """Whether a work item belongs to the case (uploads and comments may name the item they were made on)."""
    return session.scalar(select(WorkItem.case_id).where(WorkItem.id == work_item_id)) == case_id
