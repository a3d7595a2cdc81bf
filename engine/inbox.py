"""The clerk's inbox: ready work items from the projection, filtered, counted and paged (no workflow is loaded)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from .access import Actor
from .models import Case, WorkItem

TABS = ("mine", "available", "all")
SORTS = {"due": (WorkItem.due_at.is_(None), WorkItem.due_at, WorkItem.id),
         "created": (WorkItem.created_at, WorkItem.id),
         "-created": (WorkItem.created_at.desc(), WorkItem.id.desc())}


@dataclass
class InboxQuery:
    """What the clerk asked to see; every field comes from a request and is checked by `parse`."""

    tab: str = "available"
    process_key: str | None = None
    step_id: str | None = None
    unit: str | None = None
    due_before: date | None = None
    overdue_only: bool = False
    sort: str = "due"
    page: int = 1
    per_page: int = 25

    @classmethod
    def parse(cls, args: dict[str, Any]) -> "InboxQuery":
        """Build from query-string values; unknown or malformed values fall back to defaults."""
        def text(name):
            value = (args.get(name) or "").strip()
            return value[:200] or None

        due_before = None
        if text("due_before"):
            try:
                due_before = date.fromisoformat(text("due_before"))
            except ValueError:
                due_before = None

        def number(name, default, low, high):
            try:
                return min(max(int(args.get(name, default)), low), high)
            except (TypeError, ValueError):
                return default

        tab = text("tab")
        sort = text("sort")
        return cls(
            tab=tab if tab in TABS else "available", process_key=text("process"), step_id=text("step"),
            unit=text("unit"), due_before=due_before,
            overdue_only=str(args.get("overdue", "")).lower() in ("1", "true", "on", "yes"),
            sort=sort if sort in SORTS else "due", page=number("page", 1, 1, 100000),
            per_page=number("per_page", 25, 1, 200),
        )


@dataclass
class InboxRow:
    item: WorkItem
    case_title: str
    process_key: str
    overdue: bool
    age_days: int


@dataclass
class InboxPage:
    rows: list[InboxRow]
    total: int
    counts: dict[str, int] = field(default_factory=dict)
    query: InboxQuery = field(default_factory=InboxQuery)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.query.per_page))


def _visible(actor: Actor) -> Any:
    """Ready items this actor may see: in their roles and units, or assigned to them."""
    if actor.oversees:
        return WorkItem.status == "ready"
    in_scope = WorkItem.role.in_(actor.roles or {""})
    if actor.units is not None:
        in_scope = and_(in_scope, WorkItem.unit.in_(actor.units or {""}))
    return and_(WorkItem.status == "ready", or_(in_scope, WorkItem.assignee == actor.username))


def _tab(actor: Actor, tab: str) -> Any:
    if tab == "mine":
        return WorkItem.assignee == actor.username
    if tab == "available":
        return or_(WorkItem.assignee.is_(None), WorkItem.assignee == actor.username)
    return True


def _filters(query: InboxQuery, now: datetime) -> list[Any]:
    out = []
    if query.process_key:
        out.append(Case.process_key == query.process_key)
    if query.step_id:
        out.append(WorkItem.step_id == query.step_id)
    if query.unit:
        out.append(WorkItem.unit == query.unit)
    if query.due_before:
        out.append(WorkItem.due_at < datetime.combine(query.due_before, time.min))
    if query.overdue_only:
        out.append(WorkItem.due_at < now)
    return out


def _base(actor: Actor) -> Select:
    return select(WorkItem, Case.title, Case.process_key).join(Case, Case.id == WorkItem.case_id).where(_visible(actor))


def inbox(session: Session, actor: Actor, query: InboxQuery, now: datetime) -> InboxPage:
    """One page of the inbox and the count behind each tab (with the same filters)."""
    filters = _filters(query, now)
    stmt = _base(actor).where(_tab(actor, query.tab), *filters).order_by(*SORTS[query.sort])
    rows = session.execute(stmt.offset((query.page - 1) * query.per_page).limit(query.per_page)).all()
    counts = {}
    for tab in TABS:
        count = select(func.count()).select_from(WorkItem).join(Case, Case.id == WorkItem.case_id).where(
            _visible(actor), _tab(actor, tab), *filters)
        counts[tab] = session.scalar(count) or 0
    return InboxPage(
        rows=[InboxRow(item, title, key, bool(item.due_at and item.due_at < now), (now - item.created_at).days)
              for item, title, key in rows],
        total=counts[query.tab], counts=counts, query=query,
    )


def filter_choices(session: Session, actor: Actor) -> dict[str, list[tuple[str, str]]]:
    """Processes, steps and units present in the actor's visible work, for the filter menus."""
    visible = _base(actor).subquery()
    steps = session.execute(select(visible.c.step_id, visible.c.step_name).distinct().order_by(visible.c.step_id)).all()
    units = session.scalars(select(visible.c.unit).distinct().order_by(visible.c.unit)).all()
    processes = session.scalars(select(visible.c.process_key).distinct().order_by(visible.c.process_key)).all()
    return {"steps": [(s, n) for s, n in steps], "units": [(u, u) for u in units if u],
            "processes": [(p, p) for p in processes]}

