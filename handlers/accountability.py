"""Accountability decisions (问责, seeds 003 and 004): the `accountability_level` table proposes one of the seven
outcomes from the ground and severity; the discipline body confirms it or changes it with a reason; the outcome
and its ban period go into the person's integrity file (integrity_file.record_sanction). 一案双查: a case
against a unit also opens an inquiry into its leaders' responsibility (leaders_inquiry.bpmn)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Optional

from sqlalchemy import Boolean, ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.errors import InvalidData
from engine.models import Base
from engine.timers import office_date
from . import HandlerContext, code_names, field_titles, handler
from .cadres import Person, ensure_person, id_number_problem, normalize_id_number, person_by_id_number
from .integrity_file import GROUNDS, OUTCOMES, Sanction, record_sanction

SEVERITIES: dict[str, tuple[str, str]] = {
    "minor": ("情节较轻", "Minor"), "serious": ("情节严重", "Serious"), "very_serious": ("情节特别严重", "Very serious"),
}
# The four grounds to hold to account (seed 003); integrity_file.GROUNDS holds them with the rectification ones.
ACCOUNTABILITY_GROUNDS = ("poor_execution", "wrong_decision", "management_duty", "weak_supervision")
ROLES = {"subject": ("被反映人", "Person concerned"), "principal": ("主要负责人", "Principal leader"),
         "member": ("班子成员", "Leadership member")}

# the 决策规则 page shows accountability_level's cells by these names
code_names({**SEVERITIES, **{g: GROUNDS[g] for g in ACCOUNTABILITY_GROUNDS}, **OUTCOMES})

field_titles({
    "proposed_outcome_name": ("建议处理方式", "Proposed outcome"),
    "proposal_reason": ("建议理由", "Why proposed"),
    "outcome_changed": ("改定处理方式", "Outcome changed"),
    "accountability_outcome_name": ("问责处理", "Accountability outcome"),
    "inquiry_case_id": ("一案双查项目", "Leaders' inquiry case"),
    "member_sanctions": ("班子成员问责", "Members held to account"),
})


class AccountabilityDecision(Base):
    """One person's accountability outcome in a case: what the table proposed, what was decided, and why."""

    __tablename__ = "accountability_decision"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    complaint_id: Mapped[Optional[int]] = mapped_column(ForeignKey("complaint.id"), index=True)
    person_id: Mapped[Optional[int]] = mapped_column(ForeignKey("person.id"), index=True)
    person_name: Mapped[str] = mapped_column(String(100), default="", server_default="")
    role: Mapped[str] = mapped_column(String(20), default="subject", server_default="subject")
    ground: Mapped[str] = mapped_column(String(40), default="", server_default="")
    severity: Mapped[str] = mapped_column(String(20), default="", server_default="")
    repeat_offence: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    serious_consequences: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    proposed_outcome: Mapped[str] = mapped_column(String(30), default="", server_default="")
    outcome: Mapped[str] = mapped_column(String(30))
    change_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    sanction_id: Mapped[Optional[int]] = mapped_column(ForeignKey("sanction.id"))
    decided_on: Mapped[date]
    decided_by: Mapped[str] = mapped_column(String(100))
    decided_at: Mapped[datetime]

    @property
    def changed(self) -> bool:
        return bool(self.proposed_outcome) and self.outcome != self.proposed_outcome

    @property
    def outcome_name(self) -> str:
        return OUTCOMES.get(self.outcome, (self.outcome, ""))[0]

    @property
    def proposed_outcome_name(self) -> str:
        return OUTCOMES.get(self.proposed_outcome, (self.proposed_outcome, ""))[0]

    @property
    def ground_name(self) -> str:
        return GROUNDS.get(self.ground, (self.ground, ""))[0]

    @property
    def severity_name(self) -> str:
        return SEVERITIES.get(self.severity, (self.severity, ""))[0]

    @property
    def role_name(self) -> str:
        return ROLES.get(self.role, (self.role, ""))[0]


def decisions_for(session: Session, case_ids: list[int]) -> list[tuple[AccountabilityDecision, Sanction | None]]:
    if not case_ids:
        return []
    rows = session.execute(select(AccountabilityDecision, Sanction)
                           .outerjoin(Sanction, Sanction.id == AccountabilityDecision.sanction_id)
                           .where(AccountabilityDecision.case_id.in_(case_ids))
                           .order_by(AccountabilityDecision.id)).all()
    return [(d, s) for d, s in rows]


# --- the process's handlers ----------------------------------------------------------------------
def _person(session: Session, id_number: str, name: str, post: str, unit: str, now: datetime,
            field: str = "cadre_id_number") -> Person:
    id_number = normalize_id_number(id_number or "")
    problem = id_number_problem(id_number) if id_number else "必填项"
    if problem:
        raise InvalidData(f"身份证号有误：{problem}", details={field: [problem]})
    existing = person_by_id_number(session, id_number)
    if existing is not None:  # a known cadre keeps the post and unit the file knows
        return existing
    return ensure_person(session, id_number, name, now, post=post or None, unit=unit or None)


def _decided_on(value: Any, now: datetime) -> date:
    try:
        return date.fromisoformat(str(value)[:10]) if value else office_date(now)
    except ValueError:
        raise InvalidData("处理日期格式无效", details={"accountability_decided_on": ["请输入有效日期（年-月-日）"]}) from None


def _file_one(ctx: HandlerContext, *, person: Person, role: str, outcome: str, reason: str, proposed: str,
              change_reason: str, decided_on: date, complaint_id: int | None) -> AccountabilityDecision:
    ground = str(ctx.data.get("ground") or "")
    parts = [reason]
    if proposed and outcome != proposed:
        parts.append(f"决策表建议“{OUTCOMES.get(proposed, (proposed, ''))[0]}”，改定理由：{change_reason}")
    try:
        sanction = record_sanction(ctx.session, person, outcome, "；".join(p for p in parts if p), ground, decided_on,
                                   ctx.actor, ctx.now, case_id=ctx.case_id, cadre_name=person.name)
    except InvalidData as err:
        raise InvalidData(err.message, details={f"accountability_{k}": v for k, v in (err.details or {}).items()}) from None
    row = AccountabilityDecision(
        case_id=ctx.case_id, complaint_id=complaint_id, person_id=person.id, person_name=person.name, role=role,
        ground=ground, severity=str(ctx.data.get("severity") or ""),
        repeat_offence=ctx.data.get("repeat_offence") is True,
        serious_consequences=ctx.data.get("serious_consequences") is True, proposed_outcome=proposed,
        outcome=outcome, change_reason=change_reason, sanction_id=sanction.id, decided_on=decided_on,
        decided_by=ctx.actor, decided_at=ctx.now)
    ctx.session.add(row)
    ctx.session.flush()
    return row


@handler("accountability.file")
def file(ctx: HandlerContext) -> dict[str, Any]:
    """The outcome decided (confirmed or changed with a reason) goes into the person's integrity file with its
    ban period; a leaders' inquiry files each responsible member too."""
    from .complaint import by_case

    outcome = str(ctx.data.get("accountability_outcome") or "")
    if outcome not in OUTCOMES:
        raise InvalidData("请选择处理方式", details={"accountability_outcome": ["必填项"]})
    proposed = str(ctx.data.get("proposed_outcome") or "")
    change_reason = str(ctx.data.get("change_reason") or "").strip()
    if proposed and outcome != proposed and not change_reason:
        raise InvalidData("处理方式与建议不同，须说明改定理由", details={"change_reason": ["必填项"]})
    reason = str(ctx.data.get("accountability_reason") or "").strip()
    if not reason:
        raise InvalidData("请填写问责事由", details={"accountability_reason": ["必填项"]})
    decided_on = _decided_on(ctx.data.get("accountability_decided_on"), ctx.now)
    complaint = by_case(ctx.session, ctx.case_id)
    unit = complaint.unit if complaint else str(ctx.data.get("inquiry_unit") or "")
    name = str(ctx.data.get("accountable_name") or ctx.data.get("cadre_name") or "").strip()
    if not name:
        raise InvalidData("请填写被问责人姓名", details={"accountable_name": ["必填项"]})
    role = "principal" if ctx.data.get("inquiry_unit") else "subject"
    person = _person(ctx.session, str(ctx.data.get("cadre_id_number") or ""), name,
                     str(ctx.data.get("post") or ""), unit, ctx.now)
    main = _file_one(ctx, person=person, role=role, outcome=outcome, reason=reason, proposed=proposed,
                     change_reason=change_reason, decided_on=decided_on,
                     complaint_id=complaint.id if complaint else None)
    members = []
    for n, member in enumerate(ctx.data.get("members") or [], 1):
        if not isinstance(member, dict):
            continue
        if member.get("outcome") not in OUTCOMES:
            raise InvalidData(f"第 {n} 名班子成员的处理方式无效", details={"members": [f"第 {n} 名：处理方式无效"]})
        try:
            someone = _person(ctx.session, str(member.get("id_number") or ""), str(member.get("name") or ""),
                              str(member.get("post") or ""), unit, ctx.now, field="members")
        except InvalidData as err:
            raise InvalidData(f"第 {n} 名班子成员：{err.message}", details={"members": [f"第 {n} 名：{err.message}"]}) from None
        members.append(_file_one(ctx, person=someone, role="member", outcome=str(member["outcome"]),
                                 reason=str(member.get("reason") or reason), proposed="", change_reason="",
                                 decided_on=decided_on, complaint_id=None).id)
    sanction = ctx.session.get(Sanction, main.sanction_id)
    ctx.data["accountability_outcome_name"] = main.outcome_name
    ctx.data["outcome_changed"] = main.changed
    ctx.data["sanction_ban"] = sanction.ban_text() if sanction else ""
    ctx.data["person_id"] = person.id
    return {"decision_id": main.id, "members": members, "sanction_id": main.sanction_id}


@handler("accountability.open_leaders_inquiry")
def open_leaders_inquiry(ctx: HandlerContext) -> dict[str, Any]:
    """一案双查: an inquiry case into the leaders' responsibility of the unit concerned."""
    from . import units
    from .complaint import by_case

    complaint = by_case(ctx.session, ctx.case_id)
    unit = complaint.unit if complaint else str(ctx.data.get("complaint_unit") or "")
    org = units.by_name(ctx.session, unit)
    data: dict[str, Any] = {"inquiry_unit": unit, "complaint_case_id": ctx.case_id,
                            "summary": (complaint.summary if complaint else str(ctx.data.get("summary") or ""))[:4000],
                            "original_finding": f"{ctx.data.get('accountability_outcome_name') or ''}"
                                                f"（{ctx.data.get('accountable_name') or ctx.data.get('cadre_name') or ''}）"}
    if org is not None and org.principal:
        data["cadre_name"] = org.principal
    inquiry = ctx.start_case("leaders_inquiry", data)
    if complaint is not None:
        complaint.inquiry_case_id = inquiry
    ctx.data["inquiry_case_id"] = inquiry
    return {"inquiry_case_id": inquiry}
