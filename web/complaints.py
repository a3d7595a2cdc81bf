"""信访举报 pages: the intake form (hotline, mailbox, report box, letters, inspections), the list with its filters
(open, reply overdue, by unit, source and routing) and one complaint's page.

For the discipline body, the leading office and supervisors (a supervisor limited to units sees complaints about
those units only); everyone else gets 403. Only the discipline body ever sees who made a complaint: the informant
is read from its own table, here, for that role alone.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from urllib.parse import quote

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import delete

from engine.access import Actor
from engine.errors import DubanError, Forbidden, InvalidData, NotFound
from engine.timers import office_date
from handlers import complaint as records
from handlers.accountability import decisions_for
from handlers.complaint import ROUTINGS, SOURCES, Complaint, ComplaintInformant, Filters
from handlers import units as org_units
from handlers.office_sheets import workbook_bytes

from .auth import current_actor, engine
from .i18n import english

bp = Blueprint("complaints", __name__, url_prefix="/complaints")

READERS = {"discipline", "leading_office", "supervisor"}
INTAKE = {"discipline", "leading_office"}
# Sources a clerk registers by hand; complaints from a public notice arrive through the joint audit.
INTAKE_SOURCES = [s for s in SOURCES if s != "pre_audit_notice"]
STATES = {"open": ("办理中", "Open"), "reply_overdue": ("答复逾期", "Reply overdue"),
          "overdue": ("逾期（调查或答复）", "Overdue (investigation or reply)"), "closed": ("已办结", "Closed")}
FLAGS = ("has_specific_clues", "about_principal_conduct", "found_in_appraisal_or_inspection", "against_unit")


def may_read(actor) -> bool:
    return actor.operator or bool(actor.roles & READERS)


def may_register(actor) -> bool:
    return actor.operator or bool(actor.roles & INTAKE)


def sees_informant(actor) -> bool:
    """The discipline body alone (seed 002: 举报人 protected); not the leading office, not supervisors."""
    return "discipline" in actor.roles


@bp.context_processor
def _names():
    """`named(table, code)`: a code by its name in the reader's language (the tables hold (中文, English))."""
    from handlers.accountability import ROLES, SEVERITIES
    from handlers.complaint import FINDINGS, REPLY_METHODS, REPLY_STATUSES, STATUSES
    from handlers.integrity_file import GROUNDS, OUTCOMES

    tables = {"source": SOURCES, "routing": ROUTINGS, "finding": FINDINGS, "reply": REPLY_STATUSES,
              "method": REPLY_METHODS, "status": STATUSES, "outcome": OUTCOMES, "ground": GROUNDS,
              "severity": SEVERITIES, "role": ROLES, "state": STATES}
    en = english()

    def named(table: str, code: str) -> str:
        pair = tables[table].get(code)
        if not pair:
            return code or "—"
        return pair[1][:1].upper() + pair[1][1:] if en else pair[0]

    return {"named": named}


@bp.before_request
def _readers_only():
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    if not may_read(current_actor()):
        raise Forbidden(_("只有纪委、领导小组办公室和督办人员可以查看信访举报"))
    return None


def _visible(actor, complaint: Complaint) -> bool:
    return actor.operator or actor.units is None or complaint.unit in actor.units


def _get(session, complaint_id: int) -> Complaint:
    complaint = session.get(Complaint, complaint_id)
    if complaint is None or complaint.case_id is None or not _visible(current_actor(), complaint):
        raise NotFound(_("举报件不存在"))
    return complaint


# --- intake -----------------------------------------------------------------------------------
def intake(eng, actor, form: dict[str, Any]) -> int:
    """Register a complaint and open its case; returns the case id. InvalidData at the field that is wrong, and
    then nothing is kept: the complaint row (and its informant) are written first, with no case, and removed
    again if the case cannot be opened."""
    if not may_register(actor):
        raise Forbidden(_("只有纪委和领导小组办公室可以登记信访举报"))
    source = str(form.get("source") or "")
    if source not in INTAKE_SOURCES:
        raise InvalidData("请选择举报来源", details={"source": ["请选择举报来源"]})
    received = str(form.get("received_on") or "").strip()
    try:
        received_on = date.fromisoformat(received) if received else None
    except ValueError:
        raise InvalidData("收件日期无效", details={"received_on": ["请输入有效日期（年-月-日）"]}) from None
    if received_on is None:
        raise InvalidData("请填写收件日期", details={"received_on": ["必填项"]})
    if received_on > office_date(eng.clock()):
        raise InvalidData("收件日期不能晚于今天", details={"received_on": ["不能晚于今天"]})
    flags = {k: form.get(k) in (True, "1", "on", "true") for k in FLAGS}
    fields = dict(source=source, unit=str(form.get("complaint_unit") or ""), summary=str(form.get("summary") or ""),
                  subject_name=str(form.get("cadre_name") or ""), subject_post=str(form.get("post") or ""),
                  clues=str(form.get("clues") or ""), informant_name=str(form.get("informant_name") or ""),
                  informant_contact=str(form.get("informant_contact") or ""))
    records.check_intake(**fields)  # every field checked before anything is written
    with eng.db.transaction() as session:
        complaint = records.new_complaint(session, actor=actor.username, now=eng.clock(), received_on=received_on,
                                          **fields)
        complaint_id = complaint.id
        data = records.start_data(complaint, specific_clues=flags["has_specific_clues"],
                                  about_principal_conduct=flags["about_principal_conduct"],
                                  found_in_check=flags["found_in_appraisal_or_inspection"],
                                  against_unit=flags["against_unit"])
    try:
        # the intake page's own check of the clerk's role stands for the start event's lane (leading office too)
        return eng.start_case("complaint", data, Actor(actor.username, actor.roles, None, operator=True))
    except Exception:
        with eng.db.transaction() as session:
            session.execute(delete(ComplaintInformant).where(ComplaintInformant.complaint_id == complaint_id))
            session.execute(delete(Complaint).where(Complaint.id == complaint_id, Complaint.case_id.is_(None)))
        raise


def _unit_names(session) -> list[str]:
    return sorted(set(org_units.names(org_units.all_active(session))) | set(records.units_with_complaints(session)))


@bp.route("/new")
@login_required
def new():
    if not may_register(current_actor()):
        raise Forbidden(_("只有纪委和领导小组办公室可以登记信访举报"))
    return _intake_page({"received_on": office_date(engine().clock()).isoformat()}, {})


def _intake_page(values: dict[str, Any], errors: dict[str, list[str]], status: int = 200):
    with engine().db.reading() as session:
        unit_names = _unit_names(session)
    return render_template("complaints/new.html", values=values, errors=errors, sources=INTAKE_SOURCES,
                           source_names=SOURCES, unit_names=unit_names,
                           today=office_date(engine().clock()).isoformat()), status


@bp.route("/new", methods=["POST"])
@login_required
def register():
    actor = current_actor()
    values = {k: v for k, v in request.form.items() if k != "csrf_token"}
    try:
        case_id = intake(engine(), actor, values)
    except InvalidData as err:
        flash(_("表单有误，请按提示修改后再提交。"), "error")
        errors = dict(err.details or {})
        if "complaint_unit" not in errors and "unit" in errors:
            errors["complaint_unit"] = errors.pop("unit")
        return _intake_page(values, errors, 400)
    except Forbidden:
        raise
    except DubanError as err:
        flash(_("未能登记：%(reason)s。您填写的内容保留在下方。", reason=err.message.rstrip("。")), "error")
        return _intake_page(values, {}, err.http_status)
    with engine().db.reading() as session:
        complaint = records.by_case(session, case_id)
        complaint_id = complaint.id
    flash(_("已登记举报件：编号 %(id)s。", id=complaint_id))
    return redirect(url_for("complaints.show", complaint_id=complaint_id))


# --- list ---------------------------------------------------------------------------------------
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _filters() -> Filters:
    args = request.args
    return Filters(state=args.get("state", "") if args.get("state", "") in STATES else "",
                   unit=args.get("unit", "").strip()[:200],
                   source=args.get("source", "") if args.get("source", "") in SOURCES else "",
                   routing=args.get("routing", "") if args.get("routing", "") in ROUTINGS else "")


def _rows(session, filters: Filters, now) -> list[Complaint]:
    actor = current_actor()
    return [c for c in records.search(session, filters, now) if _visible(actor, c)]


@bp.route("/list.xlsx")
@login_required
def export():
    """The complaint ledger (信访举报台账) as filtered; never the informant, whoever downloads it."""
    filters = _filters()
    now = engine().clock()
    today = office_date(now)
    with engine().db.reading() as session:
        rows = _rows(session, filters, now)
        table = [[c.id, c.received_on.isoformat(), c.source_name, c.unit, c.subject_name, c.subject_post, c.summary,
                  ("是" if c.must_investigate else "否") if c.must_investigate is not None else "",
                  "；".join(c.reasons), c.routing_name if c.routing else ("存档答复" if c.handling_decision == "file" else ""),
                  c.handling_body, c.investigation_due.isoformat() if c.investigation_due else "", c.finding_name,
                  c.reply_due.isoformat() if c.reply_due else "", c.reply_status_name,
                  c.replied_on.isoformat() if c.replied_on else "", "逾期" if c.overdue(today) else "", c.status_name]
                 for c in rows]
    columns = ["编号", "收件日期", "来源", "被反映单位", "被反映人", "职务", "反映问题", "是否必查", "必查理由", "办理方式",
               "承办机关", "调查期限", "调查结论", "答复期限", "答复情况", "答复日期", "逾期", "状态"]
    body = workbook_bytes("信访举报台账", columns, table, sheet_name="信访举报",
                          subtitle=f"截至 {today.isoformat()}，共 {len(table)} 件")
    name = quote(f"信访举报台账-{today.isoformat()}.xlsx")
    return Response(body, mimetype=XLSX, headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"})


@bp.route("/")
@login_required
def index():
    actor = current_actor()
    filters = _filters()
    now = engine().clock()
    with engine().db.reading() as session:
        rows = _rows(session, filters, now)
        unit_names = [u for u in records.units_with_complaints(session)
                      if actor.operator or actor.units is None or u in actor.units]
        for c in rows:
            session.expunge(c)
    return render_template("complaints/index.html", rows=rows, filters=filters, states=STATES, sources=SOURCES,
                           routings=ROUTINGS, unit_names=unit_names, today=office_date(now),
                           may_register=may_register(actor))


# --- one complaint ------------------------------------------------------------------------------
@bp.route("/<int:complaint_id>")
@login_required
def show(complaint_id: int):
    return _show(complaint_id, {}, {})


def _show(complaint_id: int, values: dict[str, Any], errors: dict[str, list[str]], status: int = 200):
    actor = current_actor()
    now = engine().clock()
    with engine().db.reading() as session:
        complaint = _get(session, complaint_id)
        informant = records.informant_for(session, complaint.id) if sees_informant(actor) else None
        if informant is not None:
            session.expunge(informant)
        assigned = records.assignment_result(session, complaint)
        case_ids = [i for i in (complaint.case_id, complaint.inquiry_case_id) if i]
        decisions = decisions_for(session, case_ids)
        for d, s in decisions:
            session.expunge(d)
            if s is not None:
                session.expunge(s)
        session.expunge(complaint)
    return render_template("complaints/show.html", c=complaint, informant=informant,
                           sees_informant=sees_informant(actor), assigned=assigned, decisions=decisions,
                           today=office_date(now), values=values, errors=errors), status


@bp.route("/<int:complaint_id>/informant", methods=["POST"])
@login_required
def informant(complaint_id: int):
    actor = current_actor()
    if not sees_informant(actor):
        raise Forbidden(_("只有纪委可以登记举报人信息"))
    values = {"informant_name": request.form.get("informant_name", ""),
              "informant_contact": request.form.get("informant_contact", "")}
    try:
        with engine().db.transaction() as session:
            complaint = _get(session, complaint_id)
            records.set_informant(session, complaint, values["informant_name"], values["informant_contact"],
                                  actor.username, engine().clock())
    except InvalidData as err:
        flash(_("表单有误，请按提示修改后再提交。"), "error")
        return _show(complaint_id, values, dict(err.details or {}), 400)
    flash(_("举报人信息已保存（仅纪委可见）。"))
    return redirect(url_for("complaints.show", complaint_id=complaint_id))
