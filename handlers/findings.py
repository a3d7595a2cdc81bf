"""Merging the three departments' findings (用人/用编/用财) into one numbered list, repeats (屡查屡犯) detected,
and the unit's written confirmation of the feedback (签字确认) with its disputes reviewed by the departments."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from engine.errors import InvalidData
from . import HandlerContext, field_titles, form_options, handler

DUTIES = ("personnel", "establishment", "finance")
DUTY_NAMES = {"personnel": "用人", "establishment": "用编", "finance": "用财"}
DUTY_NAMES_EN = {"personnel": "appointments", "establishment": "establishment", "finance": "finance"}
DUTY_ROLES = {"personnel": "organization", "establishment": "staffing", "finance": "audit"}  # who closes what

field_titles({
    "findings": ("问题清单", "Findings"), "finding_count": ("问题数", "Number of findings"),
    "repeated_item_nos": ("屡查屡犯问题", "Repeated findings"),
    "disputed_duties": ("有异议的责任", "Duties disputed"), "feedback_disputed": ("对反馈意见有异议", "Feedback disputed"),
    "withdrawn_findings": ("复核撤销的问题", "Findings withdrawn on review"),
    "dispute_rounds": ("异议复核次数", "Dispute reviews"),
})


def _earlier_item(ctx: HandlerContext, category: str):
    """The newest rectification item of an earlier case of this unit in the same problem category."""
    from .records import RectificationItem

    if not category:
        return None
    return ctx.session.scalars(
        select(RectificationItem).where(RectificationItem.unit == ctx.unit, RectificationItem.problem_category == category,
                                        RectificationItem.case_id != ctx.case_id)
        .order_by(RectificationItem.case_id.desc(), RectificationItem.item_no)).first()


@handler("findings.merge")
def merge_findings(ctx: HandlerContext) -> dict[str, Any]:
    """Tag each department's findings with its duty and number them 1..n (情况汇总), and flag those that repeat a
    finding of an earlier case of the same unit in the same problem category (屡查屡犯)."""
    from .rectification import PROBLEM_CATEGORIES

    merged = []
    for duty in DUTIES:
        for finding in ctx.data.get(f"{duty}_findings") or []:
            category = str(finding.get("problem_category") or "")
            if category and category not in PROBLEM_CATEGORIES[duty]:
                raise InvalidData(f"{DUTY_NAMES[duty]}问题「{finding.get('description', '')}」的问题类别 {category} 不在"
                                  f"{DUTY_NAMES[duty]}问题类别中", details={f"{duty}_findings": [category]})
            row = {**finding, "duty": duty, "item_no": len(merged) + 1, "repeated": False}
            earlier = _earlier_item(ctx, category)
            if earlier is not None:
                row.update(repeated=True, repeat_of_case_id=earlier.case_id, repeat_of_item_no=earlier.item_no)
            merged.append(row)
    ctx.data["findings"] = merged
    ctx.data["finding_count"] = len(merged)
    ctx.data["repeated_item_nos"] = [f["item_no"] for f in merged if f["repeated"]]
    return {"finding_count": len(merged), "repeated_item_nos": ctx.data["repeated_item_nos"]}


@form_options("findings.all")
def finding_choices(session, case_id: int, data: dict[str, Any]) -> list[dict[str, Any]]:
    """The case's merged findings as choices: "3. 白条入账（用财）", repeats marked 屡查屡犯."""
    out = []
    for f in data.get("findings") or []:
        if not isinstance(f, dict) or not isinstance(f.get("item_no"), int):
            continue
        duty = str(f.get("duty") or "")
        mark = "（屡查屡犯）" if f.get("repeated") else ""
        out.append({"const": f["item_no"], "title": f"{f['item_no']}. {f.get('description', '')}（{DUTY_NAMES.get(duty, duty)}）{mark}",
                    "title_en": f"{f['item_no']}. {f.get('description', '')} ({DUTY_NAMES_EN.get(duty, duty)})"
                                + (" (repeated)" if mark else "")})
    return out


def _disputed_of(duty: str):
    def choices(session, case_id: int, data: dict[str, Any]) -> list[dict[str, Any]]:
        disputed = set(data.get("disputed_item_nos") or [])
        return [c for c, f in zip(finding_choices(session, case_id, data), _numbered(data))
                if f.get("duty") == duty and f["item_no"] in disputed]
    return choices


def _numbered(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in data.get("findings") or [] if isinstance(f, dict) and isinstance(f.get("item_no"), int)]


for _duty in DUTIES:
    form_options(f"findings.disputed_{_duty}")(_disputed_of(_duty))


@handler("findings.record_confirmation")
def record_confirmation(ctx: HandlerContext) -> dict[str, Any]:
    """The unit signed the feedback (签字确认) or disputed findings: which departments must review which."""
    disputed = ctx.data.get("feedback_confirmation") == "disputed"
    numbers = {f["item_no"]: f for f in _numbered(ctx.data)}
    chosen = [int(n) for n in ctx.data.get("disputed_item_nos") or []] if disputed else []
    unknown = [n for n in chosen if n not in numbers]
    if unknown:
        raise InvalidData(f"有异议的问题序号 {unknown[0]} 不在问题清单中", details={"disputed_item_nos": [str(unknown[0])]})
    if disputed and not chosen:
        raise InvalidData("对反馈意见有异议时，请勾选有异议的问题", details={"disputed_item_nos": ["必填"]})
    duties = sorted({numbers[n].get("duty") for n in chosen}, key=DUTIES.index)
    ctx.data["feedback_disputed"] = bool(chosen)
    ctx.data["disputed_item_nos"] = chosen
    ctx.data["disputed_duties"] = duties
    return {"feedback_disputed": bool(chosen), "disputed_item_nos": chosen, "disputed_duties": duties}


@handler("findings.resolve_dispute")
def resolve_dispute(ctx: HandlerContext) -> dict[str, Any]:
    """Each department kept or withdrew the disputed findings of its duty; the list is renumbered (item numbers
    chosen earlier, e.g. listed supervision, follow their findings) and goes back to the unit to sign."""
    withdrawn_nos: set[int] = set()
    for duty in DUTIES:
        for n in ctx.data.get(f"{duty}_withdrawn_item_nos") or []:
            withdrawn_nos.add(int(n))
        ctx.data[f"{duty}_withdrawn_item_nos"] = []
    kept, withdrawn, renumber = [], [], {}
    for f in _numbered(ctx.data):
        if f["item_no"] in withdrawn_nos:
            withdrawn.append({"description": f.get("description", ""), "duty": f.get("duty"), "item_no": f["item_no"]})
            continue
        renumber[f["item_no"]] = len(kept) + 1
        kept.append({**f, "item_no": len(kept) + 1})
    ctx.data["findings"] = kept
    ctx.data["finding_count"] = len(kept)
    ctx.data["withdrawn_findings"] = list(ctx.data.get("withdrawn_findings") or []) + withdrawn
    for key in ("listed_item_nos", "repeated_item_nos"):
        ctx.data[key] = [renumber[n] for n in ctx.data.get(key) or [] if n in renumber]
    ctx.data["dispute_rounds"] = int(ctx.data.get("dispute_rounds") or 0) + 1
    ctx.data["disputed_item_nos"], ctx.data["disputed_duties"], ctx.data["feedback_disputed"] = [], [], False
    ctx.data["feedback_confirmation"] = ""
    return {"withdrawn": [w["description"] for w in withdrawn], "kept": len(kept)}
