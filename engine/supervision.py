"""The supervisor's dashboard: status lights, stalled and overdue work, errors, aging, listed cases, and where
work piles up in each process. All of its SQL lives here.

Reads only the projection tables `case`, `work_item` and `incident` (never workflow state). Every query is
shaped to run on an index; the index is named in each function's docstring. Every figure has a list behind
it: `case_list` or `work_list` with the `ListFilter` of that figure uses the same condition (`_condition`),
so a number and its list cannot drift apart.

Who sees what: only actors that oversee (supervisors, the operator); a supervisor whose account names units
sees the cases and work of those units only.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Mapping

from sqlalchemy import ColumnElement, and_, false, func, or_, select, true
from sqlalchemy.orm import Session

from .access import Actor
from .errors import Forbidden, NotFound
from .models import Case, Incident, ProcessVersion, WorkItem
from .roles import ROLES
from .timers import days_left, days_overdue

PER_PAGE = 50
EXPORT_LIMIT = 20000  # rows in one Excel export
OPEN_STATUSES = ("running", "error", "suspended")  # a case someone still has to act on
STATUS_NAMES = {"running": "办理中", "completed": "已办结", "error": "系统异常", "suspended": "已暂停",
                "terminated": "已终止"}
LIGHTS = ("red", "yellow", "green")
LIGHT_NAMES = {"red": "红灯", "yellow": "黄灯", "green": "绿灯"}
# Age of a ready work item in whole days since it arrived: (key, label, lowest day, highest day or None).
AGE_BUCKETS = (("0-7", "0–7 天", 0, 7), ("8-30", "8–30 天", 8, 30), ("31-90", "31–90 天", 31, 90),
               ("90+", "90 天以上", 91, None))
CASE_KINDS = ("light", "stalled", "error", "suspended", "listed")
WORK_KINDS = ("overdue", "step_stalled", "age", "step")
# What each case action may start from (mirrors engine.incidents).
ACTIONS_BY_STATUS = {"running": ("suspend", "terminate"), "error": ("retry", "suspend", "terminate"),
                     "suspended": ("resume", "terminate"), "completed": (), "terminated": ()}
ACTION_NAMES = {"retry": "重试", "suspend": "暂停办理", "resume": "恢复", "terminate": "终止"}


@dataclass(frozen=True)
class Settings:
    """Thresholds of the dashboard, in days: DUBAN_YELLOW_DAYS, DUBAN_STALLED_DAYS, DUBAN_STEP_DAYS."""

    yellow_days: int = 3
    stalled_days: int = 14
    step_days: int = 30
    per_page: int = PER_PAGE

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None = None) -> "Settings":
        """From a config mapping (the Flask app's), then the environment, then the defaults."""
        config = config or {}

        def days(name: str, default: int) -> int:
            raw = config.get(name)
            if raw is None:
                raw = os.environ.get(name)
            try:
                return max(0, int(raw)) if raw is not None and str(raw).strip() != "" else default
            except (TypeError, ValueError):
                return default

        return cls(days("DUBAN_YELLOW_DAYS", 3), days("DUBAN_STALLED_DAYS", 14), days("DUBAN_STEP_DAYS", 30))


# --- who may look ------------------------------------------------------------------------------
def require_oversight(actor: Actor) -> None:
    if not actor.oversees:
        raise Forbidden(f"用户 {actor.username} 不是督办人员，不能查看督办情况")


def _units(actor: Actor) -> frozenset[str] | None:
    """The units a supervisor is limited to; None = all units."""
    return None if actor.operator or actor.units is None else actor.units


def in_scope(actor: Actor, unit: str) -> bool:
    """Whether a case or work item of `unit` is within the supervisor's units."""
    units = _units(actor)
    return actor.oversees and (units is None or unit in units)


def require_in_scope(actor: Actor, unit: str) -> None:
    require_oversight(actor)
    if not in_scope(actor, unit):
        raise Forbidden("您无权督办此项目")


def _case_scope(actor: Actor) -> ColumnElement[bool]:
    units = _units(actor)
    if units is None:
        return true()
    return Case.unit.in_(sorted(units)) if units else false()


def _work_scope(actor: Actor) -> ColumnElement[bool]:
    units = _units(actor)
    if units is None:
        return true()
    return WorkItem.unit.in_(sorted(units)) if units else false()


# --- the figures -------------------------------------------------------------------------------
@dataclass
class LightCounts:
    red: int = 0
    yellow: int = 0
    green: int = 0

    @property
    def running(self) -> int:
        return self.red + self.yellow + self.green


@dataclass
class Group:
    """One row of a grouped figure: key (role id, unit, step id), its Chinese label, and its count."""

    key: str
    label: str
    count: int


@dataclass
class Bucket:
    key: str
    label: str
    count: int


@dataclass
class StepLoad:
    """Open work of one process, per step: what the diagram overlay draws."""

    process_key: str
    process_name: str
    steps: list[Group]

    @property
    def total(self) -> int:
        return sum(g.count for g in self.steps)

    def counts(self) -> dict[str, int]:
        return {g.key: g.count for g in self.steps}


@dataclass
class Summary:
    """Every figure of the dashboard page."""

    lights: LightCounts
    stalled_cases: int
    stalled_steps: int
    overdue: int
    overdue_by_role: list[Group]
    overdue_by_unit: list[Group]
    error: int
    suspended: int
    listed: int
    aging: list[Bucket]
    processes: list[StepLoad] = field(default_factory=list)


def light_counts(session: Session, actor: Actor, now: datetime, settings: Settings) -> LightCounts:
    """Running cases by light: red = open work overdue, yellow = due within `yellow_days`, green = the rest.

    Three range counts on ix_case_status_due (status, next_due_at), index only: running, red, yellow.
    """
    require_oversight(actor)
    scope = _case_scope(actor)

    def counted(*where: Any):
        return select(func.count()).select_from(Case).where(Case.status == "running", scope, *where).scalar_subquery()

    soon = now + timedelta(days=settings.yellow_days)
    total, red, yellow = session.execute(select(
        counted(), counted(Case.next_due_at < now), counted(Case.next_due_at >= now, Case.next_due_at < soon))).one()
    return LightCounts(int(red), int(yellow), int(total) - int(red) - int(yellow))


def stalled_case_count(session: Session, actor: Actor, now: datetime, settings: Settings) -> int:
    """Running cases without activity for `stalled_days`: a range of ix_case_status_activity."""
    return _count_cases(session, actor, now, settings, ListFilter("stalled"))


def stalled_step_count(session: Session, actor: Actor, now: datetime, settings: Settings) -> int:
    """Ready work items waiting at their step longer than `step_days`: a range of ix_work_item_status_created."""
    return _count_work(session, actor, now, settings, ListFilter("step_stalled"))


def overdue_count(session: Session, actor: Actor, now: datetime, settings: Settings) -> int:
    """Ready work items past their due date: a range of ix_work_item_status_due."""
    return _count_work(session, actor, now, settings, ListFilter("overdue"))


def overdue_groups(session: Session, actor: Actor, now: datetime, settings: Settings) -> tuple[list[Group], list[Group]]:
    """Overdue ready work per department (role) and per unit, most first, from one grouped query.

    Grouping by (role, unit) reads ix_work_item_inbox (status, role, unit, due_at) in its own order, index
    only, without a temporary b-tree; both tables of the dashboard are sums over its rows.
    """
    require_oversight(actor)
    rows = session.execute(
        select(WorkItem.role, WorkItem.unit, func.count())
        .where(WorkItem.status == "ready", WorkItem.due_at < now, _work_scope(actor))
        .group_by(WorkItem.role, WorkItem.unit)
    ).all()
    roles: dict[str, int] = {}
    units: dict[str, int] = {}
    for role, unit, n in rows:
        roles[role] = roles.get(role, 0) + n
        units[unit] = units.get(unit, 0) + n
    by_role = sorted((Group(r, ROLES.get(r, r), n) for r, n in roles.items()), key=lambda g: (-g.count, g.key))
    by_unit = sorted((Group(u, u or "—", n) for u, n in units.items()), key=lambda g: (-g.count, g.key))
    return by_role, by_unit


def overdue_by_role(session: Session, actor: Actor, now: datetime, settings: Settings) -> list[Group]:
    """Overdue ready work per department (role), most first (see `overdue_groups`)."""
    return overdue_groups(session, actor, now, settings)[0]


def overdue_by_unit(session: Session, actor: Actor, now: datetime, settings: Settings) -> list[Group]:
    """Overdue ready work per unit, most first (see `overdue_groups`)."""
    return overdue_groups(session, actor, now, settings)[1]


def status_counts(session: Session, actor: Actor, now: datetime, settings: Settings) -> dict[str, int]:
    """Cases in error and suspended: two short ranges of ix_case_status_activity (status prefix)."""
    require_oversight(actor)
    rows = session.execute(
        select(Case.status, func.count()).where(Case.status.in_(("error", "suspended")), _case_scope(actor))
        .group_by(Case.status)
    ).all()
    counts = {"error": 0, "suspended": 0}
    counts.update({status: n for status, n in rows})
    return counts


def listed_count(session: Session, actor: Actor, now: datetime, settings: Settings) -> int:
    """Open cases under listed supervision (挂牌督办): ranges of ix_case_listed (listed, status, next_due_at)."""
    return _count_cases(session, actor, now, settings, ListFilter("listed"))


def aging(session: Session, actor: Actor, now: datetime, settings: Settings) -> list[Bucket]:
    """Ready work items by whole days since they arrived (0–7, 8–30, 31–90, >90).

    Range counts on ix_work_item_status_created (status, created_at), index only: arrived after each bucket's
    oldest boundary, and all; the buckets are their differences.
    """
    require_oversight(actor)
    scope = _work_scope(actor)

    def counted(*where: Any):
        return select(func.count()).select_from(WorkItem).where(WorkItem.status == "ready", scope, *where).scalar_subquery()

    # Arrived less than high+1 days ago, for each bounded bucket; then every ready item.
    bounds = [high for _key, _label, _low, high in AGE_BUCKETS if high is not None]
    row = session.execute(select(*[counted(WorkItem.created_at > now - timedelta(days=high + 1)) for high in bounds],
                                 counted())).one()
    cumulative = [int(n) for n in row]
    counts = [cumulative[0]] + [cumulative[i] - cumulative[i - 1] for i in range(1, len(cumulative))]
    return [Bucket(key, label, n) for (key, label, _low, _high), n in zip(AGE_BUCKETS, counts)]


def processes(session: Session) -> list[tuple[str, str]]:
    """(process key, name of its newest version) of every deployed process."""
    newest = (select(ProcessVersion.process_key, func.max(ProcessVersion.version).label("version"))
              .group_by(ProcessVersion.process_key).subquery())
    rows = session.execute(
        select(ProcessVersion.process_key, ProcessVersion.name)
        .join(newest, (newest.c.process_key == ProcessVersion.process_key) & (newest.c.version == ProcessVersion.version))
        .order_by(ProcessVersion.process_key)
    ).all()
    return [(key, name) for key, name in rows]


def _newest_version(session: Session, process_key: str) -> ProcessVersion:
    version = session.scalar(select(ProcessVersion).where(ProcessVersion.process_key == process_key)
                             .order_by(ProcessVersion.version.desc()).limit(1))
    if version is None:
        raise NotFound(f"流程不存在：{process_key}")
    return version


def process_bpmn(session: Session, actor: Actor, process_key: str) -> str:
    """The BPMN XML (with its diagram) of the newest version of a process."""
    require_oversight(actor)
    xml = session.scalar(select(ProcessVersion.bpmn_xml).where(ProcessVersion.id == _newest_version(session, process_key).id))
    return xml or ""


def step_load(session: Session, actor: Actor, now: datetime, settings: Settings, process_key: str) -> StepLoad:
    """Open (ready) work items of a process per step, the steps in diagram order where known.

    One range of ix_work_item_process_step (status, process_key, step_id), index only; for a supervisor
    limited to some units, their ranges of ix_work_item_status_unit_created.
    """
    require_oversight(actor)
    version = _newest_version(session, process_key)
    ready = (WorkItem.status == "ready", WorkItem.process_key == process_key)
    if _units(actor) is None:
        counts = dict(session.execute(select(WorkItem.step_id, func.count()).where(*ready)
                                      .group_by(WorkItem.step_id)).all())
    else:
        # Limited to some units: grouping by unit too makes SQLite start from those units' entries of
        # ix_work_item_status_unit_created instead of walking every ready item of the process.
        counts = {}
        for _unit, sid, n in session.execute(select(WorkItem.unit, WorkItem.step_id, func.count())
                                             .where(*ready, _work_scope(actor))
                                             .group_by(WorkItem.unit, WorkItem.step_id)).all():
            counts[sid] = counts.get(sid, 0) + n
    catalogue = (version.catalogue or {}).get("steps", {})
    steps = [Group(sid, step.get("name") or sid, counts.pop(sid, 0)) for sid, step in catalogue.items()]
    for sid, n in sorted(counts.items()):  # steps of older versions, no longer in the newest diagram
        name = session.scalar(select(WorkItem.step_name).where(
            WorkItem.status == "ready", WorkItem.process_key == process_key, WorkItem.step_id == sid).limit(1))
        steps.append(Group(sid, name or sid, n))
    return StepLoad(process_key, version.name, steps)


def summary(session: Session, actor: Actor, now: datetime, settings: Settings,
            with_processes: bool = True) -> Summary:
    """All figures of the dashboard, each from its own indexed query."""
    require_oversight(actor)
    by_role, by_unit = overdue_groups(session, actor, now, settings)
    statuses = status_counts(session, actor, now, settings)
    return Summary(
        lights=light_counts(session, actor, now, settings),
        stalled_cases=stalled_case_count(session, actor, now, settings),
        stalled_steps=stalled_step_count(session, actor, now, settings),
        overdue=sum(g.count for g in by_role),
        overdue_by_role=by_role,
        overdue_by_unit=by_unit,
        error=statuses["error"], suspended=statuses["suspended"],
        listed=listed_count(session, actor, now, settings),
        aging=aging(session, actor, now, settings),
        processes=[step_load(session, actor, now, settings, key) for key, _name in processes(session)]
        if with_processes else [],
    )


# --- the lists behind the figures --------------------------------------------------------------
@dataclass
class ListFilter:
    """Which list: a case kind (light, stalled, error, suspended, listed) or a work kind (overdue, step_stalled,
    age, step), with its arguments. Built from query-string values by `parse`; bad values fall back."""

    kind: str
    light: str | None = None  # kind=light: red / yellow / green
    role: str | None = None  # kind=overdue: one department
    unit: str | None = None  # kind=overdue: one unit
    bucket: str | None = None  # kind=age: a key of AGE_BUCKETS
    process: str | None = None  # kind=step
    step: str | None = None  # kind=step
    page: int = 1

    @classmethod
    def parse(cls, args: Mapping[str, Any]) -> "ListFilter":
        def text(name: str) -> str | None:
            value = str(args.get(name) or "").strip()
            return value[:200] or None

        try:
            page = min(max(int(args.get("page", 1)), 1), 100000)
        except (TypeError, ValueError):
            page = 1
        kind = text("kind") or ""
        if kind in LIGHTS:  # kind=red is accepted as kind=light&light=red
            kind, light = "light", kind
        else:
            light = text("light")
        if kind not in CASE_KINDS + WORK_KINDS:
            raise NotFound(f"未知的列表：{kind[:50]}")
        made = cls(kind, page=page)
        if kind == "light":
            made.light = light if light in LIGHTS else "red"
        elif kind == "overdue":
            made.role, made.unit = text("role"), text("unit")
        elif kind == "age":
            bucket = text("bucket")
            made.bucket = bucket if bucket in {b[0] for b in AGE_BUCKETS} else AGE_BUCKETS[0][0]
        elif kind == "step":
            made.process, made.step = text("process"), text("step")
            if not made.process or not made.step:
                raise NotFound("缺少流程或步骤")
        return made

    @property
    def of_cases(self) -> bool:
        return self.kind in CASE_KINDS

    def args(self, **changes: Any) -> dict[str, Any]:
        """Query-string arguments reproducing this filter (for links, pagers and the export)."""
        values = {"kind": self.kind, "light": self.light, "role": self.role, "unit": self.unit,
                  "bucket": self.bucket, "process": self.process, "step": self.step, "page": self.page}
        values.update(changes)
        if values.get("page") == 1:
            del values["page"]
        return {k: v for k, v in values.items() if v is not None and v != ""}

    def title(self, settings: Settings, step_name: str | None = None) -> str:
        """The list's Chinese title (also the Excel sheet's and file's name)."""
        if self.kind == "light":
            return f"{LIGHT_NAMES[self.light or 'red']}项目"
        if self.kind == "stalled":
            return f"停滞项目（超过 {settings.stalled_days} 天无办理）"
        if self.kind == "step_stalled":
            return f"环节滞留待办（超过 {settings.step_days} 天）"
        if self.kind == "error":
            return "系统异常项目"
        if self.kind == "suspended":
            return "暂停办理"
        if self.kind == "listed":
            return "挂牌督办项目"
        if self.kind == "overdue":
            parts = [p for p in (ROLES.get(self.role, self.role) if self.role else None, self.unit) if p]
            return "超期待办" + (f"({' · '.join(parts)})" if parts else "")
        if self.kind == "age":
            label = next(b[1] for b in AGE_BUCKETS if b[0] == self.bucket)
            return f"待办时长 {label}"
        return f"{step_name or self.step} 待办"

    def short_name(self) -> str:
        """A short name for file names: 红灯项目，超期待办, …"""
        return {"light": f"{LIGHT_NAMES.get(self.light or 'red', '')}项目", "stalled": "停滞项目",
                "step_stalled": "环节滞留待办", "error": "系统异常项目", "suspended": "暂停办理", "listed": "挂牌督办项目",
                "overdue": "超期待办", "age": "待办时长", "step": "步骤待办"}[self.kind]


def _age_condition(now: datetime, low: int, high: int | None) -> ColumnElement[bool]:
    """Ready for `low`..`high` whole days: (now - created_at).days in that range."""
    newest = now - timedelta(days=low)  # arrived at or before this
    conditions = [WorkItem.created_at <= newest] if low > 0 else []
    if high is not None:
        conditions.append(WorkItem.created_at > now - timedelta(days=high + 1))
    return and_(true(), *conditions)


def _condition(actor: Actor, now: datetime, settings: Settings, flt: ListFilter) -> ColumnElement[bool]:
    """The WHERE of a figure and of the list behind it."""
    if flt.kind == "light":
        soon = now + timedelta(days=settings.yellow_days)
        light = {"red": Case.next_due_at < now,
                 "yellow": and_(Case.next_due_at >= now, Case.next_due_at < soon),
                 "green": or_(Case.next_due_at.is_(None), Case.next_due_at >= soon)}[flt.light or "red"]
        return and_(Case.status == "running", light, _case_scope(actor))
    if flt.kind == "stalled":
        return and_(Case.status == "running", Case.last_activity_at < now - timedelta(days=settings.stalled_days),
                    _case_scope(actor))
    if flt.kind in ("error", "suspended"):
        return and_(Case.status == flt.kind, _case_scope(actor))
    if flt.kind == "listed":
        return and_(Case.listed == true(), Case.status.in_(OPEN_STATUSES), _case_scope(actor))
    ready = and_(WorkItem.status == "ready", _work_scope(actor))
    if flt.kind == "overdue":
        extra = [WorkItem.due_at < now]
        if flt.role:
            extra.append(WorkItem.role == flt.role)
        if flt.unit:
            extra.append(WorkItem.unit == flt.unit)
        return and_(ready, *extra)
    if flt.kind == "step_stalled":
        return and_(ready, WorkItem.created_at < now - timedelta(days=settings.step_days))
    if flt.kind == "age":
        _key, _label, low, high = next(b for b in AGE_BUCKETS if b[0] == flt.bucket)
        return and_(ready, _age_condition(now, low, high))
    return and_(ready, WorkItem.process_key == flt.process, WorkItem.step_id == flt.step)


# Sort orders: the most urgent first; every order ends with the id so pages are stable.
_CASE_ORDER = {
    "light": (Case.next_due_at, Case.id),  # red, yellow: most overdue / soonest due first (ix_case_status_due)
    "stalled": (Case.last_activity_at, Case.id),  # longest idle first (ix_case_status_activity)
    "error": (Case.last_activity_at.desc(), Case.id.desc()),  # newest failure first (ix_case_status_activity)
    "suspended": (Case.last_activity_at, Case.id),  # suspended longest first (ix_case_status_activity)
}
_WORK_ORDER = {
    "overdue": (WorkItem.due_at, WorkItem.id),  # most overdue first (ix_work_item_status_due)
    "step_stalled": (WorkItem.created_at, WorkItem.id),  # waiting longest first (ix_work_item_status_created)
    "age": (WorkItem.created_at, WorkItem.id),  # (ix_work_item_status_created)
    "step": (WorkItem.created_at, WorkItem.id),  # waiting longest first (ix_work_item_process_step)
}


def _case_segments(actor: Actor, now: datetime, settings: Settings, flt: ListFilter) -> list[tuple[Any, tuple]]:
    """The list's (condition, order) parts, listed one after the other.

    Lists sorted by a due date that may be missing come in two parts, dated then undated: SQLite sorts NULL
    first and PostgreSQL last, and one `ORDER BY … NULLS LAST` would not run on SQLite's index.
    """
    scope = _case_scope(actor)
    if flt.kind == "light" and flt.light == "green":
        soon = now + timedelta(days=settings.yellow_days)
        running = and_(Case.status == "running", scope)
        return [(and_(running, Case.next_due_at >= soon), (Case.next_due_at, Case.id)),  # ix_case_status_due
                (and_(running, Case.next_due_at.is_(None)), (Case.id,))]
    if flt.kind == "listed":
        listed = and_(Case.listed == true(), Case.status.in_(OPEN_STATUSES), scope)  # ix_case_listed
        return [(and_(listed, Case.next_due_at.is_not(None)), (Case.next_due_at, Case.id)),
                (and_(listed, Case.next_due_at.is_(None)), (Case.id,))]
    return [(_condition(actor, now, settings, flt), _CASE_ORDER[flt.kind])]


def _page_case_ids(session: Session, segments: list[tuple[Any, tuple]], offset: int, limit: int) -> list[int]:
    ids: list[int] = []
    for where, order in segments:
        need = limit - len(ids)
        if need <= 0:
            break
        got = session.scalars(select(Case.id).where(where).order_by(*order).limit(need).offset(offset)).all()
        ids.extend(got)
        if got:
            offset = 0  # the page started in this part; the next part starts at its beginning
        else:  # the page starts after this part: skip all of it
            offset = max(0, offset - (session.scalar(select(func.count()).select_from(Case).where(where)) or 0))
    return ids


def _count_cases(session: Session, actor: Actor, now: datetime, settings: Settings, flt: ListFilter) -> int:
    require_oversight(actor)
    return session.scalar(select(func.count()).select_from(Case).where(_condition(actor, now, settings, flt))) or 0


def _count_work(session: Session, actor: Actor, now: datetime, settings: Settings, flt: ListFilter) -> int:
    require_oversight(actor)
    return session.scalar(select(func.count()).select_from(WorkItem).where(_condition(actor, now, settings, flt))) or 0


def count(session: Session, actor: Actor, now: datetime, settings: Settings, flt: ListFilter) -> int:
    """The figure a list stands behind."""
    if flt.of_cases:
        return _count_cases(session, actor, now, settings, flt)
    return _count_work(session, actor, now, settings, flt)


@dataclass
class CaseItem:
    """One case of a list, with its light and why: the open step due first."""

    id: int
    title: str
    unit: str
    process_key: str
    process_name: str
    status: str
    current_steps: list[str]
    started_at: datetime
    last_activity_at: datetime
    next_due_at: datetime | None
    listed: bool
    light: str
    due_step: str | None = None  # the step whose due date is next_due_at
    incident_step: str | None = None  # kind=error: the open incident
    incident_message: str | None = None
    incident_at: datetime | None = None
    overdue_days: int | None = None  # red: calendar days past due, in office time (timers.days_overdue)
    due_in_days: int | None = None  # yellow, green: calendar days until the due day (timers.days_left)
    idle_days: int = 0

    @property
    def status_name(self) -> str:
        return STATUS_NAMES.get(self.status, self.status)

    @property
    def light_name(self) -> str:
        return LIGHT_NAMES[self.light]


@dataclass
class WorkRow:
    """One ready work item of a list."""

    id: int
    case_id: int
    case_title: str
    step_id: str
    step_name: str
    role: str
    unit: str
    assignee: str | None
    created_at: datetime
    due_at: datetime | None
    reminded_at: datetime | None
    escalated_at: datetime | None
    age_days: int
    overdue_days: int | None
    process_key: str = ""  # with step_id, names the step in another language

    @property
    def role_name(self) -> str:
        return ROLES.get(self.role, self.role)


@dataclass
class ListPage:
    """A page of a list behind a figure: `cases` or `items` is filled, depending on the filter's kind."""

    filter: ListFilter
    title: str
    total: int
    per_page: int
    cases: list[CaseItem] = field(default_factory=list)
    items: list[WorkRow] = field(default_factory=list)
    step_name: str | None = None  # kind=step: the step's name (titles are built from it, not parsed back)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def rows(self) -> list[Any]:
        return self.cases if self.filter.of_cases else self.items


def light_of(next_due_at: datetime | None, now: datetime, settings: Settings) -> str:
    if next_due_at is not None and next_due_at < now:
        return "red"
    if next_due_at is not None and next_due_at < now + timedelta(days=settings.yellow_days):
        return "yellow"
    return "green"


_CASE_COLUMNS = (Case.id, Case.title, Case.unit, Case.process_key, ProcessVersion.name, Case.status,
                 Case.current_steps, Case.started_at, Case.last_activity_at, Case.next_due_at, Case.listed)


def case_list(session: Session, actor: Actor, now: datetime, flt: ListFilter, settings: Settings | None = None,
              per_page: int | None = None) -> ListPage:
    """One page of the cases behind a case figure, the most urgent first."""
    if not flt.of_cases:
        raise NotFound(f"不是项目列表：{flt.kind}")
    settings = settings or Settings.from_config()
    per_page = per_page or settings.per_page
    total = _count_cases(session, actor, now, settings, flt)
    # Page the ids on the index first, then fetch those rows: the sort never touches wide case rows.
    ids = _page_case_ids(session, _case_segments(actor, now, settings, flt), (flt.page - 1) * per_page, per_page)
    rows = session.execute(
        select(*_CASE_COLUMNS).join(ProcessVersion, ProcessVersion.id == Case.process_version_id)
        .where(Case.id.in_(ids))
    ).all() if ids else []
    items = []
    for (id_, title, unit, key, name, status, steps, started, last, due, listed) in rows:
        light = light_of(due, now, settings)
        item = CaseItem(id_, title, unit, key, name, status, [s for s in (steps or "").split("、") if s], started,
                        last, due, bool(listed), light, idle_days=max(0, (now - last).days))
        if due is not None:
            if light == "red":
                item.overdue_days = days_overdue(due, now)
            else:
                item.due_in_days = days_left(due, now)
        items.append(item)
    order = {id_: n for n, id_ in enumerate(ids)}
    items.sort(key=lambda c: order[c.id])
    _add_due_steps(session, items)
    if flt.kind == "error" or any(c.status == "error" for c in items):
        _add_incidents(session, items)
    return ListPage(flt, flt.title(settings), total, per_page, cases=items)


def _add_due_steps(session: Session, items: list[CaseItem]) -> None:
    """The open step each case's next_due_at comes from (ix_work_item_case_id, a handful of rows per case)."""
    due = {c.id: c for c in items if c.next_due_at is not None}
    if not due:
        return
    rows = session.execute(
        select(WorkItem.case_id, WorkItem.step_name, WorkItem.due_at)
        .where(WorkItem.case_id.in_(sorted(due)), WorkItem.status == "ready", WorkItem.due_at.is_not(None))
        .order_by(WorkItem.case_id, WorkItem.due_at, WorkItem.id)
    ).all()
    for case_id, step_name, _due in rows:
        if due[case_id].due_step is None:
            due[case_id].due_step = step_name


def _add_incidents(session: Session, items: list[CaseItem]) -> None:
    """The newest open incident of each case in error (ix_incident_case_id)."""
    by_id = {c.id: c for c in items if c.status == "error"}
    if not by_id:
        return
    rows = session.execute(
        select(Incident.case_id, Incident.step_name, Incident.step_id, Incident.message, Incident.created_at)
        .where(Incident.case_id.in_(sorted(by_id)), Incident.status == "open").order_by(Incident.id)
    ).all()
    for case_id, step_name, step_id, message, created in rows:  # the last one wins: the newest
        item = by_id[case_id]
        item.incident_step, item.incident_message, item.incident_at = step_name or step_id, message, created


def work_list(session: Session, actor: Actor, now: datetime, flt: ListFilter, settings: Settings | None = None,
              per_page: int | None = None) -> ListPage:
    """One page of the ready work items behind a work figure, the most urgent first."""
    if flt.of_cases:
        raise NotFound(f"不是待办列表：{flt.kind}")
    settings = settings or Settings.from_config()
    per_page = per_page or settings.per_page
    where = _condition(actor, now, settings, flt)
    total = _count_work(session, actor, now, settings, flt)
    # Page the ids first (on the index where it holds the sort key), then join the 50 rows to their cases.
    ids = session.scalars(select(WorkItem.id).where(where).order_by(*_WORK_ORDER[flt.kind])
                          .limit(per_page).offset((flt.page - 1) * per_page)).all()
    rows = session.execute(
        select(WorkItem, Case.title).join(Case, Case.id == WorkItem.case_id).where(WorkItem.id.in_(ids))
    ).all() if ids else []
    order = {id_: n for n, id_ in enumerate(ids)}
    rows.sort(key=lambda r: order[r[0].id])
    items = [WorkRow(w.id, w.case_id, title, w.step_id, w.step_name, w.role, w.unit, w.assignee, w.created_at,
                     w.due_at, w.reminded_at, w.escalated_at, max(0, (now - w.created_at).days),
                     days_overdue(w.due_at, now) if w.due_at is not None and w.due_at < now else None,
                     w.process_key)
             for w, title in rows]
    step_name = None
    if flt.kind == "step":
        step_name = items[0].step_name if items else next(
            (g.label for g in _catalogue_steps(session, flt.process) if g.key == flt.step), None)
    return ListPage(flt, flt.title(settings, step_name), total, per_page, items=items, step_name=step_name)


def _catalogue_steps(session: Session, process_key: str | None) -> list[Group]:
    if not process_key:
        return []
    version = session.scalar(select(ProcessVersion).where(ProcessVersion.process_key == process_key)
                             .order_by(ProcessVersion.version.desc()).limit(1))
    if version is None:
        return []
    return [Group(sid, s.get("name") or sid, 0) for sid, s in (version.catalogue or {}).get("steps", {}).items()]


def list_page(session: Session, actor: Actor, now: datetime, flt: ListFilter, settings: Settings | None = None,
              per_page: int | None = None) -> ListPage:
    """`case_list` or `work_list`, whichever the filter asks for."""
    if flt.of_cases:
        return case_list(session, actor, now, flt, settings, per_page)
    return work_list(session, actor, now, flt, settings, per_page)


# --- the case page's supervision panel ---------------------------------------------------------
@dataclass
class IncidentView:
    id: int
    step_id: str | None
    step_name: str | None
    message: str
    trace: str
    created_at: datetime


def case_actions_context(session: Session, case_id: int) -> dict[str, Any]:
    """What `supervise/_case_actions.html` needs: the case id, its status, its open incidents (oldest first)
    and the actions allowed in that status (and the case's unit, for the scope check). The caller checks that
    the viewer oversees (`require_in_scope`)."""
    row = session.execute(select(Case.status, Case.unit, Case.process_key).where(Case.id == case_id)).first()
    if row is None:
        raise NotFound(f"项目不存在：{case_id}")
    status, unit, process_key = row
    incidents = [IncidentView(i.id, i.step_id, i.step_name, i.message, i.trace, i.created_at)
                 for i in session.scalars(select(Incident).where(Incident.case_id == case_id, Incident.status == "open")
                                          .order_by(Incident.id)).all()]
    actions = [a for a in ACTIONS_BY_STATUS.get(status, ()) if a != "retry" or incidents]
    return {"case_id": case_id, "status": status, "unit": unit, "incidents": incidents, "actions": actions,
            "process_key": process_key}
