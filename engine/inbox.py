"""The clerk's inbox: ready work items from the projection, filtered, counted and paged (no workflow is loaded)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from .access import Actor
from .models import Case, ProcessVersion, WorkItem
from .specs import in_language

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
    """Ready items this actor may see: in their roles and units, or assigned to them; a supervisor's: every
    role's, in their units (Actor.may_see_work)."""
    units = None if actor.operator else actor.units
    if actor.oversees:
        ready = WorkItem.status == "ready"
        return ready if units is None else and_(ready, WorkItem.unit.in_(units or {""}))
    in_scope = WorkItem.role.in_(actor.roles or {""})
    if units is not None:
        in_scope = and_(in_scope, WorkItem.unit.in_(units or {""}))
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
        out.append(WorkItem.process_key == query.process_key)
    if query.step_id:
        out.append(WorkItem.step_id == query.step_id)
    if query.unit:
        out.append(WorkItem.unit == query.unit)
    if query.due_before:
        out.append(WorkItem.due_at < datetime.combine(query.due_before, time.min))
    if query.overdue_only:
        out.append(WorkItem.due_at < now)
    return out


COUNT_CAP = 1000  # a tab shows "1000+" rather than counting a whole office's backlog on every page view


def _count(session: Session, where: list[Any], cap: int | None = COUNT_CAP) -> int:
    ids = select(WorkItem.id).where(*where)
    if cap is not None:
        ids = ids.limit(cap + 1)
    return session.scalar(select(func.count()).select_from(ids.subquery())) or 0


def _page_ids(session: Session, where: list[Any], query: InboxQuery) -> list[int]:
    """Ids of one page, read in index order; by due date the items with a date come first, then the rest."""
    offset, limit = (query.page - 1) * query.per_page, query.per_page
    if query.sort != "due":
        return list(session.scalars(select(WorkItem.id).where(*where).order_by(*SORTS[query.sort])
                                    .offset(offset).limit(limit)))
    dated = list(session.scalars(select(WorkItem.id).where(*where, WorkItem.due_at.is_not(None))
                                 .order_by(WorkItem.due_at, WorkItem.id).offset(offset).limit(limit)))
    if len(dated) == limit:
        return dated
    before = offset + len(dated) if dated else _count(session, [*where, WorkItem.due_at.is_not(None)], cap=None)
    undated = session.scalars(select(WorkItem.id).where(*where, WorkItem.due_at.is_(None))
                              .order_by(WorkItem.id).offset(max(0, offset - before)).limit(limit - len(dated)))
    return dated + list(undated)


def inbox(session: Session, actor: Actor, query: InboxQuery, now: datetime) -> InboxPage:
    """One page of the inbox and the count behind each tab (with the same filters), from work_item alone."""
    filters = [_visible(actor), *_filters(query, now)]
    ids = _page_ids(session, [*filters, _tab(actor, query.tab)], query)
    found = {item.id: (item, title) for item, title in session.execute(
        select(WorkItem, Case.title).join(Case, Case.id == WorkItem.case_id).where(WorkItem.id.in_(ids)))} if ids else {}
    counts = {tab: _count(session, [*filters, _tab(actor, tab)]) for tab in TABS}
    rows = [found[i] for i in ids if i in found]
    return InboxPage(
        rows=[InboxRow(item, title, item.process_key, bool(item.due_at and item.due_at < now),
                       (now - item.created_at).days) for item, title in rows],
        total=counts[query.tab], counts=counts, query=query,
    )


def filter_choices(session: Session, actor: Actor, locale: str | None = None) -> dict[str, list[tuple[str, str]]]:
    """Processes and steps from the deployed catalogues (named in `locale`), units from the actor's scope."""
    steps: dict[str, str] = {}
    processes: dict[str, str] = {}
    for key, name, catalogue in session.execute(select(ProcessVersion.process_key, ProcessVersion.name,
                                                       ProcessVersion.catalogue).order_by(ProcessVersion.version)):
        processes[key] = in_language(catalogue, "name", locale) or name
        for step_id, step in catalogue.get("steps", {}).items():
            if actor.oversees or step.get("role") in actor.roles:
                steps[step_id] = in_language(step, "name", locale) or step_id
    if actor.units is not None:
        units = sorted(actor.units)
    else:
        units = [u for u in session.scalars(select(WorkItem.unit).where(WorkItem.status == "ready").distinct()) if u]
    return {"steps": sorted(steps.items(), key=lambda kv: kv[1]), "units": [(u, u) for u in sorted(units)],
            "processes": sorted(processes.items())}
