"""治庸问责 pages: the campaigns of an office (draft one with the provincial plan's windows, edit them before launch,
launch it), a campaign's page (windows, participating units, 明查暗访), the dashboard per unit and phase with its
Excel, and a unit's page (its deliverables, inspections and case).

The leading office and supervisors see the campaigns of the units in their scope; a unit clerk sees his own
unit's page only — never another unit's, nor the dashboard. Views call handlers.campaign; records only.
"""
from __future__ import annotations

from datetime import timezone
from urllib.parse import quote

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from engine.errors import DubanError, Forbidden, InvalidData, NotFound
from engine.timers import OFFICE_TZ
from handlers import units as org_units
from handlers.campaign import dashboard as board
from handlers.campaign import windows as w
from handlers.campaign.records import (CAMPAIGN_STATUSES, DELIVERABLE_STATUSES, DELIVERABLES, INSPECTION_MODES, PHASES,
                                       Campaign, CampaignUnit)
from handlers.campaign.steps import office_case_title, record_inspection
from handlers.office_sheets import workbook_bytes

from .auth import current_actor, engine

bp = Blueprint("campaign", __name__, url_prefix="/campaigns")
OFFICE_ROLES = frozenset({"leading_office", "supervisor"})
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STATE_NAMES = {**{k: v[0] for k, v in DELIVERABLE_STATUSES.items()}, "missing": "逾期未报"}


@bp.before_request
def _signed_in():
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    return None


def _office_user() -> bool:
    actor = current_actor()
    return actor.operator or bool(actor.roles & OFFICE_ROLES)


def _campaign(session, campaign_id: int) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(_("活动不存在"))
    return campaign


def _require_office(campaign: Campaign) -> None:
    """The leading office and supervisors of the campaign's leading unit (a unit clerk never)."""
    actor = current_actor()
    if not _office_user() or not actor.in_scope(campaign.issuing_office):
        raise Forbidden(_("治庸问责活动由领导小组办公室和领导小组查看"))


def _today():
    return engine().clock().replace(tzinfo=timezone.utc).astimezone(OFFICE_TZ).date()


@bp.route("/")
def index():
    actor = current_actor()
    with engine().db.reading() as session:
        campaigns = [c for c in session.scalars(select(Campaign).order_by(Campaign.year.desc(), Campaign.id.desc()))
                     if _office_user() and actor.in_scope(c.issuing_office)]
        mine = []
        if actor.units is not None and "unit" in actor.roles:
            rows = session.execute(select(CampaignUnit, Campaign).join(Campaign, Campaign.id == CampaignUnit.campaign_id)
                                   .where(CampaignUnit.unit.in_(sorted(actor.units)), Campaign.status != "draft")
                                   .order_by(Campaign.id.desc())).all()
            mine = [(row, campaign) for row, campaign in rows]
        offices = [u for u in org_units.all_active(session) if actor.in_scope(u.name)]
        all_units = org_units.all_active(session)
        unit_tree = [r for r in org_units.tree(session) if r.unit.active]
    return render_template("campaign/index.html", campaigns=campaigns, mine=mine, offices=offices, all_units=all_units,
                           unit_tree=unit_tree,
                           statuses=CAMPAIGN_STATUSES, year=_today().year, may_draft=_may_draft(),
                           values=request.form if request.method == "POST" else {})


def _may_draft() -> bool:
    actor = current_actor()
    return actor.operator or "leading_office" in actor.roles


@bp.route("/", methods=["POST"])
def create():
    if not _may_draft():
        raise Forbidden(_("治庸问责活动由领导小组办公室部署"))
    actor = current_actor()
    office = request.form.get("office", "").strip()
    if not actor.in_scope(office):
        raise Forbidden(_("您无权为此单位部署活动"))
    try:
        year = int(request.form.get("year", ""))
    except ValueError:
        flash(_("年度应为数字，例如 2027。"), "error")
        return index(), 400
    try:
        with engine().db.transaction() as session:
            campaign = w.draft(session, name=request.form.get("name", ""), office=office, year=year,
                               units=request.form.getlist("units"), actor=actor.username, now=engine().clock())
            campaign_id = campaign.id
    except InvalidData as err:
        flash(_("未能建立活动：%(reason)s", reason=err.message), "error")
        return index(), 400
    flash(_("已建立活动（按省直机关实施方案的时间），请核对各阶段时间后部署。"))
    return redirect(url_for("campaign.view", campaign_id=campaign_id))


def _view_context(session, campaign: Campaign) -> dict:
    windows, deadlines = w.windows_of(session, campaign.id)
    units = list(session.scalars(select(CampaignUnit).where(CampaignUnit.campaign_id == campaign.id)
                                 .order_by(CampaignUnit.unit)))
    children = list(session.scalars(select(Campaign).where(Campaign.parent_id == campaign.id)))
    parent = session.get(Campaign, campaign.parent_id) if campaign.parent_id else None
    inspections = list(session.execute(select(board.Inspection).where(board.Inspection.campaign_id == campaign.id)
                                       .order_by(board.Inspection.inspected_on.desc())).scalars())
    return dict(campaign=campaign, phases=board.phases(session, campaign.id), windows=windows, deadlines=deadlines,
                units=units, children=children, parent=parent, inspections=inspections, phase_names=PHASES,
                deliverables=DELIVERABLES, statuses=CAMPAIGN_STATUSES, modes=INSPECTION_MODES, today=_today())


@bp.route("/<int:campaign_id>")
def view(campaign_id: int, errors: dict | None = None, status: int = 200):
    with engine().db.reading() as session:
        campaign = _campaign(session, campaign_id)
        _require_office(campaign)
        context = _view_context(session, campaign)
    return render_template("campaign/view.html", errors=errors or {}, values=request.form, **context), status


@bp.route("/<int:campaign_id>/windows", methods=["POST"])
def edit_windows(campaign_id: int):
    try:
        with engine().db.transaction() as session:
            campaign = _campaign(session, campaign_id)
            _require_office(campaign)
            units = request.form.getlist("units") if "units_given" in request.form else None
            w.edit(session, campaign, request.form, units=units)
    except InvalidData as err:
        flash(_("未保存：%(reason)s", reason=err.message), "error")
        return view(campaign_id, err.details or {}, 400)
    flash(_("各阶段时间已保存。"))
    return redirect(url_for("campaign.view", campaign_id=campaign_id))


@bp.route("/<int:campaign_id>/launch", methods=["POST"])
def launch(campaign_id: int):
    with engine().db.reading() as session:
        campaign = _campaign(session, campaign_id)
        _require_office(campaign)
        names = list(session.scalars(select(CampaignUnit.unit).where(CampaignUnit.campaign_id == campaign_id)))
        data = {"campaign_id": campaign.id, "campaign_name": campaign.name, "unit": campaign.issuing_office,
                "year": campaign.year, "participating_units": names, "title": office_case_title(campaign.name, campaign.issuing_office)}
    try:
        case_id = engine().start_case("accountability_campaign", data, current_actor())
    except DubanError as err:
        flash(_("未能部署：%(reason)s", reason=err.message), "error")
        return view(campaign_id, getattr(err, "details", None) or {}, err.http_status)
    flash(_("已部署：%(n)s 个参加单位各开一个项目（项目编号 %(id)s 为本办公室的项目）。", n=len(names), id=case_id))
    return redirect(url_for("campaign.view", campaign_id=campaign_id))


@bp.route("/<int:campaign_id>/inspections", methods=["POST"])
def inspect(campaign_id: int):
    form = request.form
    try:
        with engine().db.transaction() as session:
            campaign = _campaign(session, campaign_id)
            _require_office(campaign)
            if "leading_office" not in current_actor().roles and not current_actor().operator:
                raise Forbidden(_("明查暗访由领导小组办公室登记"))
            if campaign.status != "running":
                raise InvalidData(_("活动未在进行中，不能登记明查暗访"))
            record_inspection(session, campaign, unit=form.get("inspected_unit", ""), inspected_on=form.get("inspected_on", ""),
                              mode=form.get("inspection_mode", ""), place=form.get("inspection_place", ""),
                              findings=form.get("inspection_findings", ""), expose=form.get("inspection_expose") == "1",
                              actor=current_actor().username, now=engine().clock(), case_id=campaign.case_id)
    except InvalidData as err:
        flash(_("未登记：%(reason)s", reason=err.message), "error")
        return view(campaign_id, err.details or {}, 400)
    flash(_("明查暗访情况已登记。"))
    return redirect(url_for("campaign.view", campaign_id=campaign_id) + "#inspections")


def _board(campaign_id: int):
    with engine().db.reading() as session:
        campaign = _campaign(session, campaign_id)
        _require_office(campaign)
        rows = board.dashboard_rows(session, campaign_id, engine().clock())
        phase_rows = board.phases(session, campaign_id)
        children = {c.id: c for c in session.scalars(select(Campaign).where(Campaign.parent_id == campaign_id))}
        parent = session.get(Campaign, campaign.parent_id) if campaign.parent_id else None
    return campaign, rows, phase_rows, children, parent


@bp.route("/<int:campaign_id>/dashboard")
def dashboard(campaign_id: int):
    campaign, rows, phase_rows, children, parent = _board(campaign_id)
    behind = [r for r in rows if r.behind]
    return render_template("campaign/dashboard.html", campaign=campaign, rows=rows, phases=phase_rows, children=children,
                           parent=parent, behind=behind, today=_today())


@bp.route("/<int:campaign_id>/dashboard.xlsx")
def dashboard_export(campaign_id: int):
    campaign, rows, phase_rows, _children, _parent = _board(campaign_id)
    columns, groups, table = board.export_table(campaign, rows, {p.code: p.name for p in phase_rows})
    today = _today().isoformat()
    body = workbook_bytes("治庸问责工作进展", columns, table, group_headers=groups, sheet_name="治庸问责",
                          subtitle=f"{campaign.name}　牵头单位 {campaign.issuing_office}　统计日 {today}")
    name = f"治庸问责工作进展-{campaign.name}-{today}.xlsx"
    return Response(body, mimetype=XLSX, headers={
        "Content-Disposition": f"attachment; filename=\"campaign-{campaign_id}-{today}.xlsx\"; filename*=UTF-8''{quote(name)}",
        "Cache-Control": "no-store"})


@bp.route("/<int:campaign_id>/units/<path:unit>")
def unit(campaign_id: int, unit: str):
    actor = current_actor()
    with engine().db.reading() as session:
        campaign = _campaign(session, campaign_id)
        own = "unit" in actor.roles and actor.units is not None and unit in actor.units
        if not own:
            _require_office(campaign)
        page = board.unit_page(session, campaign_id, unit, engine().clock())
        if page is None:
            raise NotFound(_("不是本次活动的参加单位"))
        child = session.get(Campaign, page["participant"].child_campaign_id) if page["participant"].child_campaign_id else None
    return render_template("campaign/unit.html", campaign=campaign, unit=unit, child=child, kinds=DELIVERABLES,
                           state_names=STATE_NAMES, modes=INSPECTION_MODES, phase_names=PHASES,
                           office_view=not own, **page)
