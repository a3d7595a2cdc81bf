"""The cadre's integrity file (廉政档案), keyed by the person record (ID number), never by name.

It holds every joint-audit case of the person with its scores, grade, findings and rectification result
(filed at the end of a case by `integrity_file.archive`), the demerit points per year with their consequence
(handlers/demerits.py), and the accountability outcomes and sanctions with their ban periods (seed 004:
dismissed or ordered to resign — no equivalent post for 1 year; demoted — no promotion for 2 years).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Optional

from sqlalchemy import Float, ForeignKey, Integer, String, Text, func, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.errors import InvalidData, NotFound
from engine.models import Base, Case
from engine.timers import office_date
from engine.vocabulary import AUDIT_TYPES, GRADE_NAMES
from . import HandlerContext, field_titles, handler
from .cadres import UNIT_LEVELS, CadreCase, Person, ensure_person, id_number_problem, normalize_id_number
from .demerits import DemeritYear, demerit_years

field_titles({
    "archived": ("已存入廉政档案", "Filed in the integrity file"),
    "accountability_outcome_name": ("问责处理", "Accountability outcome"),
    "sanction_ban": ("影响期", "Ban period"),
})

# Accountability outcomes, lightest to heaviest (seed 003 lists them, seed 004 gives the bans).
OUTCOMES: dict[str, tuple[str, str]] = {
    "admonition_talk": ("信访约谈", "admonition talk"),
    "circulated_criticism": ("通报批评", "circulated criticism"),
    "warning_talk": ("诫勉谈话", "warning talk"),
    "suspended_study": ("待岗学习", "suspended for study"),
    "moved_off_post": ("调离工作岗位", "moved off the post"),
    "dismissed": ("免职", "dismissed"),
    "demoted": ("降职", "demoted"),
    "grade_lowered": ("降级", "grade lowered"),
    "ordered_resign": ("责令辞职", "ordered to resign"),
    "disciplinary": ("纪律责任追究", "disciplinary action"),
}
# outcome -> (ban kind, years); the text a clerk reads is "<date> 前<ban>".
BANS: dict[str, tuple[str, int]] = {"dismissed": ("equivalent_post", 1), "ordered_resign": ("equivalent_post", 1),
                                    "demoted": ("promotion", 2)}
BAN_NAMES = {"equivalent_post": ("不得担任与原任职务相当的领导职务", "no post equivalent to the former one"),
             "promotion": ("不得提拔", "no promotion")}
GROUNDS = {"late_report": ("整改报告逾期未报", "rectification report late"),
           "false_report": ("整改报告弄虚作假", "false rectification report"),
           # the four grounds to hold to account (seed 003), decided through handlers/accountability.py
           "poor_execution": ("执行不力", "poor execution"),
           "wrong_decision": ("决策失误", "wrong decision"),
           "management_duty": ("不认真履行管理职责", "not performing management duty"),
           "weak_supervision": ("内部监督管理不力", "weak internal supervision")}
REASON_CHARS = 5000


class IntegrityRecord(Base):
    """An entry of the integrity file: one joint audit's result and its rectification, filed when the case ends."""

    __tablename__ = "integrity_record"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), unique=True)
    cadre_name: Mapped[str] = mapped_column(String(200), index=True)  # as the case named them; the key is person_id
    unit: Mapped[str] = mapped_column(String(200))
    audit_type: Mapped[str] = mapped_column(String(20))
    finding_count: Mapped[int] = mapped_column(Integer)
    major_count: Mapped[int] = mapped_column(Integer)
    rectification_rounds: Mapped[int] = mapped_column(Integer)
    conclusion: Mapped[str] = mapped_column(Text, default="")
    archived_at: Mapped[datetime]
    # issue 8 (migration 0011)
    person_id: Mapped[Optional[int]] = mapped_column(ForeignKey("person.id"), index=True)
    personnel_score: Mapped[Optional[float]] = mapped_column(Float)
    establishment_score: Mapped[Optional[float]] = mapped_column(Float)
    finance_score: Mapped[Optional[float]] = mapped_column(Float)
    overall_score: Mapped[Optional[float]] = mapped_column(Float)
    grade: Mapped[str] = mapped_column(String(10), default="", server_default="")
    findings_summary: Mapped[str] = mapped_column(Text, default="", server_default="")  # JSON list, see _summary
    items_closed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    items_open: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    repeated_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    listed_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Sanction(Base):
    """An accountability outcome decided for a person, with the ban it carries (seed 004)."""

    __tablename__ = "sanction"
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[Optional[int]] = mapped_column(ForeignKey("person.id"), index=True)  # None: case had no ID number
    cadre_name: Mapped[str] = mapped_column(String(100), default="")
    outcome: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str] = mapped_column(Text)
    ground: Mapped[str] = mapped_column(String(200), default="")
    decided_on: Mapped[date]
    case_id: Mapped[Optional[int]] = mapped_column(ForeignKey("case.id"), index=True)
    ban_kind: Mapped[str] = mapped_column(String(20), default="")
    ban_until: Mapped[Optional[date]]
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime]

    @property
    def outcome_name(self) -> str:
        return OUTCOMES.get(self.outcome, (self.outcome, ""))[0]

    @property
    def ground_name(self) -> str:
        return GROUNDS.get(self.ground, (self.ground, ""))[0]

    def ban_text(self) -> str:
        """"2028-03-01 前不得提拔", or "" for an outcome without a ban."""
        if not self.ban_kind or self.ban_until is None:
            return ""
        return f"{self.ban_until.isoformat()} 前{BAN_NAMES[self.ban_kind][0]}"

    def ban_running(self, today: date) -> bool:
        return self.ban_until is not None and today < self.ban_until


def _years_later(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February: the ban ends on 1 March of a common year
        return date(day.year + years, 3, 1)


def ban_for(outcome: str, decided_on: date) -> tuple[str, date | None]:
    kind, years = BANS.get(outcome, ("", 0))
    return kind, (_years_later(decided_on, years) if kind else None)


# --- which person a case concerns ---------------------------------------------------------------
def case_person(session: Session, case_id: int, data: dict[str, Any], now: datetime | None = None) -> Person | None:
    """The case's cadre: the CadreCase link, else case data person_id, else (created from) cadre_id_number."""
    person = session.scalar(select(Person).join(CadreCase, CadreCase.person_id == Person.id)
                            .where(CadreCase.case_id == case_id, CadreCase.relation == "subject").limit(1))
    if person is None and isinstance(data.get("person_id"), int):
        person = session.get(Person, data["person_id"])
    id_number = normalize_id_number(str(data.get("cadre_id_number") or ""))
    if person is None and id_number and now is not None and id_number_problem(id_number) is None:
        person = ensure_person(session, id_number, str(data.get("cadre_name") or ""), now)
        session.add(CadreCase(person_id=person.id, case_id=case_id, relation="subject"))
        session.flush()
    return person


# --- filed by the processes ---------------------------------------------------------------------
def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _grade_name(data: dict[str, Any]) -> str:
    grade = str(data.get("evaluation_grade") or "")
    return GRADE_NAMES.get(grade, grade)


def _summary(session: Session, case_id: int, data: dict[str, Any]) -> list[dict[str, Any]]:
    """What the file keeps of each finding: number, duty, severity, text, category, points, repeated, listed,
    and its rectification item's status (open / closed) where one was opened."""
    from .records import RectificationItem  # records imports this module back for IntegrityRecord

    items = {i.item_no: i for i in session.scalars(select(RectificationItem).where(RectificationItem.case_id == case_id))}
    listed = {n for n in data.get("listed_item_nos") or [] if isinstance(n, int)}
    keep = ("item_no", "duty", "severity", "description", "problem_category", "repeated", "demerit_points")
    out = []
    for f in data.get("findings") or []:
        if not isinstance(f, dict):
            continue
        row = {k: f.get(k) for k in keep if k in f}
        item = items.get(f.get("item_no"))
        row["listed"] = f.get("item_no") in listed or bool(item and item.listed_supervision)
        row["repeated"] = bool(f.get("repeated") or (item and item.repeated))
        if item is not None:
            row["status"] = item.status
        out.append(row)
    return out


def _item_counts(summary: list[dict[str, Any]]) -> dict[str, int]:
    return {"closed": sum(1 for f in summary if f.get("status") == "closed"),
            "open": sum(1 for f in summary if f.get("status") == "open"),
            "repeated": sum(1 for f in summary if f["repeated"]), "listed": sum(1 for f in summary if f["listed"])}


@handler("integrity_file.archive")
def archive(ctx: HandlerContext) -> dict[str, Any]:
    """File the joint-audit result and its rectification record in the cadre's integrity file."""
    findings = [f for f in ctx.data.get("findings") or [] if isinstance(f, dict)]
    person = case_person(ctx.session, ctx.case_id, ctx.data, ctx.now)
    summary = _summary(ctx.session, ctx.case_id, ctx.data)
    counts = _item_counts(summary)
    record = ctx.session.scalar(select(IntegrityRecord).where(IntegrityRecord.case_id == ctx.case_id))
    if record is None:
        record = IntegrityRecord(case_id=ctx.case_id)
        ctx.session.add(record)
    record.person_id = person.id if person else None
    record.cadre_name = str(ctx.data.get("cadre_name") or (person.name if person else ""))
    record.unit = ctx.unit
    record.audit_type = str(ctx.data.get("audit_type") or "")
    record.finding_count = len(findings)
    record.major_count = sum(1 for f in findings if f.get("severity") == "major")
    record.rectification_rounds = int(ctx.data.get("rectification_round") or 0)
    record.conclusion = str(ctx.data.get("report_conclusion") or ctx.data.get("conclusion") or "")
    record.archived_at = ctx.now
    for duty in ("personnel", "establishment", "finance", "overall"):
        setattr(record, f"{duty}_score", _number(ctx.data.get(f"{duty}_score")))
    record.grade = _grade_name(ctx.data)
    record.findings_summary = json.dumps(summary, ensure_ascii=False)
    record.items_closed, record.items_open = counts["closed"], counts["open"]
    record.repeated_count, record.listed_count = counts["repeated"], counts["listed"]
    ctx.data["archived"] = True
    if person is not None:
        ctx.data["person_id"] = person.id
    return {"archived": True, "person_id": record.person_id}


def record_sanction(session: Session, person: Person | None, outcome: str, reason: str, ground: str,
                    decided_on: date, actor: str, now: datetime, case_id: int | None = None,
                    cadre_name: str = "") -> Sanction:
    """File an accountability outcome; InvalidData names the field that is wrong."""
    outcome, reason, ground = (outcome or "").strip(), (reason or "").strip(), (ground or "").strip()
    if outcome not in OUTCOMES:
        raise InvalidData("问责处理方式无效", details={"outcome": [f"未知的处理方式：{outcome or '（空）'}"]})
    if not reason:
        raise InvalidData("请填写问责事由", details={"reason": ["必填"]})
    if len(reason) > REASON_CHARS:
        raise InvalidData("问责事由过长", details={"reason": [f"不超过 {REASON_CHARS} 字"]})
    if len(ground) > 200:
        raise InvalidData("问责情形过长", details={"ground": ["不超过 200 字"]})
    kind, until = ban_for(outcome, decided_on)
    sanction = Sanction(person_id=person.id if person else None, cadre_name=person.name if person else cadre_name,
                        outcome=outcome, reason=reason, ground=ground, decided_on=decided_on, case_id=case_id,
                        ban_kind=kind, ban_until=until, recorded_by=actor, recorded_at=now)
    session.add(sanction)
    session.flush()
    return sanction


def _decided_on(value: Any, now: datetime) -> date:
    if isinstance(value, str) and value.strip():
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise InvalidData("处理日期格式无效", details={"accountability_decided_on": [value]}) from None
    return office_date(now)


@handler("integrity_file.record_accountability")
def record_accountability(ctx: HandlerContext) -> dict[str, Any]:
    """File the discipline body's outcome (case data accountability_outcome/_reason/_ground) for the case's cadre.

    No outcome (or "none") files nothing. A case without an ID number keeps the sanction under the cadre's name."""
    outcome = str(ctx.data.get("accountability_outcome") or "").strip()
    if outcome in ("", "none"):
        return {"sanction_id": None}
    person = case_person(ctx.session, ctx.case_id, ctx.data, ctx.now)
    ground = str(ctx.data.get("accountability_ground") or "")
    reason = str(ctx.data.get("accountability_reason") or "").strip() or GROUNDS.get(ground, ("", ""))[0]
    decision = str(ctx.data.get("accountability_decision") or "").strip()  # the discipline body's 处理意见
    reason = "；".join(part for part in (reason, f"处理意见：{decision}" if decision else "") if part)
    if len(reason) > REASON_CHARS:  # many rounds' reasons: the case keeps them whole, the file their start
        reason = reason[:REASON_CHARS - 1] + "…"
    try:
        sanction = record_sanction(ctx.session, person, outcome, reason, ground,
                                   _decided_on(ctx.data.get("accountability_decided_on"), ctx.now), ctx.actor, ctx.now,
                                   case_id=ctx.case_id, cadre_name=str(ctx.data.get("cadre_name") or ""))
    except InvalidData as err:  # the case data's field names, not the page's
        raise InvalidData(err.message, details={f"accountability_{k}": v for k, v in (err.details or {}).items()}) from None
    ctx.data["accountability_outcome_name"] = sanction.outcome_name
    ctx.data["sanction_ban"] = sanction.ban_text()
    return {"sanction_id": sanction.id, "ban_until": sanction.ban_until.isoformat() if sanction.ban_until else None}


# --- the read side: search and one cadre's file ------------------------------------------------
@dataclass
class PersonRow:
    id: int
    name: str
    id_number: str
    post: str
    unit: str
    cases: int


def search_people(session: Session, query: str, units: frozenset[str] | None = None, limit: int = 200) -> list[PersonRow]:
    """Cadres whose name, ID number or unit contains `query` (all when empty), in the given units only."""
    q = (query or "").strip()[:100]
    stmt = (select(Person, func.count(CadreCase.id)).outerjoin(CadreCase, CadreCase.person_id == Person.id)
            .group_by(Person.id).order_by(Person.name, Person.id_number).limit(limit))
    if q:
        like = f"%{q.replace('%', '').replace('_', '')}%"
        stmt = stmt.where(or_(Person.name.like(like), Person.id_number.like(like.upper()), Person.unit.like(like)))
    if units is not None:
        stmt = stmt.where(Person.unit.in_(sorted(units)))
    return [PersonRow(p.id, p.name, p.id_number, p.post, p.unit, n) for p, n in session.execute(stmt).all()]


@dataclass
class CaseEntry:
    """One joint audit in the file: from its IntegrityRecord when archived, else from the running case's data."""

    case_id: int
    title: str
    unit: str
    audit_type: str
    status: str
    started_on: date
    completed_on: date | None
    scores: dict[str, float | None]
    grade: str
    findings: list[dict[str, Any]]
    rounds: int
    items_closed: int
    items_open: int
    repeated: int
    listed: int
    conclusion: str
    archived: bool

    @property
    def audit_type_name(self) -> str:
        return AUDIT_TYPES.get(self.audit_type, self.audit_type)

    @property
    def major_count(self) -> int:
        return sum(1 for f in self.findings if f.get("severity") == "major")


@dataclass
class CadreFile:
    person: Person
    cases: list[CaseEntry]
    demerits: list[DemeritYear]
    sanctions: list[Sanction]
    today: date
    entries: list[Any] = field(default_factory=list)  # DemeritEntry rows, newest first

    @property
    def unit_level_name(self) -> str:
        return UNIT_LEVELS.get(self.person.unit_level, (self.person.unit_level, ""))[0]

    @property
    def running_bans(self) -> list[Sanction]:
        return [s for s in self.sanctions if s.ban_running(self.today)]


def _case_entry(session: Session, case: Case, record: IntegrityRecord | None) -> CaseEntry:
    if record is not None:
        return CaseEntry(case.id, case.title, record.unit, record.audit_type, case.status, office_date(case.started_at),
                         office_date(case.completed_at) if case.completed_at else None,
                         {"personnel": record.personnel_score, "establishment": record.establishment_score,
                          "finance": record.finance_score, "overall": record.overall_score},
                         record.grade, json.loads(record.findings_summary or "[]"), record.rectification_rounds,
                         record.items_closed, record.items_open, record.repeated_count, record.listed_count,
                         record.conclusion, True)
    data = json.loads(case.data_json or "{}")
    summary = _summary(session, case.id, data)
    counts = _item_counts(summary)
    return CaseEntry(case.id, case.title, case.unit, str(data.get("audit_type") or ""), case.status,
                     office_date(case.started_at), office_date(case.completed_at) if case.completed_at else None,
                     {d: _number(data.get(f"{d}_score")) for d in ("personnel", "establishment", "finance", "overall")},
                     _grade_name(data), summary, int(data.get("rectification_round") or 0),
                     counts["closed"], counts["open"], counts["repeated"], counts["listed"],
                     str(data.get("report_conclusion") or ""), False)


def cadre_file(session: Session, person_id: int, now: datetime, units: frozenset[str] | None = None) -> CadreFile:
    """Everything the integrity file holds for one person; NotFound outside the reader's units."""
    from .demerits import DemeritEntry

    person = session.get(Person, person_id)
    if person is None or (units is not None and person.unit not in units):
        raise NotFound("干部档案不存在")
    today = office_date(now)
    rows = session.execute(
        select(Case, IntegrityRecord).join(CadreCase, CadreCase.case_id == Case.id)
        .outerjoin(IntegrityRecord, IntegrityRecord.case_id == Case.id)
        .where(CadreCase.person_id == person_id).order_by(Case.started_at.desc(), Case.id.desc())).all()
    cases = [_case_entry(session, case, record) for case, record in rows]
    sanctions = list(session.scalars(select(Sanction).where(Sanction.person_id == person_id)
                                     .order_by(Sanction.decided_on.desc(), Sanction.id.desc())).all())
    entries = list(session.scalars(select(DemeritEntry).where(DemeritEntry.person_id == person_id)
                                   .order_by(DemeritEntry.year.desc(), DemeritEntry.id.desc())).all())
    return CadreFile(person, cases, demerit_years(session, person_id, today.year), sanctions, today, entries)


def person_or_404(session: Session, person_id: int, units: frozenset[str] | None = None) -> Person:
    person = session.get(Person, person_id)
    if person is None or (units is not None and person.unit not in units):
        raise NotFound("干部档案不存在")
    return person
