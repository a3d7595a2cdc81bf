"""Demerit points for economic-responsibility violations (seed 002, 廉政监督卡扣分): 0.5–2 points per violation,
leadership or direct responsibility, totalled per person and year; the `demerit_consequence` decision table
turns this year's and the two previous years' totals into the consequence."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Optional

from sqlalchemy import Float, ForeignKey, Integer, String, Text, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.decisions import decide
from engine.errors import InvalidData
from engine.models import Base
from engine.timers import office_date
from . import HandlerContext, field_titles, handler

field_titles({
    "demerit_total": ("本年度累计扣分", "Demerit points this year"),
    "demerit_consequence": ("扣分处理", "Demerit consequence"),
    "demerit_consequence_name": ("扣分处理", "Demerit consequence"),
    "demerit_reason": ("扣分处理依据", "Rule applied"),
})

MIN_POINTS, MAX_POINTS = 0.5, 2.0
RESPONSIBILITY_TYPES = {"leadership": ("领导责任", "leadership responsibility"),
                        "direct": ("直接责任", "direct responsibility")}
REASON_CHARS = 1000


class DemeritEntry(Base):
    """One violation's points in one year, from a case's finance finding or recorded by hand."""

    __tablename__ = "demerit_entry"
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    points: Mapped[float] = mapped_column(Float)
    case_id: Mapped[Optional[int]] = mapped_column(ForeignKey("case.id"), index=True)
    item_no: Mapped[Optional[int]]  # the finding of that case
    responsibility_type: Mapped[str] = mapped_column(String(20), default="")
    reason: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime]

    @property
    def responsibility_name(self) -> str:
        return RESPONSIBILITY_TYPES.get(self.responsibility_type, (self.responsibility_type, ""))[0]


def points_problem(value: Any) -> str | None:
    """Why `value` is not a valid points figure for one violation, or None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "扣分应为数字"
    if not MIN_POINTS <= value <= MAX_POINTS:
        return f"每项违规扣 {MIN_POINTS:g} 至 {MAX_POINTS:g} 分"
    return None


def add_entry(session: Session, person_id: int, year: int, points: Any, responsibility_type: str, reason: str,
              actor: str, now: datetime, case_id: int | None = None, item_no: int | None = None) -> DemeritEntry:
    """File one violation's points; InvalidData names the field that is wrong. A finding filed from a case may
    lack its responsibility type (""); one recorded by hand must say it."""
    problems: dict[str, list[str]] = {}
    if (why := points_problem(points)) is not None:
        problems["points"] = [why]
    if responsibility_type not in RESPONSIBILITY_TYPES and (case_id is None or responsibility_type):
        problems["responsibility_type"] = ["请选择领导责任或直接责任"]
    reason = (reason or "").strip()
    if not reason:
        problems["reason"] = ["必填"]
    elif len(reason) > REASON_CHARS:
        problems["reason"] = [f"不超过 {REASON_CHARS} 字"]
    this_year = office_date(now).year
    if not isinstance(year, int) or not 2000 <= year <= this_year:
        problems["year"] = [f"年度应在 2000 至 {this_year} 之间"]
    if problems:
        raise InvalidData("扣分记录有误，请按提示修改", details=problems)
    entry = DemeritEntry(person_id=person_id, year=year, points=float(points), case_id=case_id, item_no=item_no,
                         responsibility_type=responsibility_type, reason=reason, recorded_by=actor, recorded_at=now)
    session.add(entry)
    session.flush()
    return entry


def year_totals(session: Session, person_id: int) -> dict[int, float]:
    rows = session.execute(select(DemeritEntry.year, func.sum(DemeritEntry.points))
                           .where(DemeritEntry.person_id == person_id).group_by(DemeritEntry.year)).all()
    return {year: float(total) for year, total in rows}


@dataclass
class DemeritYear:
    """One year's total and what the decision table makes of it with the two years before."""

    year: int
    points: float
    two_years: float
    three_years: float
    consequence: str
    consequence_name: str
    reason: str


def consequence(session: Session, totals: dict[int, float], year: int) -> DemeritYear:
    this, last, before = (totals.get(year, 0.0), totals.get(year - 1, 0.0), totals.get(year - 2, 0.0))
    out = decide(session, "demerit_consequence",
                 {"points_this_year": this, "points_last_year": last, "points_year_before": before})
    return DemeritYear(year, this, this + last, this + last + before, str(out.get("consequence") or ""),
                       str(out.get("consequence_name") or ""), str(out.get("reason") or ""))


def demerit_years(session: Session, person_id: int, this_year: int) -> list[DemeritYear]:
    """Every year from the first with points up to this year (a year without points still counts as a year
    of the consecutive sums), newest first; empty when the person never lost a point."""
    totals = year_totals(session, person_id)
    if not totals:
        return []
    last = max(this_year, max(totals))
    return [consequence(session, totals, year) for year in range(last, min(totals) - 1, -1)]


def _finance_findings(data: dict[str, Any]) -> list[dict[str, Any]]:
    merged = [f for f in data.get("findings") or [] if isinstance(f, dict)]
    if not merged:
        merged = [{**f, "duty": "finance"} for f in data.get("finance_findings") or [] if isinstance(f, dict)]
    return [f for f in merged if f.get("duty") == "finance" and f.get("demerit_points") not in (None, "")]


@handler("demerits.record")
def record(ctx: HandlerContext) -> dict[str, Any]:
    """File the case's finance findings' demerit points for its cadre in the current year (again on a rerun:
    the case's earlier entries are replaced, keeping their year) and put the year's consequence into case data."""
    from .integrity_file import case_person  # integrity_file reads this module's years

    findings = _finance_findings(ctx.data)
    for f in findings:
        if (why := points_problem(f.get("demerit_points"))) is not None:
            raise InvalidData(f"用财问题「{f.get('description', '')}」的扣分有误：{why}",
                              details={"finance_findings": [why]})
    person = case_person(ctx.session, ctx.case_id, ctx.data, ctx.now)
    year = office_date(ctx.now).year
    case_points = sum(float(f["demerit_points"]) for f in findings)
    if person is None:  # no ID number on the case: nothing to file under, the case's own points stand alone
        totals = {year: case_points}
    else:
        earlier = ctx.session.scalar(select(func.min(DemeritEntry.year)).where(DemeritEntry.case_id == ctx.case_id))
        year = earlier or year
        ctx.session.execute(delete(DemeritEntry).where(DemeritEntry.case_id == ctx.case_id))
        for f in findings:
            kind = str(f.get("responsibility_type") or "")
            add_entry(ctx.session, person.id, year, f["demerit_points"], kind if kind in RESPONSIBILITY_TYPES else "",
                      f"{ctx.data.get('cadre_name') or person.name}：{f.get('description') or '用财问题'}",
                      ctx.actor, ctx.now, case_id=ctx.case_id, item_no=f.get("item_no") if isinstance(f.get("item_no"), int) else None)
        totals = year_totals(ctx.session, person.id)
    result = consequence(ctx.session, totals, year)
    ctx.data.update(demerit_total=result.points, demerit_consequence=result.consequence,
                    demerit_consequence_name=result.consequence_name, demerit_reason=result.reason)
    return {"demerit_total": result.points, "demerit_consequence": result.consequence, "filed": person is not None}
