"""Rectification (整改), the whole of seed 000: an item per finding with its requirement, standard, deadline and
owner; contact persons by severity (a user account where one exists); listed supervision per item (挂牌督办,
督办函, 摘牌); rounds with their own report deadline; each department verifying and closing (销号) its own
duty's items with evidence and a follow-up visit (回访台账); false reports (弄虚作假); the successor handover
(整改交接, 新官不理旧账); a failed acceptance reopening items."""
from __future__ import annotations

from datetime import date, datetime, time, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from engine.errors import InvalidData
from engine.models import Attachment, Case, User
from . import HandlerContext, field_titles, form_options, handler
from .records import FollowUpVisit, RectificationItem

OFFICE_TZ = ZoneInfo("Asia/Shanghai")

# The fixed list of problem categories per duty: {duty: {code: (Chinese, English)}}.
PROBLEM_CATEGORIES: dict[str, dict[str, tuple[str, str]]] = {
    "personnel": {
        "over_quota_posts": ("超职数配备", "Posts filled above the quota"),
        "irregular_selection": ("违规选拔任用", "Irregular selection and appointment"),
        "falsified_files": ("档案造假", "Falsified personnel files"),
        "rushed_appointment": ("突击提拔调整干部", "Rushed promotions and reshuffles"),
        "secondment_overdue": ("借调人员长期不归位", "Seconded staff not returned"),
        "probation_unassessed": ("试用期满未按期考核", "Probation ended without assessment"),
        "other_personnel": ("其他用人问题", "Other appointments issue"),
    },
    "establishment": {
        "over_establishment": ("超编进人", "Staff above the establishment"),
        "over_quota_leaders": ("超职数配备领导", "Leaders above the quota"),
        "unauthorized_bodies": ("擅自设立内设机构", "Internal bodies set up without approval"),
        "mixed_posts": ("混编混岗", "Mixed establishment categories"),
        "ghost_payroll": ("吃空饷", "Ghost payroll"),
        "real_name_mismatch": ("实名制信息不符", "Real-name records wrong"),
        "other_establishment": ("其他用编问题", "Other establishment issue"),
    },
    "finance": {
        "irregular_allowances": ("违规发放津补贴", "Irregular allowances and subsidies"),
        "white_slips": ("白条入账", "Informal receipts booked"),
        "excess_reception": ("超标准公务接待", "Official receptions above the standard"),
        "irregular_debt": ("违规举债", "Irregular borrowing"),
        "slush_fund": ("私设小金库", "Off-book slush fund"),
        "special_funds_misused": ("专项资金未专款专用", "Earmarked funds diverted"),
        "irregular_procurement": ("政府采购不规范", "Irregular government procurement"),
        "other_finance": ("其他用财问题", "Other finance issue"),
    },
}
RESPONSIBILITY_TYPES = {"leadership": ("领导责任", "Leadership responsibility"), "direct": ("直接责任", "Direct responsibility")}
ROUNDS_KEPT = 12  # rounds listed in the case data (a case may loop a thousand times; its state must not grow)
GROUND_NAMES = {"late_report": "逾期报送整改情况", "false_report": "整改情况弄虚作假"}
DUTIES = ("personnel", "establishment", "finance")
DUTY_ROLES = {"personnel": "organization", "establishment": "staffing", "finance": "audit"}

field_titles({
    "open_item_count": ("未销号问题数", "Items still open"), "rectification_round": ("整改轮次", "Rectification round"),
    "rounds": ("整改轮次记录", "Rectification rounds"), "listed_item_nos": ("挂牌督办问题", "Listed findings"),
    "listed_item_count": ("挂牌督办问题数", "Listed findings"), "liftable_count": ("可摘牌问题数", "Findings to unlist"),
    "open_personnel_count": ("未销号用人问题", "Open appointments items"),
    "open_establishment_count": ("未销号用编问题", "Open establishment items"),
    "open_finance_count": ("未销号用财问题", "Open finance items"),
    "false_report_item_nos": ("报告不实的问题", "Items falsely reported"),
    "accountability_due": ("需追责问责", "Accountability due"), "accountability_ground": ("追责事由", "Ground"),
    "accountability_reason": ("追责理由", "Reason"), "handovers": ("整改交接记录", "Handovers"),
    "reopened_item_nos": ("验收不合格重新整改的问题", "Items reopened at acceptance"),
})


def _date(value: Any, field: str = "date") -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise InvalidData(f"日期格式应为 YYYY-MM-DD：{value}", details={field: [str(value)]})


def _local(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc).astimezone(OFFICE_TZ)


def _label(item: RectificationItem) -> str:
    return f"第 {item.item_no} 项「{item.description}」"


def contact_for(severity: str, data: dict[str, Any]) -> tuple[str, str]:
    """Major problems go to the unit's principal leader, general ones to the deputy in charge."""
    if severity == "major":
        return "principal", str(data.get("unit_principal") or "")
    return "deputy", str(data.get("unit_deputy") or "")


def account_for(session, name: str, unit: str) -> str | None:
    """The username of the one account with this display name whose units include `unit` (None when none or
    several: a clerk's list must never show another person's items)."""
    if not name:
        return None
    users = session.scalars(select(User).where(User.display_name == name)).all()
    matches = [u.username for u in users if isinstance(u.units, list) and unit in u.units]
    return matches[0] if len(matches) == 1 else None


def _items(ctx: HandlerContext, *, status: str | None = None, duty: str | None = None) -> list[RectificationItem]:
    query = select(RectificationItem).where(RectificationItem.case_id == ctx.case_id)
    if status:
        query = query.where(RectificationItem.status == status)
    if duty:
        query = query.where(RectificationItem.duty == duty)
    return list(ctx.session.scalars(query.order_by(RectificationItem.item_no)).all())


def _counts(ctx: HandlerContext) -> int:
    open_items = _items(ctx, status="open")
    for duty in DUTIES:
        ctx.data[f"open_{duty}_count"] = sum(1 for i in open_items if i.duty == duty)
    ctx.data["open_item_count"] = len(open_items)
    ctx.data["liftable_count"] = sum(1 for i in _items(ctx, status="closed") if i.listed_supervision and not i.lifted_at)
    return len(open_items)


def open_item_count(ctx: HandlerContext) -> int:
    return len(_items(ctx, status="open"))


def _float(value: Any) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


@handler("rectification.open_items")
def open_items(ctx: HandlerContext) -> dict[str, Any]:
    """One rectification item per finding (整改台账), with its requirement, standard, deadline, owner and contact
    person; the findings chosen for listed supervision and every repeated finding (屡查屡犯) are listed."""
    deadline = _date(ctx.data.get("rectification_deadline"), "rectification_deadline")
    listed_nos = {int(n) for n in ctx.data.get("listed_item_nos") or []}
    serious = bool(ctx.data.get("serious"))  # the whole case listed (cases started before per-item listing)
    for finding in ctx.data.get("findings") or []:
        severity = finding.get("severity", "general")
        role, name = contact_for(severity, ctx.data)
        no = int(finding["item_no"])
        own_deadline = _date(finding.get("deadline"), "findings") or deadline
        if own_deadline and deadline and own_deadline > deadline:
            raise InvalidData(f"第 {no} 项「{finding.get('description', '')}」的整改期限 {own_deadline} 晚于整改总期限 {deadline}",
                              details={"findings": [str(no)]})
        repeated = bool(finding.get("repeated"))
        ctx.session.add(RectificationItem(
            case_id=ctx.case_id, item_no=no, duty=finding.get("duty", ""), description=finding.get("description", ""),
            severity=severity, unit=ctx.unit, contact_role=role, contact_name=name,
            contact_username=account_for(ctx.session, name, ctx.unit), deadline=own_deadline,
            listed_supervision=serious or repeated or no in listed_nos, opened_at=ctx.now,
            requirement=str(finding.get("requirement") or ""), standard=str(finding.get("standard") or ""),
            owner_name=str(finding.get("owner_name") or name), problem_category=str(finding.get("problem_category") or ""),
            responsibility_type=str(finding.get("responsibility_type") or ""), amount=_float(finding.get("amount")),
            demerit_points=_float(finding.get("demerit_points")), repeated=repeated,
            repeat_of_case_id=finding.get("repeat_of_case_id") if repeated else None))
    ctx.session.flush()
    count = _counts(ctx)
    listed = [i.item_no for i in _items(ctx) if i.listed_supervision]
    ctx.data["listed_item_nos"] = listed
    ctx.data["listed_item_count"] = len(listed)
    ctx.data["rectification_round"] = 0
    ctx.data["rounds"] = []
    return {"open_item_count": count, "listed_item_nos": listed,
            "repeated_item_nos": [i.item_no for i in _items(ctx) if i.repeated]}


@form_options("rectification.listed_items")
def listed_item_choices(session, case_id: int, data: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in _choices(session, case_id, data, status="open") if c["const"] in set(data.get("listed_item_nos") or [])]


@handler("rectification.list_items")
def list_items(ctx: HandlerContext) -> dict[str, Any]:
    """The supervision letter (督办函) was sent: every listed item gets the letter's stricter deadline, which may
    not be later than the item's own; the case is marked listed for lists and dashboards."""
    listed_deadline = _date(ctx.data.get("listed_deadline"), "listed_deadline")
    letter_no = str(ctx.data.get("supervision_letter_no") or "")
    items = [i for i in _items(ctx, status="open") if i.listed_supervision]
    for item in items:
        if listed_deadline and item.deadline and listed_deadline > item.deadline:
            raise InvalidData(f"{_label(item)}的督办期限 {listed_deadline} 晚于其整改期限 {item.deadline}，督办期限应更严",
                              details={"listed_deadline": [str(listed_deadline)]})
        item.listed_deadline = listed_deadline or item.deadline
        item.listed_letter_no = letter_no
    ctx.session.execute(update(Case).where(Case.id == ctx.case_id).values(listed=True)
                        .execution_options(synchronize_session=False))
    ctx.data["listed"] = True
    if listed_deadline:
        ctx.data["listed_deadline"] = listed_deadline.isoformat()
    ctx.data["listed_at"] = _local(ctx.now).isoformat(timespec="seconds")
    return {"listed_item_nos": [i.item_no for i in items], "letter_no": letter_no,
            "listed_deadline": listed_deadline.isoformat() if listed_deadline else None}


@handler("rectification.open_round")
def open_round(ctx: HandlerContext) -> dict[str, Any]:
    """A rectification round opens with its own report deadline: the first from 情况汇总/信息反馈, each later one
    from 部署下一轮整改. `rectification_deadline` is the deadline of the round now open (the report's due date
    and the 整改期限届满 timer read it)."""
    round_no = int(ctx.data.get("rectification_round") or 0) + 1
    deadline = _date(ctx.data.get("next_round_deadline") if round_no > 1 else ctx.data.get("rectification_deadline"),
                     "next_round_deadline")
    if round_no > 1 and deadline is None:
        raise InvalidData("请确定本轮整改情况的报送期限", details={"next_round_deadline": ["必填"]})
    if round_no > 1 and deadline < _local(ctx.now).date():
        raise InvalidData(f"本轮报送期限 {deadline} 已过，请定一个今天以后的日期", details={"next_round_deadline": [str(deadline)]})
    rounds = [dict(r) for r in ctx.data.get("rounds") or [] if isinstance(r, dict)]
    rounds.append({"round": round_no, "deadline": deadline.isoformat() if deadline else "",
                   "opened_at": _local(ctx.now).isoformat(timespec="seconds"), "open_items": open_item_count(ctx)})
    ctx.data["rounds"] = rounds[-ROUNDS_KEPT:]  # the case's events keep every round; the live data the latest
    ctx.data["rectification_round"] = round_no
    if deadline:
        ctx.data["rectification_deadline"] = deadline.isoformat()
    ctx.data["next_round_deadline"] = ""
    ctx.data["reported_item_nos"] = []
    ctx.data["principal_changed"] = False
    return {"round": round_no, "deadline": deadline.isoformat() if deadline else None}


@handler("rectification.record_report")
def record_report(ctx: HandlerContext) -> dict[str, Any]:
    """The unit's report of the round: the measures and progress per item it typed, the items it says are done."""
    items = {i.item_no: i for i in _items(ctx)}
    for row_no, row in enumerate(ctx.data.get("item_progress") or [], start=1):
        item = items.get(int(row.get("item_no") or 0))
        if item is None:
            raise InvalidData(f"整改进展第 {row_no} 行：问题序号 {row.get('item_no')} 不在整改台账中",
                              details={f"item_progress[{row_no - 1}].item_no": [str(row.get("item_no"))]})
        if row.get("measures"):
            item.measures = str(row["measures"])
        if row.get("progress"):
            item.progress = str(row["progress"])
    claimed = [int(n) for n in ctx.data.get("reported_item_nos") or []]
    for n in claimed:
        item = items.get(n)
        if item is None or item.status != "open":
            raise InvalidData(f"报告已整改的问题序号 {n} 不是未销号的问题", details={"reported_item_nos": [str(n)]})
        if not item.progress:
            item.progress = "单位报已整改到位，待核实"
    rounds = [dict(r) for r in ctx.data.get("rounds") or [] if isinstance(r, dict)]
    if rounds:
        rounds[-1].update(reported_at=_local(ctx.now).isoformat(timespec="seconds"), claimed=claimed)
        ctx.data["rounds"] = rounds
    _counts(ctx)
    return {"claimed": claimed}


@handler("rectification.hand_over")
def hand_over(ctx: HandlerContext) -> dict[str, Any]:
    """新官不理旧账: the unit's principal leader changed; the open items of the former principal go to the
    successor, who becomes their contact person (and owner where the former principal was the owner)."""
    successor = str(ctx.data.get("successor_name") or "").strip()
    if not successor:
        raise InvalidData("请填写继任主要负责人姓名", details={"successor_name": ["必填"]})
    former = str(ctx.data.get("unit_principal") or "")
    username = account_for(ctx.session, successor, ctx.unit)
    moved = []
    for item in _items(ctx, status="open"):
        if item.contact_role == "principal" or item.contact_name == former:
            item.contact_name, item.contact_username = successor, username
            if item.owner_name in ("", former):
                item.owner_name = successor
            moved.append(item.item_no)
    ctx.data["unit_principal"] = successor
    handovers = [dict(h) for h in ctx.data.get("handovers") or [] if isinstance(h, dict)]
    handovers.append({"from": former, "to": successor, "round": ctx.data.get("rectification_round"),
                      "items": moved, "at": _local(ctx.now).isoformat(timespec="seconds"),
                      "note": str(ctx.data.get("handover_note") or "")})
    ctx.data["handovers"] = handovers
    ctx.data["principal_changed"] = False
    return {"from": former, "to": successor, "moved_item_nos": moved, "successor_account": username}


def _evidence_ids(ctx: HandlerContext, duty: str) -> list[int]:
    ids = [int(n) for n in ctx.data.get(f"{duty}_evidence_ids") or []]
    if ids:
        found = set(ctx.session.scalars(select(Attachment.id).where(Attachment.id.in_(ids),
                                                                     Attachment.case_id == ctx.case_id)).all())
        missing = [n for n in ids if n not in found]
        if missing:
            raise InvalidData(f"佐证材料（附件 {missing[0]}）不是本项目的附件", details={f"{duty}_evidence_ids": [str(missing[0])]})
    return ids


def verify(ctx: HandlerContext, duty: str) -> dict[str, Any]:
    """A department verifies the open items of its own duty: the visit goes into the visit ledger for each of
    them; the items it closes (销号) must have evidence (an attachment of the case) and a visit on the ledger."""
    closing = [int(n) for n in ctx.data.get(f"{duty}_closed_item_nos") or []]
    visit_date = _date(ctx.data.get(f"{duty}_visit_date"), f"{duty}_visit_date")
    note = str(ctx.data.get(f"{duty}_visit_note") or "")
    evidence = _evidence_ids(ctx, duty)
    own = {i.item_no: i for i in _items(ctx, status="open", duty=duty)}
    role = DUTY_ROLES[duty]
    for n in closing:
        if n not in own:
            raise InvalidData(f"问题序号 {n} 不是本部门（{ROLE_DUTY_NAMES[duty]}）未销号的问题，不能由本部门销号",
                              details={f"{duty}_closed_item_nos": [str(n)]})
    round_no = int(ctx.data.get("rectification_round") or 0)
    if visit_date:
        for item in own.values():
            done = item.item_no in closing
            ctx.session.add(FollowUpVisit(case_id=ctx.case_id, item_id=item.id, round=round_no, visit_date=visit_date,
                                          result="closed" if done else "open", note=note, recorded_at=ctx.now,
                                          visited_by_role=role, evidence=",".join(map(str, evidence)) if done else ""))
            item.visits += 1
        ctx.session.flush()
    for n in closing:
        item = own[n]
        if not evidence:
            raise InvalidData(f"{_label(item)}销号缺少整改佐证材料：请先上传附件并在“佐证材料”中选择",
                              details={f"{duty}_evidence_ids": [f"第 {n} 项缺少佐证材料"]})
        visited = ctx.session.scalar(select(FollowUpVisit.id).where(FollowUpVisit.item_id == item.id).limit(1))
        if visited is None:
            raise InvalidData(f"{_label(item)}销号缺少回访记录：请填写回访日期，回访记入回访台账后才能销号",
                              details={f"{duty}_visit_date": [f"第 {n} 项未经回访"]})
        item.status, item.closed_at, item.closed_by_role, item.evidence = "closed", ctx.now, role, evidence[0]
        item.progress = "已销号"
    for key in ("closed_item_nos", "evidence_ids"):
        ctx.data[f"{duty}_{key}"] = []
    return {"duty": duty, "closed_item_nos": closing, "visited": bool(visit_date),
            "still_open": [n for n in own if n not in closing]}


ROLE_DUTY_NAMES = {"personnel": "组织部·用人", "establishment": "编办·用编", "finance": "审计局·用财"}
for _duty in DUTIES:
    handler(f"rectification.verify_{_duty}")(lambda ctx, _d=_duty: verify(ctx, _d))


@handler("rectification.close_round")
def close_round(ctx: HandlerContext) -> dict[str, Any]:
    """The departments' verification of the round is in: what is still open, whether the report came late,
    and whether it claimed items closed that the verification found open (弄虚作假). Either goes to the
    discipline body (accountability_due)."""
    remaining = _counts(ctx)
    claimed = [int(n) for n in ctx.data.get("reported_item_nos") or []]
    still_open = {i.item_no: i for i in _items(ctx, status="open")}
    false_items = [n for n in claimed if n in still_open]
    late = ctx.data.get("report_in_time") is False
    grounds = (["late_report"] if late else []) + (["false_report"] if false_items else [])
    round_no = int(ctx.data.get("rectification_round") or 0)
    reasons = []
    if late:
        reasons.append(f"第 {round_no} 轮整改情况逾期报送（报送期限 {ctx.data.get('rectification_deadline') or '未定'}）")
    if false_items:
        reasons.append("报告已整改到位但核查未整改到位（弄虚作假）：" + "；".join(_label(still_open[n]) for n in false_items))
    ctx.data["false_report_item_nos"] = false_items
    ctx.data["accountability_due"] = bool(grounds)
    if grounds:
        ctx.data["accountability_ground"] = "false_report" if false_items else "late_report"
        ctx.data["accountability_grounds"] = grounds
        ctx.data["accountability_reason"] = "；".join(reasons)
    rounds = [dict(r) for r in ctx.data.get("rounds") or [] if isinstance(r, dict)]
    if rounds:
        rounds[-1].update(late=late, false_report_item_nos=false_items, open_after=remaining)
        ctx.data["rounds"] = rounds
    return {"open_item_count": remaining, "late": late, "false_report_item_nos": false_items,
            "accountability_due": bool(grounds)}


@form_options("rectification.liftable_items")
def liftable_choices(session, case_id: int, data: dict[str, Any]) -> list[dict[str, Any]]:
    items = session.scalars(select(RectificationItem).where(
        RectificationItem.case_id == case_id, RectificationItem.status == "closed",
        RectificationItem.listed_supervision.is_(True), RectificationItem.lifted_at.is_(None))
        .order_by(RectificationItem.item_no)).all()
    return [_choice(i, set()) for i in items]


@handler("rectification.lift_items")
def lift_items(ctx: HandlerContext) -> dict[str, Any]:
    """摘牌: the listed items chosen (closed, verified) come off listed supervision."""
    chosen = [int(n) for n in ctx.data.get("lifted_item_nos") or []]
    items = {i.item_no: i for i in _items(ctx, status="closed") if i.listed_supervision and not i.lifted_at}
    for n in chosen:
        if n not in items:
            raise InvalidData(f"问题序号 {n} 不是已销号、待摘牌的挂牌督办问题", details={"lifted_item_nos": [str(n)]})
        items[n].lifted_at = ctx.now
    still_listed = [i for i in _items(ctx) if i.listed_supervision and not i.lifted_at]
    if not still_listed:
        ctx.session.execute(update(Case).where(Case.id == ctx.case_id).values(listed=False)
                            .execution_options(synchronize_session=False))
        ctx.data["listed"] = False
    ctx.data["lifted_item_nos"] = []
    _counts(ctx)
    return {"lifted_item_nos": chosen, "still_listed": [i.item_no for i in still_listed]}


@handler("rectification.reopen_items")
def reopen_items(ctx: HandlerContext) -> dict[str, Any]:
    """检查验收不合格: the items the acceptance found not rectified open again for another round."""
    chosen = [int(n) for n in ctx.data.get("reopened_item_nos") or []]
    closed = {i.item_no: i for i in _items(ctx, status="closed")}
    if not chosen:
        raise InvalidData("验收不合格时请勾选需重新整改的问题", details={"reopened_item_nos": ["必填"]})
    for n in chosen:
        if n not in closed:
            raise InvalidData(f"问题序号 {n} 不是已销号的问题", details={"reopened_item_nos": [str(n)]})
        item = closed[n]
        item.status, item.closed_at, item.closed_by_role, item.progress = "open", None, None, "验收不合格，重新整改"
    count = _counts(ctx)
    return {"reopened_item_nos": chosen, "open_item_count": count}


@handler("rectification.record_visit")
def record_visit(ctx: HandlerContext) -> dict[str, Any]:
    """Earlier process versions' single visit (整改督查回访): a ledger line for every open item, closing those
    the visit confirmed (cases started on those versions still reach it)."""
    closed = {int(n) for n in ctx.data.get("closed_item_nos") or []}
    round_no = int(ctx.data.get("rectification_round") or 0) + 1
    visit_date = _date(ctx.data.get("visit_date"))
    note = str(ctx.data.get("visit_note") or "")
    items = _items(ctx, status="open")
    for item in items:
        done = item.item_no in closed
        ctx.session.add(FollowUpVisit(case_id=ctx.case_id, item_id=item.id, round=round_no, visit_date=visit_date,
                                      result="closed" if done else "open", note=note, recorded_at=ctx.now))
        item.visits += 1
        if done:
            item.status = "closed"
            item.closed_at = ctx.now
    remaining = sum(1 for item in items if item.status == "open")
    ctx.data["open_item_count"] = remaining
    ctx.data["rectification_round"] = round_no
    ctx.data["closed_item_nos"] = []
    return {"round": round_no, "open_item_count": remaining}


def _choice(item: RectificationItem, reported: set[int]) -> dict[str, Any]:
    from .findings import DUTY_NAMES, DUTY_NAMES_EN
    from .ledger import SEVERITY_NAMES, SEVERITY_NAMES_EN

    marks = ("（屡查屡犯）" if item.repeated else "") + ("（挂牌督办）" if item.listed_supervision and not item.lifted_at else "")
    return {"const": item.item_no,
            "title": f"{item.item_no}. {item.description}（{DUTY_NAMES.get(item.duty, item.duty)}·"
                     f"{SEVERITY_NAMES.get(item.severity, item.severity)}）" + marks
                     + ("（单位已报整改）" if item.item_no in reported else ""),
            "title_en": f"{item.item_no}. {item.description} ({DUTY_NAMES_EN.get(item.duty, item.duty)}, "
                        f"{SEVERITY_NAMES_EN.get(item.severity, item.severity)})"
                        + (" (reported rectified by the unit)" if item.item_no in reported else "")}


def _choices(session, case_id: int, data: dict[str, Any], *, status: str = "open", duty: str | None = None):
    reported = {n for n in data.get("reported_item_nos") or [] if isinstance(n, int)}
    query = select(RectificationItem).where(RectificationItem.case_id == case_id, RectificationItem.status == status)
    if duty:
        query = query.where(RectificationItem.duty == duty)
    return [_choice(item, reported) for item in session.scalars(query.order_by(RectificationItem.item_no)).all()]


@form_options("rectification.open_items")
def open_item_choices(session, case_id: int, data: dict[str, Any]) -> list[dict[str, Any]]:
    """The ledger's open items as choices: "3. 白条入账（用财·重大）", marked when the unit reported it done
    (and in English for English pages: the description stays as the department typed it)."""
    return _choices(session, case_id, data)


@form_options("rectification.closed_items")
def closed_item_choices(session, case_id: int, data: dict[str, Any]) -> list[dict[str, Any]]:
    return _choices(session, case_id, data, status="closed")


for _duty in DUTIES:
    form_options(f"rectification.open_{_duty}_items")(
        lambda session, case_id, data, _d=_duty: _choices(session, case_id, data, duty=_d))


@form_options("rectification.case_attachments")
def attachment_choices(session, case_id: int, data: dict[str, Any]) -> list[dict[str, Any]]:
    """The case's attachments as evidence choices: "整改佐证.pdf（2027-03-02）"."""
    rows = session.scalars(select(Attachment).where(Attachment.case_id == case_id).order_by(Attachment.id)).all()
    return [{"const": a.id, "title": f"{a.filename}（{_local(a.uploaded_at).date().isoformat()}）",
             "title_en": f"{a.filename} ({_local(a.uploaded_at).date().isoformat()})"} for a in rows]


def my_items(session, username: str) -> list[RectificationItem]:
    """The rectification items whose contact person is this account (我的整改事项), open ones first."""
    return list(session.scalars(select(RectificationItem).where(RectificationItem.contact_username == username)
                                .order_by(RectificationItem.status.desc(), RectificationItem.deadline,
                                          RectificationItem.case_id, RectificationItem.item_no)).all())
