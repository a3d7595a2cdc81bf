"""五式履责 (seed 004, Haining): the responsibility platform of party conduct and clean government.

- 清单式定责: four responsibility lists per unit and year — the party committee's (党委(党组)主体责任), the
  principal leader's (主要负责人“第一责任人”责任), the members' (班子成员“一岗双责”) and the discipline body's
  (纪委(纪检组)监督责任) — five items each, edited by the unit (ResponsibilityItem).
- 项目式理责: a unit's annual key tasks (KeyTask), each with its responsible leader, lead office, target,
  measures, deadline and milestones; one `key_task` case per task.
- 一网式督责: progress updates with attachments (ProgressUpdate) any number of times; each quarter the unit's
  discipline organization lights the task red, yellow or green (Rating; red needs a reason); everyone signed in
  browses every unit's tasks (web/responsibility.py); 销号 when done, after the discipline body's review.
- 立体式传责: the yearly written report by the end of January and the face-to-face report to the commission's
  standing committee by the end of March (ResponsibilityReport), opened for every unit by the timer start event
  of `responsibility_reports` (engine/schedules.py).
"""
from __future__ import annotations

from datetime import date, datetime, time, timezone
from typing import Any, Optional

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.errors import InvalidData
from engine.models import Attachment, Base, WorkItem
from engine.timers import OFFICE_TZ

from . import HandlerContext, field_titles, handler, units

SUBJECTS: dict[str, tuple[str, str]] = {
    "party_committee": ("党委（党组）主体责任", "The party committee's primary responsibility"),
    "principal": ("主要负责人“第一责任人”责任", "The principal leader's first responsibility"),
    "members": ("班子成员“一岗双责”责任", "Members' dual responsibility of post and conduct"),
    "discipline": ("纪委（纪检组）监督责任", "The discipline body's supervisory responsibility"),
}
ITEMS_PER_LIST = 5  # 各五大具体责任事项 (seed 004)
LIGHTS: dict[str, tuple[str, str]] = {"red": ("红灯", "Red"), "yellow": ("黄灯", "Yellow"), "green": ("绿灯", "Green")}
STATUSES: dict[str, tuple[str, str]] = {"open": ("推进中", "In progress"), "closing": ("销号审核中", "Closing under review"),
                                        "closed": ("已销号", "Closed")}
TEXT_CHARS = 2000

field_titles({
    "key_task_id": ("重点任务编号", "Key task number"), "task_status": ("任务状态", "Task status"),
    "next_rating_at": ("下次季度评价时间", "Next quarterly rating"), "rating_quarter": ("评价季度", "Quarter rated"),
    "latest_light": ("最近亮灯", "Latest light"), "closing_comment": ("销号审核意见", "Closing review comment"),
    "updates": ("进展报送次数", "Progress updates"), "registered": ("登记结果", "Registration"),
    "progress_result": ("进展登记", "Progress recorded"), "rating_result": ("评价登记", "Rating recorded"),
    "review_result": ("审核登记", "Review recorded"), "reports_opened": ("开启的单位报告", "Unit reports opened"),
    "report_year": ("报告年度", "Report year"), "written_late": ("书面报告逾期", "Written report late"),
    "written_result": ("书面报告登记", "Written report recorded"), "hearing_result": ("当面汇报登记", "Hearing recorded"),
    "schedule_result": ("汇报安排登记", "Hearing scheduled"), "written_review_result": ("书面报告审核", "Written report review"),
})


# --- records --------------------------------------------------------------------------------------------------
class ResponsibilityItem(Base):
    """One item of a unit's responsibility list for a year (清单式定责)."""

    __tablename__ = "responsibility_item"
    id: Mapped[int] = mapped_column(primary_key=True)
    unit: Mapped[str] = mapped_column(String(200))
    year: Mapped[int] = mapped_column(Integer)
    subject: Mapped[str] = mapped_column(String(30))  # SUBJECTS
    position: Mapped[int] = mapped_column(Integer)  # 1..5
    text: Mapped[str] = mapped_column(Text, default="", server_default="")
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime]
    __table_args__ = (UniqueConstraint("unit", "year", "subject", "position", name="uq_responsibility_item"),)


class KeyTask(Base):
    """A unit's annual key task of party conduct (重点任务), one `key_task` case each."""

    __tablename__ = "key_task"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), unique=True)
    unit: Mapped[str] = mapped_column(String(200))
    year: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    leader: Mapped[str] = mapped_column(String(100))  # 责任领导, a person's name
    lead_office: Mapped[str] = mapped_column(String(200))  # 牵头科室
    target: Mapped[str] = mapped_column(Text)  # 工作目标
    measures: Mapped[str] = mapped_column(Text)  # 具体举措
    deadline: Mapped[date] = mapped_column(Date)  # 完成时间
    milestones: Mapped[list[Any]] = mapped_column(JSON, default=list)  # [{"name", "due"}] 时间节点
    status: Mapped[str] = mapped_column(String(20), default="open", server_default="open")
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    closed_at: Mapped[Optional[datetime]]
    closing_comment: Mapped[str] = mapped_column(Text, default="", server_default="")
    __table_args__ = (Index("ix_key_task_year_unit", "year", "unit"),)

    @property
    def status_name(self) -> str:
        return STATUSES.get(self.status, (self.status, ""))[0]


class ProgressUpdate(Base):
    """A progress report of a key task by its unit, with the files uploaded on that step (进展情况)."""

    __tablename__ = "key_task_progress"
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("key_task.id"), index=True)
    work_item_id: Mapped[Optional[int]]
    kind: Mapped[str] = mapped_column(String(20))  # progress / close (a closing request)
    text: Mapped[str] = mapped_column(Text)
    percent: Mapped[Optional[int]]
    attachment_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    by: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime]


class Rating(Base):
    """The quarterly light of a key task by the unit's discipline organization (红黄绿三色亮灯)."""

    __tablename__ = "key_task_rating"
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("key_task.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    quarter: Mapped[int] = mapped_column(Integer)  # 1..4
    light: Mapped[str] = mapped_column(String(10))  # LIGHTS
    reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    rated_by: Mapped[str] = mapped_column(String(200))
    rated_at: Mapped[datetime]
    __table_args__ = (UniqueConstraint("task_id", "year", "quarter", name="uq_key_task_rating_quarter"),)

    @property
    def light_name(self) -> str:
        return LIGHTS.get(self.light, (self.light, ""))[0]

    @property
    def quarter_name(self) -> str:
        return quarter_name(self.year, self.quarter)


class ResponsibilityReport(Base):
    """A unit's yearly report on its responsibility (立体式传责): written by end of January, heard by end of March."""

    __tablename__ = "responsibility_report"
    id: Mapped[int] = mapped_column(primary_key=True)
    unit: Mapped[str] = mapped_column(String(200))
    year: Mapped[int] = mapped_column(Integer)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), unique=True)
    written_due: Mapped[date] = mapped_column(Date)
    hearing_due: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="pending", server_default="pending")
    written_at: Mapped[Optional[datetime]]
    written_late: Mapped[bool] = mapped_column(default=False, server_default=false())
    face_to_face: Mapped[Optional[bool]]
    hearing_on: Mapped[Optional[date]] = mapped_column(Date)
    hearing_record: Mapped[list[Any]] = mapped_column(JSON, default=list)  # [{"member", "question", "comment"}]
    hearing_comment: Mapped[str] = mapped_column(Text, default="", server_default="")
    __table_args__ = (UniqueConstraint("unit", "year", name="uq_responsibility_report_unit_year"),)

    @property
    def status_name(self) -> str:
        return REPORT_STATUSES.get(self.status, (self.status, ""))[0]


REPORT_STATUSES: dict[str, tuple[str, str]] = {
    "pending": ("待报送书面报告", "Written report awaited"), "returned": ("书面报告退回修改", "Written report returned"),
    "written": ("书面报告已报送", "Written report in"), "accepted": ("书面报告已审核", "Written report accepted"),
    "scheduled": ("当面汇报已安排", "Hearing scheduled"), "heard": ("已当面汇报", "Heard"),
}


# --- time -----------------------------------------------------------------------------------------------------
def local(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc).astimezone(OFFICE_TZ)


def quarter_of(day: date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def quarter_name(year: int, quarter: int) -> str:
    return f"{year}年第{'一二三四'[quarter - 1]}季度"


def quarter_end(year: int, quarter: int) -> datetime:
    """The moment a quarter is over: 00:00 office time on the first day of the next (aware)."""
    nxt_year, nxt_month = (year + 1, 1) if quarter == 4 else (year, quarter * 3 + 1)
    return datetime.combine(date(nxt_year, nxt_month, 1), time(0, 0), OFFICE_TZ)


def _schedule_next_rating(data: dict[str, Any], now: datetime) -> None:
    """The quarter running now is rated once it is over: the case's quarterly timer waits for its end."""
    year, quarter = quarter_of(local(now).date())
    data["rating_year"], data["rating_q"] = year, quarter
    data["rating_quarter"] = quarter_name(year, quarter)
    data["next_rating_at"] = quarter_end(year, quarter).isoformat(timespec="seconds")


def _date(value: Any, field: str, what: str) -> date:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise InvalidData(f"{what}不是有效日期", details={field: ["请填写日期，如 2027-06-30"]}) from None


# --- key tasks ------------------------------------------------------------------------------------------------
def check_task(data: dict[str, Any]) -> tuple[date, list[dict[str, str]]]:
    """The deadline and milestones of a key task as entered, refused at the field that is wrong."""
    year = int(data.get("year") or 0)
    deadline = _date(data.get("deadline"), "deadline", "完成时间")
    if deadline.year < year:
        raise InvalidData("完成时间早于任务年度", details={"deadline": [f"完成时间不能早于 {year} 年"]})
    milestones = []
    for n, row in enumerate(data.get("milestones") or []):
        due = _date(row.get("due"), "milestones", f"第 {n + 1} 个时间节点的日期")
        if due > deadline:
            raise InvalidData("时间节点晚于完成时间", details={"milestones": [
                f"第 {n + 1} 个时间节点“{row.get('name', '')}”（{due.isoformat()}）晚于完成时间 {deadline.isoformat()}"]})
        milestones.append({"name": str(row.get("name") or "").strip(), "due": due.isoformat()})
    return deadline, sorted(milestones, key=lambda m: m["due"])


@handler("key_tasks.register")
def register(ctx: HandlerContext) -> dict[str, Any]:
    """The task as the unit entered it becomes a KeyTask record; the quarterly rating waits for the quarter's end."""
    data = ctx.data
    deadline, milestones = check_task(data)
    task = ctx.session.scalar(select(KeyTask).where(KeyTask.case_id == ctx.case_id))
    if task is None:
        task = KeyTask(case_id=ctx.case_id, created_by=ctx.actor, created_at=ctx.now, status="open")
        ctx.session.add(task)
    task.unit, task.year = ctx.unit or str(data.get("unit") or ""), int(data["year"])
    task.title, task.leader, task.lead_office = data["title"].strip(), data["leader"].strip(), data["lead_office"].strip()
    task.target, task.measures, task.deadline, task.milestones = data["target"], data["measures"], deadline, milestones
    ctx.session.flush()
    data["key_task_id"], data["task_status"], data["updates"] = task.id, "open", 0
    _schedule_next_rating(data, ctx.now)
    return {"key_task_id": task.id}


def _task(ctx: HandlerContext) -> KeyTask:
    return ctx.session.scalars(select(KeyTask).where(KeyTask.case_id == ctx.case_id)).one()


def _step_attachments(ctx: HandlerContext, step_id: str) -> tuple[int | None, list[int]]:
    """The ready work item of `step_id` (still ready while its step runs) and the files uploaded on it."""
    item_id = ctx.session.scalar(select(WorkItem.id).where(WorkItem.case_id == ctx.case_id, WorkItem.step_id == step_id,
                                                           WorkItem.status == "ready").order_by(WorkItem.id.desc()))
    if item_id is None:
        return None, []
    return item_id, list(ctx.session.scalars(select(Attachment.id).where(
        Attachment.case_id == ctx.case_id, Attachment.work_item_id == item_id).order_by(Attachment.id)))


@handler("key_tasks.record_progress")
def record_progress(ctx: HandlerContext) -> dict[str, Any]:
    """A progress update (or a closing request) with the files uploaded on the step."""
    data, task = ctx.data, _task(ctx)
    kind = data.get("action") or "progress"
    text = (data.get("progress_text") or "").strip()
    if not text:
        raise InvalidData("请填写进展情况", details={"progress_text": ["必填"]})
    item_id, files = _step_attachments(ctx, "update_progress")
    percent = data.get("percent")
    ctx.session.add(ProgressUpdate(task_id=task.id, work_item_id=item_id, kind=kind, text=text,
                                   percent=int(percent) if percent is not None else None, attachment_ids=files,
                                   by=ctx.actor, at=ctx.now))
    task.status = "closing" if kind == "close" else "open"
    data["task_status"] = task.status
    data["updates"] = int(data.get("updates") or 0) + 1
    return {"kind": kind, "attachments": len(files)}


@handler("key_tasks.rate")
def rate(ctx: HandlerContext) -> dict[str, Any]:
    """The light of the quarter just over; red needs a reason. The next quarter's rating is scheduled."""
    data, task = ctx.data, _task(ctx)
    light, reason = data.get("light"), (data.get("reason") or "").strip()
    if light not in LIGHTS:
        raise InvalidData("请选择亮灯颜色", details={"light": ["红灯、黄灯或绿灯"]})
    if light == "red" and not reason:
        raise InvalidData("亮红灯须说明理由", details={"reason": ["亮红灯须说明理由"]})
    year, quarter = int(data["rating_year"]), int(data["rating_q"])
    row = ctx.session.scalar(select(Rating).where(Rating.task_id == task.id, Rating.year == year, Rating.quarter == quarter))
    if row is None:
        row = Rating(task_id=task.id, year=year, quarter=quarter)
        ctx.session.add(row)
    row.light, row.reason, row.rated_by, row.rated_at = light, reason, ctx.actor, ctx.now
    data["latest_light"] = light
    rated = quarter_name(year, quarter)
    nxt_year, nxt_q = (year + 1, 1) if quarter == 4 else (year, quarter + 1)
    data["rating_year"], data["rating_q"], data["rating_quarter"] = nxt_year, nxt_q, quarter_name(nxt_year, nxt_q)
    data["next_rating_at"] = quarter_end(nxt_year, nxt_q).isoformat(timespec="seconds")
    return {"quarter": rated, "light": light}


@handler("key_tasks.review_closing")
def review_closing(ctx: HandlerContext) -> dict[str, Any]:
    """The discipline body closes the task (销号) or sends it back with its comment."""
    data, task = ctx.data, _task(ctx)
    decision, comment = data.get("closing_decision"), (data.get("closing_comment") or "").strip()
    if decision not in ("accept", "refuse"):
        raise InvalidData("请选择审核结论", details={"closing_decision": ["同意销号或退回"]})
    if decision == "refuse" and not comment:
        raise InvalidData("退回须说明理由", details={"closing_comment": ["退回须写明需补充或整改的内容"]})
    task.closing_comment = comment
    if decision == "accept":
        task.status, task.closed_at = "closed", ctx.now
    else:
        task.status = "open"
    data["task_status"] = task.status
    return {"decision": decision}


# --- yearly reports -------------------------------------------------------------------------------------------
def reporting_units(session: Session) -> list[str]:
    """Every active unit that reports: all but a tree's head with units under it (the level reported to)."""
    active = units.all_active(session)
    parents = {u.parent_id for u in active if u.parent_id is not None}
    return [u.name for u in active if not (u.parent_id is None and u.id in parents)]


def report_dates(year: int) -> dict[str, str]:
    return {"written_due": f"{year}-01-31", "hearing_opens": f"{year}-03-01T00:00:00+08:00",
            "hearing_due": f"{year}-03-31"}


@handler("key_tasks.open_reports")
def open_reports(ctx: HandlerContext) -> dict[str, Any]:
    """One report case per reporting unit for the year the schedule fired for (or this year, opened by hand);
    a unit that has its case for the year already is not opened twice."""
    year = int(ctx.data.get("scheduled_year") or ctx.data.get("report_year") or local(ctx.now).year)
    ctx.data["report_year"] = year
    have = set(ctx.session.scalars(select(ResponsibilityReport.unit).where(ResponsibilityReport.year == year)))
    opened = []
    for unit in reporting_units(ctx.session):
        if unit in have:
            continue
        dates = report_dates(year)
        case_id = ctx.start_case("unit_responsibility_report", {"unit": unit, "year": year, **dates})
        ctx.session.add(ResponsibilityReport(unit=unit, year=year, case_id=case_id, status="pending",
                                             written_due=date.fromisoformat(dates["written_due"]),
                                             hearing_due=date.fromisoformat(dates["hearing_due"]), hearing_record=[]))
        opened.append(unit)
    ctx.session.flush()
    ctx.data["reports_opened"] = len(opened)
    return {"year": year, "units": opened}


def _report(ctx: HandlerContext) -> ResponsibilityReport:
    row = ctx.session.scalar(select(ResponsibilityReport).where(ResponsibilityReport.case_id == ctx.case_id))
    if row is None:  # a case opened by hand for one unit
        year = int(ctx.data["year"])
        row = ResponsibilityReport(unit=ctx.unit, year=year, case_id=ctx.case_id, status="pending", hearing_record=[],
                                   written_due=_date(ctx.data.get("written_due"), "written_due", "书面报告期限"),
                                   hearing_due=_date(ctx.data.get("hearing_due"), "hearing_due", "当面汇报期限"))
        ctx.session.add(row)
    return row


@handler("key_tasks.record_written_report")
def record_written_report(ctx: HandlerContext) -> dict[str, Any]:
    row = _report(ctx)
    row.written_at, row.status = ctx.now, "written"
    row.written_late = local(ctx.now).date() > row.written_due
    ctx.data["written_late"] = row.written_late
    _, files = _step_attachments(ctx, "written_report")
    return {"late": row.written_late, "attachments": len(files)}


@handler("key_tasks.review_written_report")
def review_written_report(ctx: HandlerContext) -> dict[str, Any]:
    row, data = _report(ctx), ctx.data
    decision, comment = data.get("written_decision"), (data.get("written_comment") or "").strip()
    if decision == "return" and not comment:
        raise InvalidData("退回须说明理由", details={"written_comment": ["退回须写明需修改的内容"]})
    if decision == "return":
        row.status = "returned"
        return {"decision": decision}
    row.status, row.face_to_face = "accepted", data.get("face_to_face") == "yes"
    return {"decision": decision, "face_to_face": row.face_to_face}


@handler("key_tasks.schedule_hearing")
def schedule_hearing(ctx: HandlerContext) -> dict[str, Any]:
    row, data = _report(ctx), ctx.data
    on = _date(data.get("hearing_date"), "hearing_date", "汇报日期")
    if on > row.hearing_due:
        raise InvalidData("汇报日期晚于期限", details={"hearing_date": [f"须在 {row.hearing_due.isoformat()} 前"]})
    if on < local(ctx.now).date():
        raise InvalidData("汇报日期已过", details={"hearing_date": ["不能早于今天"]})
    row.hearing_on, row.status = on, "scheduled"
    return {"hearing_date": on.isoformat()}


@handler("key_tasks.record_hearing")
def record_hearing(ctx: HandlerContext) -> dict[str, Any]:
    row, data = _report(ctx), ctx.data
    record = [{"member": str(q.get("member") or "").strip(), "question": str(q.get("question") or "").strip(),
               "comment": str(q.get("comment") or "").strip()} for q in data.get("hearing_questions") or []]
    if not record:
        raise InvalidData("请记录纪委委员的询问和点评", details={"hearing_questions": ["至少一条"]})
    row.hearing_on = _date(data.get("held_on"), "held_on", "汇报日期")
    row.hearing_record, row.hearing_comment, row.status = record, (data.get("hearing_comment") or "").strip(), "heard"
    return {"questions": len(record)}


# --- reads ----------------------------------------------------------------------------------------------------
def latest_ratings(session: Session, task_ids: list[int]) -> dict[int, Rating]:
    out: dict[int, Rating] = {}
    if not task_ids:
        return out
    for row in session.scalars(select(Rating).where(Rating.task_id.in_(task_ids)).order_by(Rating.year, Rating.quarter)):
        out[row.task_id] = row  # later quarters overwrite earlier ones
    return out


def tasks(session: Session, units_: list[str] | None = None, year: int | None = None,
          light: str | None = None) -> list[tuple[KeyTask, Rating | None]]:
    """Key tasks (of the units and year given) with the latest light of each; `light` keeps that light only."""
    query = select(KeyTask)
    if units_ is not None:
        query = query.where(KeyTask.unit.in_(units_ or [""]))
    if year is not None:
        query = query.where(KeyTask.year == year)
    rows = list(session.scalars(query.order_by(KeyTask.unit, KeyTask.deadline, KeyTask.id)))
    latest = latest_ratings(session, [t.id for t in rows])
    out = [(t, latest.get(t.id)) for t in rows]
    if light is not None:
        out = [(t, r) for t, r in out if r is not None and r.light == light]
    return out


def light_counts(session: Session, units: list[str] | None, year: int) -> dict[str, dict[str, int]]:
    """Per unit: {"red", "yellow", "green", "unrated", "closed", "total"} for its key tasks of `year`, each task
    counted under the light of its latest quarterly rating (red + yellow + green + unrated = total); "closed"
    counts the tasks closed (销号), whatever their last light."""
    out: dict[str, dict[str, int]] = {}
    for task, rating in tasks(session, units, year):
        row = out.setdefault(task.unit, {"red": 0, "yellow": 0, "green": 0, "unrated": 0, "closed": 0, "total": 0})
        row[rating.light if rating is not None else "unrated"] += 1
        row["closed"] += task.status == "closed"
        row["total"] += 1
    return out


def progress(session: Session, task_id: int) -> list[ProgressUpdate]:
    return list(session.scalars(select(ProgressUpdate).where(ProgressUpdate.task_id == task_id)
                                .order_by(ProgressUpdate.at.desc(), ProgressUpdate.id.desc())))


def ratings(session: Session, task_id: int) -> list[Rating]:
    return list(session.scalars(select(Rating).where(Rating.task_id == task_id).order_by(Rating.year, Rating.quarter)))


def responsibility_lists(session: Session, unit: str, year: int) -> dict[str, list[str]]:
    """The four lists of a unit and year, five items each ("" where none is written yet)."""
    lists = {subject: [""] * ITEMS_PER_LIST for subject in SUBJECTS}
    for row in session.scalars(select(ResponsibilityItem).where(ResponsibilityItem.unit == unit,
                                                                ResponsibilityItem.year == year)):
        if row.subject in lists and 1 <= row.position <= ITEMS_PER_LIST:
            lists[row.subject][row.position - 1] = row.text
    return lists


def save_lists(session: Session, unit: str, year: int, lists: dict[str, list[str]], actor: str, now: datetime) -> int:
    """Write the four lists of a unit and year as given (all or nothing: the caller's transaction)."""
    problems = {}
    for subject, items in lists.items():
        if subject not in SUBJECTS:
            raise InvalidData("未知的责任主体", details={subject: ["未知的责任主体"]})
        for n, text in enumerate(items[:ITEMS_PER_LIST]):
            if len(text) > TEXT_CHARS:
                problems[f"{subject}_{n + 1}"] = [f"第 {n + 1} 项不超过 {TEXT_CHARS} 字"]
    if problems:
        raise InvalidData("责任清单有误", details=problems)
    existing = {(r.subject, r.position): r for r in session.scalars(select(ResponsibilityItem).where(
        ResponsibilityItem.unit == unit, ResponsibilityItem.year == year))}
    changed = 0
    for subject, items in lists.items():
        for n, text in enumerate(items[:ITEMS_PER_LIST]):
            text = text.strip()
            row = existing.get((subject, n + 1))
            if row is None:
                if not text:
                    continue
                row = ResponsibilityItem(unit=unit, year=year, subject=subject, position=n + 1, text="")
                session.add(row)
            if row.text != text:
                row.text, row.updated_by, row.updated_at = text, actor, now
                changed += 1
    return changed


def reports(session: Session, year: int, units_: list[str] | None = None) -> list[ResponsibilityReport]:
    query = select(ResponsibilityReport).where(ResponsibilityReport.year == year)
    if units_ is not None:
        query = query.where(ResponsibilityReport.unit.in_(units_ or [""]))
    return list(session.scalars(query.order_by(ResponsibilityReport.unit)))


def deadline_at(day: date) -> datetime:
    """A deadline day as a moment: its end in office time (naive UTC), as work items' deadlines are."""
    return datetime.combine(day, time(23, 59, 59), OFFICE_TZ).astimezone(timezone.utc).replace(tzinfo=None)


def overdue(task: KeyTask, now: datetime) -> bool:
    return task.status != "closed" and deadline_at(task.deadline) < now

