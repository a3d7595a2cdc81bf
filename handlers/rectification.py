"""Rectification (整改): items per finding, contact persons, the follow-up visit ledger (回访台账)."""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from engine.errors import InvalidData
from . import HandlerContext, field_titles, form_options, handler
from .records import FollowUpVisit, RectificationItem

field_titles({"open_item_count": ("未销号问题数", "Items still open"), "rectification_round": ("整改轮次", "Rectification round")})


def _date(value: Any) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise InvalidData("日期格式应为 YYYY-MM-DD", details={"date": [str(value)]})


def contact_for(severity: str, data: dict[str, Any]) -> tuple[str, str]:
    """Major problems go to the unit's principal leader, general ones to the deputy in charge."""
    if severity == "major":
        return "principal", str(data.get("unit_principal") or "")
    return "deputy", str(data.get("unit_deputy") or "")


def open_item_count(ctx: HandlerContext) -> int:
    return len(
        ctx.session.scalars(
            select(RectificationItem.id).where(
                RectificationItem.case_id == ctx.case_id, RectificationItem.status == "open"
            )
        ).all()
    )


@handler("rectification.open_items")
def open_items(ctx: HandlerContext) -> dict[str, Any]:
    """One rectification item per finding; serious cases are put under listed supervision (挂牌督办)."""
    deadline = _date(ctx.data.get("rectification_deadline"))
    serious = bool(ctx.data.get("serious"))
    for finding in ctx.data.get("findings") or []:
        role, name = contact_for(finding.get("severity", "general"), ctx.data)
        ctx.session.add(
            RectificationItem(
                case_id=ctx.case_id,
                item_no=int(finding["item_no"]),
                duty=finding.get("duty", ""),
                description=finding.get("description", ""),
                severity=finding.get("severity", "general"),
                unit=ctx.unit,
                contact_role=role,
                contact_name=name,
                deadline=deadline,
                listed_supervision=serious,
                opened_at=ctx.now,
            )
        )
    ctx.session.flush()
    count = open_item_count(ctx)
    ctx.data["open_item_count"] = count
    ctx.data["rectification_round"] = 0
    return {"open_item_count": count}


@handler("rectification.record_visit")
def record_visit(ctx: HandlerContext) -> dict[str, Any]:
    """Write a ledger line for every open item and close those the visit confirmed rectified."""
    closed = {int(n) for n in ctx.data.get("closed_item_nos") or []}
    round_no = int(ctx.data.get("rectification_round") or 0) + 1
    visit_date = _date(ctx.data.get("visit_date"))
    note = str(ctx.data.get("visit_note") or "")
    items = ctx.session.scalars(
        select(RectificationItem).where(
            RectificationItem.case_id == ctx.case_id, RectificationItem.status == "open"
        )
    ).all()
    for item in items:
        done = item.item_no in closed
        ctx.session.add(
            FollowUpVisit(
                case_id=ctx.case_id,
                item_id=item.id,
                round=round_no,
                visit_date=visit_date,
                result="closed" if done else "open",
                note=note,
                recorded_at=ctx.now,
            )
        )
        item.visits += 1
        if done:
            item.status = "closed"
            item.closed_at = ctx.now
    remaining = sum(1 for item in items if item.status == "open")
    ctx.data["open_item_count"] = remaining
    ctx.data["rectification_round"] = round_no
    ctx.data["closed_item_nos"] = []
    return {"round": round_no, "open_item_count": remaining}


@form_options("rectification.open_items")
def open_item_choices(session, case_id: int, data: dict[str, Any]) -> list[dict[str, Any]]:
    """The ledger's open items as choices: "3. 白条入账（用财·重大）", marked when the unit reported it done
    (and in English for English pages: the description stays as the department typed it)."""
    from .findings import DUTY_NAMES, DUTY_NAMES_EN
    from .ledger import SEVERITY_NAMES, SEVERITY_NAMES_EN

    reported = {n for n in data.get("reported_item_nos") or [] if isinstance(n, int)}
    items = session.scalars(select(RectificationItem).where(
        RectificationItem.case_id == case_id, RectificationItem.status == "open").order_by(RectificationItem.item_no)).all()
    return [{"const": item.item_no,
             "title": f"{item.item_no}. {item.description}（{DUTY_NAMES.get(item.duty, item.duty)}·"
                      f"{SEVERITY_NAMES.get(item.severity, item.severity)}）" + ("（单位已报整改）" if item.item_no in reported else ""),
             "title_en": f"{item.item_no}. {item.description} ({DUTY_NAMES_EN.get(item.duty, item.duty)}, "
                         f"{SEVERITY_NAMES_EN.get(item.severity, item.severity)})"
                         + (" (reported rectified by the unit)" if item.item_no in reported else "")}
            for item in items]
