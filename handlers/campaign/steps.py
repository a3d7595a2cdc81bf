"""What the campaign processes' service tasks do, and the choices their forms take from the records.

Why each unit's side is a case of its own (the lead's decision): accountability_campaign.bpmn keeps the
multi-instance shape — a parallel multi-instance service task over the participating units — but each instance
calls `campaign.start_unit`, which opens a `unit_campaign` case with `ctx.start_case` in the launch's transaction
(all units' cases land with the launch or none do). Work items and visibility are scoped by case.unit
(engine/access.py), so a unit's clerk sees exactly his unit's case and nothing of another unit's; and a province
campaign with hundreds of units does not serialize every unit's steps on one case's row. The office case and the
unit cases are linked through the campaign records (Campaign.case_id, CampaignUnit.case_id).
"""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import InvalidData
from engine.models import Case, User
from engine.notifications import notify
from engine.timers import office_date

from .. import HandlerContext, field_titles, form_options, handler
from .. import units as org_units
from . import windows as w
from .records import DELIVERABLES, INSPECTION_MODES, PHASES, Campaign, CampaignUnit, Deliverable, Inspection

REVISION_DAYS = 5  # a deliverable sent back gets at least this long to be revised (its deadline may have passed)
PUBLIC_SOURCES = {"hotline", "mailbox", "group_appraisal", "questionnaire", "report_box"}  # problems the public raised
# The form fields each deliverable's content is made of (processes/forms/campaign_<kind>.json).
CONTENT_FIELDS: dict[str, list[str]] = {
    "work_plan": ["work_plan_text", "work_plan_team"],
    "problem_list": ["problems"],
    "life_meeting": ["life_meeting_date", "life_meeting_attendees", "life_meeting_record"],
    "public_commitment": ["commitment_published_on", "commitment_channels", "commitment_text"],
    "typical_examples": ["positive_examples", "negative_examples"],
    "rectification_report": ["rectification_report_text", "problems_rectified", "problems_remaining"],
    "summary_report": ["summary_report_text", "rules_built"],
}

field_titles({
    "campaign_id": ("活动编号", "Campaign no."), "campaign_name": ("活动名称", "Campaign"),
    "issuing_office": ("牵头单位", "Leading unit"), "participating_units": ("参加单位", "Participating units"),
    "has_sub_units": ("有下属单位", "Has sub-units"), "child_campaign_id": ("向下部署的活动编号", "Sub-units' campaign no."),
    **{f"{code}_{edge}": (f"{zh}{'开始' if edge == 'start' else '结束'}", f"{en}: {edge}")
       for code, (zh, en) in PHASES.items()
       for edge in ("start", "end")},
    **{f"{kind}_due": (f"{zh}报送时限", f"{en}: deadline") for kind, (zh, en, _p) in DELIVERABLES.items()},
    **{f"{kind}_work_due": (f"{zh}本次办理时限", f"{en}: due now") for kind, (zh, en, _p) in DELIVERABLES.items()},
})


def _campaign(session: Session, campaign_id: Any) -> Campaign:
    try:
        campaign = session.get(Campaign, int(campaign_id))
    except (TypeError, ValueError):
        campaign = None
    if campaign is None:
        raise InvalidData(f"活动不存在：{campaign_id}", details={"campaign_id": [str(campaign_id)]})
    return campaign


def _participant(session: Session, campaign_id: int, unit: str) -> CampaignUnit:
    row = session.scalar(select(CampaignUnit).where(CampaignUnit.campaign_id == campaign_id, CampaignUnit.unit == unit))
    if row is None:
        raise InvalidData(f"{unit} 不是本次活动的参加单位", details={"unit": [unit]})
    return row


def _deliverable(ctx: HandlerContext, kind: str) -> Deliverable:
    if kind not in DELIVERABLES:
        raise ValueError(f"unknown deliverable {kind!r}")
    row = ctx.session.scalar(select(Deliverable).where(Deliverable.campaign_id == int(ctx.data["campaign_id"]),
                                                       Deliverable.unit == ctx.unit, Deliverable.kind == kind))
    if row is None:
        raise ValueError(f"no {kind} deliverable for {ctx.unit} in campaign {ctx.data.get('campaign_id')}")
    return row



def office_case_title(name: str, office: str) -> str:
    """The leading office's case of a campaign: "省直机关强力推进治庸问责工作（省高管局牵头）"."""
    return f"{name}（{office}牵头）"


@handler("campaign.launch")
def launch(ctx: HandlerContext) -> dict[str, Any]:
    """The campaign this office case runs: the draft named by `campaign_id` (windows as edited on its page), or one
    made now from the start form (empty dates: the provincial plan). Its windows are checked (never required to be
    sequential) and written into the case data, where the timers and deadlines read them."""
    data = ctx.data
    if data.get("campaign_id"):
        campaign = _campaign(ctx.session, data["campaign_id"])
        if campaign.status != "draft":
            raise InvalidData(f"活动 {campaign.id} 已部署", details={"campaign_id": ["已部署，不能重复部署"]})
        if campaign.issuing_office != ctx.unit:
            raise InvalidData(f"活动 {campaign.id} 的牵头单位是 {campaign.issuing_office}", details={"unit": [campaign.issuing_office]})
    else:
        windows, deadlines = w.read(data, *w.defaults(int(data["year"])))
        campaign = w.draft(ctx.session, name=data.get("campaign_name", ""), office=ctx.unit, year=int(data["year"]),
                           units=list(data.get("participating_units") or []), actor=ctx.actor, now=ctx.now,
                           windows=windows, deadlines=deadlines)
    windows, deadlines = w.windows_of(ctx.session, campaign.id)
    w.check(windows, deadlines)
    campaign.status, campaign.case_id, campaign.launched_at = "running", ctx.case_id, ctx.now
    names = list(ctx.session.scalars(select(CampaignUnit.unit).where(CampaignUnit.campaign_id == campaign.id)
                                     .order_by(CampaignUnit.id)))
    data.update(w.case_dates(windows, deadlines), campaign_id=campaign.id, campaign_name=campaign.name,
                year=campaign.year, issuing_office=campaign.issuing_office, participating_units=names)
    return {"campaign_id": campaign.id, "units": len(names)}


@handler("campaign.start_unit")
def start_unit(ctx: HandlerContext) -> dict[str, Any]:
    """One instance of the multi-instance task: the unit's deliverables, and its own `unit_campaign` case."""
    campaign = _campaign(ctx.session, ctx.data["campaign_id"])
    unit = str(ctx.data["participant"])
    row = _participant(ctx.session, campaign.id, unit)
    windows, deadlines = w.windows_of(ctx.session, campaign.id)
    for kind, (_zh, _en, phase) in DELIVERABLES.items():
        ctx.session.add(Deliverable(campaign_id=campaign.id, unit=unit, kind=kind, phase=phase, due_on=deadlines[kind],
                                    status="pending", content={}))
    row.status = "running"
    ctx.session.flush()
    case_id = ctx.start_case("unit_campaign", {
        "campaign_id": campaign.id, "unit": unit, "title": f"{campaign.name}（{unit}）", "campaign_name": campaign.name,
        "issuing_office": campaign.issuing_office, "year": campaign.year,
        "has_sub_units": bool(org_units.children(ctx.session, unit)), "cascade_decided": False, **w.case_dates(windows, deadlines)})
    row.case_id = case_id
    return {"unit": unit, "case_id": case_id}


def submit(ctx: HandlerContext, kind: str) -> dict[str, Any]:
    """The unit handed a deliverable in: kept as sent, late when first handed in after its deadline day (office
    time). Problems the public reported and the unit passes on become complaint cases (P's open_complaint)."""
    row = _deliverable(ctx, kind)
    content = {name: ctx.data.get(name) for name in CONTENT_FIELDS[kind]}
    if kind == "problem_list":
        content["problems"] = _refer_problems(ctx, [dict(p) for p in content.get("problems") or []])
        ctx.data["problems"] = content["problems"]
    row.content = content
    if row.first_submitted_at is None:
        row.first_submitted_at = ctx.now
        row.late = office_date(ctx.now) > row.due_on
    row.submitted_at, row.status = ctx.now, "submitted"
    return {"status": "submitted", "late": row.late}


def _refer_problems(ctx: HandlerContext, problems: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for n, problem in enumerate(problems, 1):
        if not problem.get("refer") or problem.get("complaint_case_id"):
            continue
        if problem.get("source") not in PUBLIC_SOURCES:
            raise InvalidData(f"第 {n} 条问题不是群众举报的（来源：自查），不能转投诉举报办理",
                              details={f"problems[{n - 1}].refer": ["自查发现的问题由本单位整改"]})
        from handlers.complaint import open_complaint  # helper P's part; imported when a problem is passed on

        problem["complaint_case_id"] = open_complaint(ctx, source=problem["source"], unit=ctx.unit,
                                                      summary=str(problem.get("description") or ""),
                                                      campaign_id=int(ctx.data["campaign_id"]))
    return problems


def review(ctx: HandlerContext, kind: str) -> dict[str, Any]:
    """The leading office accepts the deliverable or sends it back with a comment (counted); a send-back gives the
    unit at least REVISION_DAYS to revise, the deadline itself stays, and the unit's clerks are told why."""
    row = _deliverable(ctx, kind)
    decision = ctx.data.get(f"{kind}_decision")
    comment = str(ctx.data.get(f"{kind}_comment") or "").strip()
    row.reviewed_by, row.review_comment = ctx.actor, comment
    if decision == "send_back":
        if not comment:
            raise InvalidData("退回修改时请写明修改意见", details={f"{kind}_comment": ["退回修改时请写明修改意见"]})
        row.status, row.send_back_count = "sent_back", row.send_back_count + 1
        revise_by = max(row.due_on, office_date(ctx.now) + timedelta(days=REVISION_DAYS))
        ctx.data[f"{kind}_work_due"] = revise_by.isoformat()
        zh = DELIVERABLES[kind][0]
        notify(ctx.session, _clerks(ctx.session, ctx.unit), "sent_back", f"退回修改：{zh}（请于 {revise_by} 前重新报送）",
               f"{ctx.data.get('campaign_name', '')} · {ctx.unit} · 审核意见：{comment}", ctx.now, case_id=ctx.case_id)
    else:
        row.status, row.accepted_at = "accepted", ctx.now
    return {"status": row.status, "send_backs": row.send_back_count}


# One handler per deliverable (campaign.submit_work_plan, campaign.review_work_plan, …): the validator takes a
# serviceTaskOperator's id for an element id, so one name cannot serve two service tasks.
for _kind in DELIVERABLES:
    handler(f"campaign.submit_{_kind}")(lambda ctx, kind=_kind: submit(ctx, kind))
    handler(f"campaign.review_{_kind}")(lambda ctx, kind=_kind: review(ctx, kind))


def _clerks(session: Session, unit: str) -> list[str]:
    users = session.scalars(select(User)).all()
    return sorted(u.username for u in users if "unit" in (u.roles or []) and isinstance(u.units, list) and unit in u.units)


def record_inspection(session: Session, campaign: Campaign, *, unit: str, inspected_on: Any, mode: str, place: str,
                      findings: str, expose: bool, actor: str, now, case_id: int | None = None) -> Inspection:
    """One 明查暗访 against a participating unit (the campaign page and the office's task both record through here)."""
    problems: dict[str, list[str]] = {}
    if session.scalar(select(CampaignUnit.id).where(CampaignUnit.campaign_id == campaign.id, CampaignUnit.unit == unit)) is None:
        problems["inspected_unit"] = [f"{unit or '（未选）'} 不是本次活动的参加单位"]
    try:
        day = inspected_on if isinstance(inspected_on, date) else date.fromisoformat(str(inspected_on)[:10])
    except ValueError:
        problems["inspected_on"] = [f"日期格式应为 年-月-日：{inspected_on}"]
        day = None
    if mode not in INSPECTION_MODES:
        problems["inspection_mode"] = ["请选择明查或暗访"]
    if not (findings or "").strip():
        problems["inspection_findings"] = ["请填写发现的问题"]
    if problems:
        raise InvalidData("明查暗访登记有误：" + "；".join(m for ms in problems.values() for m in ms), details=problems)
    row = Inspection(campaign_id=campaign.id, unit=unit, inspected_on=day, mode=mode, place=(place or "").strip()[:200],
                     findings=findings.strip(), expose=bool(expose), recorded_by=actor, recorded_at=now, case_id=case_id)
    session.add(row)
    session.flush()
    return row


@handler("campaign.record_inspections")
def record_inspections(ctx: HandlerContext) -> dict[str, Any]:
    d = ctx.data
    row = record_inspection(ctx.session, _campaign(ctx.session, d["campaign_id"]), unit=str(d.get("inspected_unit") or ""),
                            inspected_on=d.get("inspected_on"), mode=str(d.get("inspection_mode") or ""),
                            place=str(d.get("inspection_place") or ""), findings=str(d.get("inspection_findings") or ""),
                            expose=bool(d.get("inspection_expose")), actor=ctx.actor, now=ctx.now, case_id=ctx.case_id)
    d["inspection_count"] = int(d.get("inspection_count") or 0) + 1
    return {"inspection_id": row.id}


@handler("campaign.cascade")
def cascade(ctx: HandlerContext) -> dict[str, Any]:
    """The unit launches the campaign to its own sub-units: a child campaign led by this unit, with the parent's
    windows unless the form changed them, opened (its office case and its units' cases) in this step. The unit's
    own deliverables to the higher office go on in this case."""
    ctx.data["cascade_decided"] = True
    if not ctx.data.get("launch_down"):
        return {"launched": False}
    parent = _campaign(ctx.session, ctx.data["campaign_id"])
    row = _participant(ctx.session, parent.id, ctx.unit)
    if row.child_campaign_id:
        raise InvalidData("本单位已向下属单位部署过本活动", details={"launch_down": ["已部署"]})
    windows, deadlines = w.read(ctx.data, *w.windows_of(ctx.session, parent.id), prefix="child_")
    w.check(windows, deadlines, prefix="child_")
    units = w.check_units(ctx.session, ctx.unit, list(ctx.data.get("sub_units") or []), field="sub_units", under=ctx.unit)
    child = w.draft(ctx.session, name=parent.name, office=ctx.unit, year=parent.year, units=units, actor=ctx.actor,
                    now=ctx.now, windows=windows, deadlines=deadlines, parent_id=parent.id, under=ctx.unit)
    row.child_campaign_id = child.id
    office_case = ctx.start_case("accountability_campaign", {
        "campaign_id": child.id, "unit": ctx.unit, "campaign_name": child.name, "year": child.year,
        "participating_units": units, "title": office_case_title(child.name, ctx.unit)})
    ctx.data["child_campaign_id"] = child.id
    return {"launched": True, "child_campaign_id": child.id, "case_id": office_case}


@handler("campaign.unit_done")
def unit_done(ctx: HandlerContext) -> dict[str, Any]:
    row = _participant(ctx.session, int(ctx.data["campaign_id"]), ctx.unit)
    row.status = "completed"
    return {"status": "completed"}


def commendable(session: Session, campaign_id: int) -> list[tuple[str, int, int, int]]:
    """(unit, deliverables, send-backs, late) of the units whose deliverables were all accepted."""
    rows = session.scalars(select(Deliverable).where(Deliverable.campaign_id == campaign_id)).all()
    by_unit: dict[str, list[Deliverable]] = {}
    for d in rows:
        by_unit.setdefault(d.unit, []).append(d)
    return [(unit, len(ds), sum(d.send_back_count for d in ds), sum(1 for d in ds if d.late))
            for unit, ds in sorted(by_unit.items()) if all(d.status == "accepted" for d in ds)]


@handler("campaign.close")
def close(ctx: HandlerContext) -> dict[str, Any]:
    """通报表彰先进: the units chosen (each one whose deliverables were all accepted) are commended; the campaign
    closes with its summary."""
    campaign = _campaign(ctx.session, ctx.data["campaign_id"])
    chosen = list(dict.fromkeys(ctx.data.get("commended_units") or []))
    allowed = {unit for unit, *_ in commendable(ctx.session, campaign.id)}
    wrong = [u for u in chosen if u not in allowed]
    if wrong:
        raise InvalidData(f"材料未全部通过审核的单位不能表彰：{'、'.join(wrong)}", details={"commended_units": wrong})
    for row in ctx.session.scalars(select(CampaignUnit).where(CampaignUnit.campaign_id == campaign.id)):
        row.commended = row.unit in chosen
    campaign.summary = str(ctx.data.get("campaign_summary") or "")
    campaign.status, campaign.closed_at = "closed", ctx.now
    return {"commended": chosen}


def _case_campaign_id(session: Session, case_id: int, data: dict[str, Any]) -> int | None:
    if data.get("campaign_id"):
        return int(data["campaign_id"])
    return session.scalar(select(Campaign.id).where(Campaign.case_id == case_id)) if case_id else None


@form_options("campaign.units")
def _units_options(session: Session, case_id: int, data: dict[str, Any]) -> list[dict[str, Any]]:
    campaign_id = _case_campaign_id(session, case_id, data)
    names = session.scalars(select(CampaignUnit.unit).where(CampaignUnit.campaign_id == campaign_id)
                            .order_by(CampaignUnit.unit)).all() if campaign_id else []
    return [{"const": n, "title": n} for n in names]


@form_options("campaign.commendable")
def _commendable_options(session: Session, case_id: int, data: dict[str, Any]) -> list[dict[str, Any]]:
    campaign_id = _case_campaign_id(session, case_id, data)
    if not campaign_id:
        return []
    return [{"const": unit, "title": f"{unit}（{n} 项材料全部通过，退回修改 {backs} 次，逾期 {late} 项）",
             "title_en": f"{unit} ({n} deliverables accepted, {backs} send-backs, {late} late)"}
            for unit, n, backs, late in commendable(session, campaign_id)]


def case_unit(session: Session, case_id: int) -> str:
    return session.scalar(select(Case.unit).where(Case.id == case_id)) or ""
