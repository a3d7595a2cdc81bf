"""Complaints (信访举报, seeds 002 and 003): intake from the hotline, mailbox, report box, letters, inspections,
appraisals and the joint audit's pre-audit public notice; the 四个必查 decision; routing 直办 / 交办 / 转办 / 督办;
the investigation with its deadline; a reply to the informant for every complaint (事事有回音, 件件有着落).

The informant's identity is kept in its own table (`ComplaintInformant`), never in case data: the generic case
page, its timeline, the JSON API and every export read case data and events only, so they cannot show it.
Only the discipline body (纪委监委) reads it, through `informant_for` on the complaint pages.

A complaint case has no unit of its own (case.unit is ""): the unit concerned must not see a complaint against
it. A complaint assigned down (交办) opens a case of `complaint_assignment` for the unit concerned, which carries
the complaint's substance only.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, Iterable, Optional

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.errors import InvalidData
from engine.models import Base, Case
from engine.timers import office_date
from . import HandlerContext, code_names, field_titles, handler

SOURCES: dict[str, tuple[str, str]] = {
    "hotline": ("举报电话", "Hotline"),
    "mailbox": ("电子信箱", "E-mail box"),
    "report_box": ("举报箱", "Report box"),
    "letter": ("来信来访", "Letters and visits"),
    "inspection": ("明查暗访", "Open and covert inspection"),
    "appraisal": ("考察考核", "Appraisal and assessment"),
    "pre_audit_notice": ("审前公示", "Pre-audit public notice"),
    "group_appraisal": ("群众评议", "Group appraisal"),
    "questionnaire": ("问卷调查", "Questionnaire"),
}
# Sources that are themselves an appraisal or inspection (四个必查, the fourth).
FOUND_IN_CHECKS = {"inspection", "appraisal"}
ROUTINGS: dict[str, tuple[str, str]] = {
    "direct": ("直办", "Handled directly"),
    "assign": ("交办", "Assigned down"),
    "transfer": ("转办", "Transferred"),
    "supervise": ("督办", "Supervised"),
}
FINDINGS: dict[str, tuple[str, str]] = {
    "substantiated": ("属实", "Substantiated"),
    "partly": ("部分属实", "Partly substantiated"),
    "not_substantiated": ("不属实", "Not substantiated"),
}
REPLY_STATUSES: dict[str, tuple[str, str]] = {
    "pending": ("待答复", "Reply pending"),
    "sent": ("已答复", "Replied"),
    "impossible": ("无法答复（匿名）", "Cannot reply (anonymous)"),
}
REPLY_METHODS: dict[str, tuple[str, str]] = {
    "phone": ("电话告知", "Phone"), "letter": ("书面答复", "Letter"), "in_person": ("当面反馈", "In person"),
    "sms": ("短信", "Text message"), "email": ("电子邮件", "E-mail"),
}
RECEIVED_BY = {"letter": "来信", "phone": "来电", "visit": "来访", "mailbox": "意见箱或电子信箱"}  # at a public notice
STATUSES = {"open": ("办理中", "Open"), "closed": ("已办结", "Closed")}
SUMMARY_CHARS, CLUES_CHARS, NAME_CHARS, CONTACT_CHARS = 4000, 4000, 100, 200

code_names({**SOURCES, **ROUTINGS, **FINDINGS, **REPLY_METHODS})

field_titles({
    "complaint_id": ("举报登记编号", "Complaint no."),
    "complaint_unit": ("被反映单位", "Unit concerned"),
    "must_investigate": ("是否必查", "Must be investigated"),
    "must_investigate_reasons": ("必查理由", "Why it must be investigated"),
    "must_reason": ("必查理由", "Why it must be investigated"),
    "routing_name": ("办理方式", "Routing"),
    "finding_name": ("调查结论", "Finding"),
    "reply_status_name": ("答复情况", "Reply"),
    "assignment_case_id": ("交办项目", "Assignment case"),
    "public_complaint_case_ids": ("公示期间收到的举报", "Complaints from the public notice"),
    "real_name_or_contact": ("举报人署名或留有联系方式", "Informant gave a name or contact"),
    "has_specific_clues": ("反映问题有明确线索或具体内容", "Specific clues or content"),
    "about_principal_conduct": ("反映“一把手”用人问题或严重思想作风问题", "About a principal's use of people or conduct"),
    "found_in_appraisal_or_inspection": ("在干部考察考核检查中发现", "Found in an appraisal or inspection"),
    "against_unit": ("反映单位问题（一案双查）", "About the unit as a whole"),
    "open_leaders_inquiry": ("启动一案双查", "Leaders' inquiry opened"),
    "source_name": ("举报来源", "Source"),
    "next_follow_up": ("下次跟进日期", "Next follow-up"),
    "finding": ("调查结论", "Finding"),
})


class Complaint(Base):
    """One complaint (信访件): what it says, about whom, how it was decided, routed, investigated and answered."""

    __tablename__ = "complaint"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[Optional[int]] = mapped_column(ForeignKey("case.id"), unique=True)  # None until its case opened
    source: Mapped[str] = mapped_column(String(30))
    unit: Mapped[str] = mapped_column(String(200), index=True)  # the unit concerned
    subject_name: Mapped[str] = mapped_column(String(100), default="", server_default="")
    subject_post: Mapped[str] = mapped_column(String(200), default="", server_default="")
    summary: Mapped[str] = mapped_column(Text)
    clues: Mapped[str] = mapped_column(Text, default="", server_default="")
    anonymous: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")  # no name and no contact
    received_on: Mapped[date]
    campaign_id: Mapped[Optional[int]] = mapped_column(Integer, index=True)
    origin_case_id: Mapped[Optional[int]] = mapped_column(ForeignKey("case.id"), index=True)  # e.g. the joint audit
    must_investigate: Mapped[Optional[bool]] = mapped_column(Boolean)
    must_reasons: Mapped[str] = mapped_column(Text, default="[]", server_default="[]")  # JSON list of 中文 reasons
    handling_decision: Mapped[str] = mapped_column(String(20), default="", server_default="")  # investigate / file
    routing: Mapped[str] = mapped_column(String(20), default="", server_default="")
    handling_body: Mapped[str] = mapped_column(String(200), default="", server_default="")  # 转办/督办: the body
    transfer_letter_date: Mapped[Optional[date]]
    investigation_due: Mapped[Optional[date]]
    investigated_on: Mapped[Optional[date]]
    finding: Mapped[str] = mapped_column(String(20), default="", server_default="")
    finding_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    assignment_case_id: Mapped[Optional[int]] = mapped_column(ForeignKey("case.id"))
    reply_due: Mapped[Optional[date]]
    reply_status: Mapped[str] = mapped_column(String(20), default="pending", server_default="pending")
    replied_on: Mapped[Optional[date]]
    reply_method: Mapped[str] = mapped_column(String(20), default="", server_default="")
    reply_note: Mapped[str] = mapped_column(Text, default="", server_default="")
    inquiry_case_id: Mapped[Optional[int]] = mapped_column(ForeignKey("case.id"))  # 一案双查
    status: Mapped[str] = mapped_column(String(20), default="open", server_default="open")
    created_by: Mapped[str] = mapped_column(String(100), default="", server_default="")
    created_at: Mapped[datetime]
    closed_at: Mapped[Optional[datetime]]

    @property
    def source_name(self) -> str:
        return SOURCES.get(self.source, (self.source, ""))[0]

    @property
    def routing_name(self) -> str:
        return ROUTINGS.get(self.routing, (self.routing, ""))[0]

    @property
    def finding_name(self) -> str:
        return FINDINGS.get(self.finding, (self.finding, ""))[0]

    @property
    def reply_status_name(self) -> str:
        return REPLY_STATUSES.get(self.reply_status, (self.reply_status, ""))[0]

    @property
    def reply_method_name(self) -> str:
        return REPLY_METHODS.get(self.reply_method, (self.reply_method, ""))[0]

    @property
    def status_name(self) -> str:
        return STATUSES.get(self.status, (self.status, ""))[0]

    @property
    def reasons(self) -> list[str]:
        try:
            value = json.loads(self.must_reasons or "[]")
        except ValueError:
            return []
        return [str(v) for v in value] if isinstance(value, list) else []

    def reply_overdue(self, today: date) -> bool:
        return self.reply_status == "pending" and self.reply_due is not None and today > self.reply_due

    def investigation_overdue(self, today: date) -> bool:
        return (self.investigation_due is not None and self.investigated_on is None and not self.finding
                and self.handling_decision != "file" and today > self.investigation_due)

    def overdue(self, today: date) -> bool:
        return self.status == "open" and (self.reply_overdue(today) or self.investigation_overdue(today))


class ComplaintInformant(Base):
    """Who made the complaint: read by the discipline body only (never copied into case data or events)."""

    __tablename__ = "complaint_informant"
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id"), unique=True)
    name: Mapped[str] = mapped_column(String(NAME_CHARS), default="", server_default="")
    contact: Mapped[str] = mapped_column(String(CONTACT_CHARS), default="", server_default="")
    recorded_by: Mapped[str] = mapped_column(String(100), default="", server_default="")
    recorded_at: Mapped[datetime]


# --- checks ------------------------------------------------------------------------------------
def _text(value: Any, field: str, limit: int, title: str, required: bool = False) -> str:
    text = str(value or "").strip() if value is not None else ""
    if required and not text:
        raise InvalidData(f"请填写{title}", details={field: ["必填项"]})
    if len(text) > limit:
        raise InvalidData(f"{title}过长", details={field: [f"不超过 {limit} 字"]})
    return text


def _date(value: Any, field: str, title: str, required: bool = False) -> date | None:
    if value in (None, ""):
        if required:
            raise InvalidData(f"请填写{title}", details={field: ["必填项"]})
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise InvalidData(f"{title}格式应为 年-月-日", details={field: ["请输入有效日期（年-月-日）"]}) from None


def check_intake(*, source: str, unit: str, summary: str, subject_name: str = "", subject_post: str = "",
                 clues: str = "", informant_name: str = "", informant_contact: str = "") -> dict[str, str]:
    """The intake fields cleaned, or InvalidData at the first wrong field."""
    if source not in SOURCES:
        raise InvalidData("举报来源无效", details={"source": [f"未知的来源：{source or '（空）'}"]})
    return {"source": source,
            "unit": _text(unit, "complaint_unit", 200, "被反映单位", required=True),
            "summary": _text(summary, "summary", SUMMARY_CHARS, "反映问题摘要", required=True),
            "subject_name": _text(subject_name, "cadre_name", NAME_CHARS, "被反映人"),
            "subject_post": _text(subject_post, "post", 200, "被反映人职务"),
            "clues": _text(clues, "clues", CLUES_CHARS, "问题线索"),
            "informant_name": _text(informant_name, "informant_name", NAME_CHARS, "举报人姓名"),
            "informant_contact": _text(informant_contact, "informant_contact", CONTACT_CHARS, "举报人联系方式")}


def new_complaint(session: Session, *, actor: str, now: datetime, received_on: date | None = None,
                  campaign_id: int | None = None, origin_case_id: int | None = None, **fields: str) -> Complaint:
    """A complaint row (and its informant, when named), not yet tied to a case."""
    clean = check_intake(**fields)
    name, contact = clean.pop("informant_name"), clean.pop("informant_contact")
    complaint = Complaint(**clean, anonymous=not (name or contact), received_on=received_on or office_date(now),
                          campaign_id=campaign_id, origin_case_id=origin_case_id, created_by=actor, created_at=now)
    session.add(complaint)
    session.flush()
    if name or contact:
        session.add(ComplaintInformant(complaint_id=complaint.id, name=name, contact=contact, recorded_by=actor,
                                       recorded_at=now))
        session.flush()
    return complaint


def start_data(complaint: Complaint, *, specific_clues: bool | None = None, about_principal_conduct: bool = False,
               found_in_check: bool = False, against_unit: bool = False) -> dict[str, Any]:
    """The complaint case's start data: the substance of the complaint, never the informant's identity."""
    data: dict[str, Any] = {
        "complaint_id": complaint.id, "source": complaint.source, "complaint_unit": complaint.unit,
        "summary": complaint.summary, "received_on": complaint.received_on.isoformat(),
        "has_specific_clues": bool(complaint.clues) if specific_clues is None else bool(specific_clues),
        "real_name_or_contact": not complaint.anonymous,
        "about_principal_conduct": bool(about_principal_conduct),
        "found_in_appraisal_or_inspection": bool(found_in_check) or complaint.source in FOUND_IN_CHECKS,
        "against_unit": bool(against_unit),
    }
    for key, value in (("cadre_name", complaint.subject_name), ("post", complaint.subject_post),
                       ("clues", complaint.clues)):
        if value:
            data[key] = value
    return data


# --- the contract other parts call --------------------------------------------------------------
def open_complaint(ctx: HandlerContext, *, source: str, unit: str, summary: str, subject_name: str = "",
                   subject_post: str = "", informant_name: str = "", informant_contact: str = "",
                   campaign_id: int | None = None, clues: str = "", informant_identified: bool = False,
                   about_principal_conduct: bool = False, received_on: date | None = None,
                   specific_clues: bool | None = None) -> int:
    """Open a complaint case in the current step's transaction; returns its case id.

    `specific_clues` (default: clues were given) is the first of the four musts; `informant_identified` says the informant gave a name or contact that is held elsewhere (a public notice's
    complaints are entered by the audit team, who hand the identity to the discipline body, not into the audit
    case). InvalidData names the field that is wrong; nothing is opened then."""
    if ctx.start_case is None:
        raise RuntimeError("open_complaint needs an engine step (ctx.start_case)")
    complaint = new_complaint(ctx.session, actor=ctx.actor, now=ctx.now, received_on=received_on,
                              campaign_id=campaign_id, origin_case_id=ctx.case_id or None, source=source, unit=unit,
                              summary=summary, subject_name=subject_name, subject_post=subject_post, clues=clues,
                              informant_name=informant_name, informant_contact=informant_contact)
    data = start_data(complaint, specific_clues=specific_clues, about_principal_conduct=about_principal_conduct)
    if informant_identified:
        data["real_name_or_contact"] = True
        complaint.anonymous = False
    case_id = ctx.start_case("complaint", data)
    complaint.case_id = case_id
    ctx.session.flush()
    return case_id


def complaint_counts(session: Session, units: list[str] | None, campaign_id: int | None = None,
                     now: datetime | None = None) -> dict[str, dict[str, int]]:
    """Per unit concerned: received, answered (reply sent), overdue (reply or investigation past its deadline and
    not done), open. `units` None: every unit; `campaign_id`: that campaign's complaints only."""
    today = office_date(now or datetime.now(timezone.utc).replace(tzinfo=None))
    query = select(Complaint).where(Complaint.case_id.is_not(None))
    if units is not None:
        if not units:
            return {}
        query = query.where(Complaint.unit.in_(list(units)))
    if campaign_id is not None:
        query = query.where(Complaint.campaign_id == campaign_id)
    out: dict[str, dict[str, int]] = {u: {"received": 0, "answered": 0, "overdue": 0, "open": 0} for u in units or []}
    for c in session.scalars(query):
        row = out.setdefault(c.unit, {"received": 0, "answered": 0, "overdue": 0, "open": 0})
        row["received"] += 1
        row["answered"] += c.reply_status == "sent"
        row["overdue"] += c.overdue(today)
        row["open"] += c.status == "open"
    return out


# --- read side ----------------------------------------------------------------------------------
def by_case(session: Session, case_id: int) -> Complaint | None:
    return session.scalar(select(Complaint).where(Complaint.case_id == case_id))


def informant_for(session: Session, complaint_id: int) -> ComplaintInformant | None:
    """The informant of a complaint. Call it only for the discipline body (web/complaints.py checks the role)."""
    return session.scalar(select(ComplaintInformant).where(ComplaintInformant.complaint_id == complaint_id))


def set_informant(session: Session, complaint: Complaint, name: str, contact: str, actor: str, now: datetime) -> None:
    """The discipline body records (or corrects) who made the complaint, e.g. one handed over from a public notice."""
    name = _text(name, "informant_name", NAME_CHARS, "举报人姓名")
    contact = _text(contact, "informant_contact", CONTACT_CHARS, "举报人联系方式")
    row = informant_for(session, complaint.id)
    if row is None:
        row = ComplaintInformant(complaint_id=complaint.id, recorded_at=now)
        session.add(row)
    row.name, row.contact, row.recorded_by, row.recorded_at = name, contact, actor, now
    if name or contact:
        complaint.anonymous = False
    session.flush()


@dataclass
class Filters:
    state: str = ""  # "" all / open / closed / reply_overdue / overdue
    unit: str = ""
    source: str = ""
    routing: str = ""


def search(session: Session, filters: Filters, now: datetime, limit: int = 500) -> list[Complaint]:
    today = office_date(now)
    query = select(Complaint).where(Complaint.case_id.is_not(None))
    if filters.unit:
        query = query.where(Complaint.unit == filters.unit)
    if filters.source:
        query = query.where(Complaint.source == filters.source)
    if filters.routing:
        query = query.where(Complaint.routing == filters.routing)
    if filters.state in ("open", "closed"):
        query = query.where(Complaint.status == filters.state)
    rows = list(session.scalars(query.order_by(Complaint.received_on.desc(), Complaint.id.desc()).limit(limit)))
    if filters.state == "reply_overdue":
        rows = [c for c in rows if c.status == "open" and c.reply_overdue(today)]
    elif filters.state == "overdue":
        rows = [c for c in rows if c.overdue(today)]
    return rows


def units_with_complaints(session: Session) -> list[str]:
    return list(session.scalars(select(Complaint.unit).where(Complaint.case_id.is_not(None)).distinct()
                                .order_by(Complaint.unit)))


def from_case(session: Session, case_ids: Iterable[int]) -> list[Complaint]:
    ids = list(case_ids)
    if not ids:
        return []
    return list(session.scalars(select(Complaint).where(Complaint.origin_case_id.in_(ids))
                                .order_by(Complaint.id)))


def _complaint(ctx: HandlerContext) -> Complaint:
    complaint = by_case(ctx.session, ctx.case_id)
    if complaint is None:
        raise InvalidData("本项目没有对应的举报登记", details={"complaint_id": ["未找到"]})
    return complaint


# --- the process's handlers ----------------------------------------------------------------------
def _bool(value: Any) -> bool:
    return value is True


@handler("complaint.register")
def register(ctx: HandlerContext) -> dict[str, Any]:
    """Tie the complaint registered by the intake page (or opened by another case) to this case; a complaint
    opened from the generic start page is registered here from its start data (no informant: none was asked)."""
    complaint_id = ctx.data.get("complaint_id")
    if complaint_id:
        complaint = ctx.session.get(Complaint, complaint_id)
        if complaint is None or (complaint.case_id is not None and complaint.case_id != ctx.case_id):
            raise InvalidData("登记编号无效或已立项", details={"complaint_id": [f"登记编号 {complaint_id} 不可用"]})
        complaint.case_id = ctx.case_id
    else:
        complaint = new_complaint(
            ctx.session, actor=ctx.actor, now=ctx.now,
            received_on=_date(ctx.data.get("received_on"), "received_on", "收件日期"),
            source=str(ctx.data.get("source") or ""), unit=str(ctx.data.get("complaint_unit") or ""),
            summary=str(ctx.data.get("summary") or ""), subject_name=str(ctx.data.get("cadre_name") or ""),
            subject_post=str(ctx.data.get("post") or ""), clues=str(ctx.data.get("clues") or ""))
        complaint.case_id = ctx.case_id
        complaint.anonymous = not _bool(ctx.data.get("real_name_or_contact"))
        ctx.data["complaint_id"] = complaint.id
    ctx.session.flush()
    # the decision table's inputs, all truth values
    ctx.data["has_specific_clues"] = _bool(ctx.data.get("has_specific_clues"))
    ctx.data["real_name_or_contact"] = _bool(ctx.data.get("real_name_or_contact")) or not complaint.anonymous
    ctx.data["about_principal_conduct"] = _bool(ctx.data.get("about_principal_conduct"))
    ctx.data["found_in_appraisal_or_inspection"] = (_bool(ctx.data.get("found_in_appraisal_or_inspection"))
                                                    or complaint.source in FOUND_IN_CHECKS)
    ctx.data["against_unit"] = _bool(ctx.data.get("against_unit"))
    ctx.data["open_leaders_inquiry"] = False
    ctx.data["source_name"] = complaint.source_name
    return {"complaint_id": complaint.id}


@handler("complaint.record_assessment")
def record_assessment(ctx: HandlerContext) -> dict[str, Any]:
    """The must_investigate table (COLLECT) gave a list per output, or nothing when no rule fired."""
    flags = ctx.data.get("must_investigate_hit")
    flags = flags if isinstance(flags, list) else [flags] if flags is not None else []
    reasons = ctx.data.get("must_reason")
    reasons = reasons if isinstance(reasons, list) else [reasons] if reasons else []
    must = any(f is True for f in flags)
    complaint = _complaint(ctx)
    complaint.must_investigate = must
    complaint.must_reasons = json.dumps([str(r) for r in reasons], ensure_ascii=False)
    ctx.data["must_investigate"] = must
    ctx.data["must_investigate_reasons"] = "；".join(str(r) for r in reasons) if reasons else "不属四个必查情形"
    return {"must_investigate": must, "reasons": reasons}


@handler("complaint.record_handling")
def record_handling(ctx: HandlerContext) -> dict[str, Any]:
    """A complaint outside the four musts: investigated anyway, or filed with a reply (never dropped)."""
    complaint = _complaint(ctx)
    decision = str(ctx.data.get("handling_decision") or "")
    if decision not in ("investigate", "file"):
        raise InvalidData("请选择处理决定", details={"handling_decision": ["必填项"]})
    complaint.handling_decision = decision
    if decision == "file":
        ctx.data.setdefault("finding", "")  # filed uninvestigated: no finding, nothing to hold to account
    complaint.reply_due = _date(ctx.data.get("reply_deadline"), "reply_deadline", "答复期限", required=True)
    return {"handling_decision": decision}


@handler("complaint.record_routing")
def record_routing(ctx: HandlerContext) -> dict[str, Any]:
    complaint = _complaint(ctx)
    routing = str(ctx.data.get("routing") or "")
    if routing not in ROUTINGS:
        raise InvalidData("请选择办理方式", details={"routing": ["必填项"]})
    investigation_due = _date(ctx.data.get("investigation_deadline"), "investigation_deadline", "调查期限", required=True)
    reply_due = _date(ctx.data.get("reply_deadline"), "reply_deadline", "答复期限", required=True)
    body = _text(ctx.data.get("handling_body"), "handling_body", 200, "承办机关")
    if routing in ("transfer", "supervise") and not body:
        raise InvalidData("转办、督办须写明承办机关", details={"handling_body": ["必填项"]})
    complaint.routing = routing
    complaint.handling_body = body if routing in ("transfer", "supervise") else (complaint.unit if routing == "assign" else "")
    complaint.transfer_letter_date = _date(ctx.data.get("transfer_letter_date"), "transfer_letter_date", "转办函日期")
    complaint.investigation_due, complaint.reply_due = investigation_due, reply_due
    if complaint.handling_decision == "":
        complaint.handling_decision = "investigate"
    if routing == "supervise":
        first = _date(ctx.data.get("first_follow_up"), "first_follow_up", "首次跟进日期") or investigation_due
        ctx.data["next_follow_up"] = first.isoformat()
    ctx.data["routing_name"] = complaint.routing_name
    return {"routing": routing}


@handler("complaint.assign_down")
def assign_down(ctx: HandlerContext) -> dict[str, Any]:
    """交办: a case for the unit concerned with the complaint's substance (never the informant)."""
    complaint = _complaint(ctx)
    data: dict[str, Any] = {"unit": complaint.unit, "complaint_case_id": ctx.case_id, "summary": complaint.summary,
                            "investigation_deadline": complaint.investigation_due.isoformat()}
    for key, value in (("cadre_name", complaint.subject_name), ("post", complaint.subject_post),
                       ("clues", complaint.clues), ("routing_note", str(ctx.data.get("routing_note") or ""))):
        if value:
            data[key] = value
    child = ctx.start_case("complaint_assignment", data)
    complaint.assignment_case_id = child
    ctx.data["assignment_case_id"] = child
    return {"assignment_case_id": child}


def _assignment(session: Session, complaint_case_id: int) -> Complaint | None:
    return by_case(session, complaint_case_id)


@handler("complaint.check_assignment")
def check_assignment(ctx: HandlerContext) -> dict[str, Any]:
    """An assignment case belongs to a complaint routed 交办 to this very unit and not yet assigned: one opened by
    hand for anything else is refused at its start."""
    complaint = _assignment(ctx.session, int(ctx.data.get("complaint_case_id") or 0))
    if complaint is None or complaint.routing != "assign" or complaint.assignment_case_id is not None:
        raise InvalidData("没有待交办的举报件", details={"complaint_case_id": ["该项目不是待交办的举报件"]})
    if complaint.unit != ctx.unit:
        raise InvalidData("承办单位应为被反映单位", details={"unit": [f"应为 {complaint.unit}"]})
    return {"complaint_id": complaint.id}


@handler("complaint.report_assigned_result")
def report_assigned_result(ctx: HandlerContext) -> dict[str, Any]:
    """The assigned unit's result goes back to the complaint, where the discipline commission reviews it."""
    complaint = _assignment(ctx.session, int(ctx.data.get("complaint_case_id") or 0))
    if complaint is None or complaint.assignment_case_id != ctx.case_id:
        raise InvalidData("交办件对应的举报不存在", details={"complaint_case_id": ["未找到"]})
    finding = str(ctx.data.get("finding") or "")
    if finding not in FINDINGS:
        raise InvalidData("请选择调查结论", details={"finding": ["必填项"]})
    ctx.data["finding_name"] = FINDINGS[finding][0]
    return {"reported": True, "finding": finding}


def assignment_result(session: Session, complaint: Complaint) -> dict[str, Any] | None:
    """What the assigned unit reported (from its case), or None while it has not."""
    if complaint.assignment_case_id is None:
        return None
    case = session.get(Case, complaint.assignment_case_id)
    if case is None or case.status != "completed":
        return None
    data = json.loads(case.data_json or "{}")
    return {"finding": data.get("finding"), "finding_name": FINDINGS.get(data.get("finding"), ("", ""))[0],
            "finding_text": data.get("finding_text") or "", "investigated_on": data.get("investigated_on") or "",
            "measures": data.get("measures") or "", "case_id": case.id}


@handler("complaint.check_assigned_result")
def check_assigned_result(ctx: HandlerContext) -> dict[str, Any]:
    complaint = _complaint(ctx)
    if assignment_result(ctx.session, complaint) is None:
        raise InvalidData("承办单位尚未报送调查结果，暂不能审核",
                          details={"finding": [f"{complaint.unit}尚未报送交办件（项目 {complaint.assignment_case_id}）的调查结果"]})
    return {"checked": True}


@handler("complaint.record_finding")
def record_finding(ctx: HandlerContext) -> dict[str, Any]:
    complaint = _complaint(ctx)
    finding = str(ctx.data.get("finding") or "")
    if finding not in FINDINGS:
        raise InvalidData("请选择调查结论", details={"finding": ["必填项"]})
    complaint.finding = finding
    complaint.finding_text = _text(ctx.data.get("finding_text"), "finding_text", 4000, "调查情况")
    complaint.investigated_on = _date(ctx.data.get("investigated_on"), "investigated_on", "结论日期") or office_date(ctx.now)
    ctx.data["finding_name"] = complaint.finding_name
    return {"finding": finding}


@handler("complaint.record_reply")
def record_reply(ctx: HandlerContext) -> dict[str, Any]:
    """事事有回音: sent (date and method), or impossible for an anonymous complaint without a contact (reason)."""
    complaint = _complaint(ctx)
    status = str(ctx.data.get("reply_status") or "")
    if status == "sent":
        complaint.replied_on = _date(ctx.data.get("replied_on"), "replied_on", "答复日期", required=True)
        method = str(ctx.data.get("reply_method") or "")
        if method not in REPLY_METHODS:
            raise InvalidData("请选择答复方式", details={"reply_method": ["必填项"]})
        if complaint.replied_on < complaint.received_on:
            raise InvalidData("答复日期不能早于收件日期", details={"replied_on": [f"收件日期为 {complaint.received_on}"]})
        complaint.reply_method = method
        complaint.reply_note = _text(ctx.data.get("reply_note"), "reply_note", 2000, "答复内容")
    elif status == "impossible":
        if not complaint.anonymous:
            raise InvalidData("举报人署名或留有联系方式的，必须答复", details={"reply_status": ["请登记答复"]})
        reason = _text(ctx.data.get("impossible_reason"), "impossible_reason", 1000, "无法答复的理由", required=True)
        complaint.reply_note = reason
        complaint.replied_on = None
    else:
        raise InvalidData("请选择答复情况", details={"reply_status": ["必填项"]})
    complaint.reply_status = status
    ctx.data["reply_status_name"] = complaint.reply_status_name
    return {"reply_status": status}


@handler("complaint.close")
def close(ctx: HandlerContext) -> dict[str, Any]:
    complaint = _complaint(ctx)
    complaint.status, complaint.closed_at = "closed", ctx.now
    return {"closed": True}


@handler("complaint.from_public_notice")
def from_public_notice(ctx: HandlerContext) -> dict[str, Any]:
    """Complaints received during the joint audit's pre-audit public notice (审前公示/审前告知) become complaint
    cases (source pre_audit_notice), linked back to this audit case. An empty list opens nothing."""
    entries = ctx.data.get("public_complaints") or []
    opened = []
    for n, entry in enumerate(entries if isinstance(entries, list) else [], 1):
        if not isinstance(entry, dict):
            continue
        try:
            opened.append(open_complaint(
                ctx, source="pre_audit_notice", unit=ctx.unit, summary=str(entry.get("summary") or ""),
                subject_name=str(entry.get("subject_name") or ctx.data.get("cadre_name") or ""),
                subject_post=str(entry.get("subject_post") or ctx.data.get("post") or ""),
                clues="；".join(part for part in (
                    f"收到方式：{RECEIVED_BY[entry['received_by']]}" if entry.get("received_by") in RECEIVED_BY else "",
                    str(entry.get("clues") or "").strip()) if part), informant_identified=entry.get("informant_identified") is True,
                about_principal_conduct=entry.get("about_principal_conduct") is True,
                specific_clues=bool(str(entry.get("clues") or "").strip()),
                received_on=_date(entry.get("received_on"), "public_complaints", "收到日期")))
        except InvalidData as err:
            raise InvalidData(f"公示期间收到的第 {n} 件反映：{err.message}",
                              details={"public_complaints": [f"第 {n} 件：{err.message}"]}) from None
    if opened:
        ctx.data["public_complaint_case_ids"] = list(ctx.data.get("public_complaint_case_ids") or []) + opened
    return {"opened": opened}
