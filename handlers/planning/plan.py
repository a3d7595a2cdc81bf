"""A year's joint-audit plan (年度联审计划): who the rules require (decision table `audit_required`), what the
organization department or the leading group decided for each, and the roster import it came from."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Iterable, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import InvalidData, NotFound

from ..cadres import LEAVING_REASONS, UNIT_LEVELS, Person, completed_years, ensure_person
from .records import PlanEntry, RosterImport
from .roster import Roster, RosterRow, RowProblem

NEVER_AUDITED = 99  # the table's input for "no economic audit on record"
REMOVAL_REASON_CHARS = 500


class RosterRejected(InvalidData):
    """A roster with bad rows, imported neither whole nor in part; `problems` lists them (row, column, reason)."""

    code = "roster_rejected"

    def __init__(self, message: str, problems: list[RowProblem]) -> None:
        details: dict[str, list[str]] = {}
        for p in problems:
            details.setdefault(str(p).split("：", 1)[0], []).append(p.message)
        super().__init__(message, details=details)
        self.problems = problems


class CadreFacts(Protocol):
    """What the rules read, on a roster row or a Person alike."""

    unit_level: str
    unit_class: str
    in_post_since: date | None
    leaving_date: date | None
    leaving_reason: str
    last_audit_date: date | None


def reference_date(year: int, given: date | None = None) -> date:
    """The day the completed years are counted to: the year's 31 December unless another day is given."""
    if given is None:
        return date(year, 12, 31)
    if given.year != year:
        raise InvalidData(f"基准日 {given.isoformat()} 不在计划年度 {year} 年内")
    return given


def audit_inputs(facts: CadreFacts, at: date) -> dict[str, Any] | None:
    """The `audit_required` inputs for a cadre at the reference date, or None when the cadre has left and the
    leaving audit is on record already (nothing left to plan for them)."""
    left = facts.leaving_date is not None and facts.leaving_date <= at
    if left and facts.last_audit_date is not None and facts.last_audit_date >= facts.leaving_date:
        return None
    in_post_until = facts.leaving_date if left else at
    return {
        "leaving_reason": facts.leaving_reason if left else "",
        "unit_level": facts.unit_level,
        "years_in_post": completed_years(facts.in_post_since, in_post_until),
        # The tenure rules ask for one audit in the post: someone audited since taking it is not due again.
        "audited_in_post": bool(facts.last_audit_date and facts.in_post_since
                                and facts.last_audit_date >= facts.in_post_since),
        "unit_class": facts.unit_class or "",
        "years_since_last_audit": (completed_years(facts.last_audit_date, at)
                                   if facts.last_audit_date is not None else NEVER_AUDITED),
    }


@dataclass
class Proposal:
    facts: Any  # a RosterRow or a Person
    required: bool
    rule: str
    reason: str
    years_in_post: int


def propose(session: Session, cadres: Iterable[CadreFacts], at: date) -> list[Proposal]:
    """Every cadre with the table's verdict; writes nothing (a dry run is this and no more)."""
    from engine.decisions import decide

    out = []
    for facts in cadres:
        inputs = audit_inputs(facts, at)
        if inputs is None:
            out.append(Proposal(facts, False, "audited", f"已于 {facts.last_audit_date.isoformat()} 完成离任审计", 0))
            continue
        result = decide(session, "audit_required", inputs)
        out.append(Proposal(facts, bool(result.get("required")), str(result.get("rule") or ""),
                            str(result.get("reason") or ""), inputs["years_in_post"]))
    return out


# --- import ----------------------------------------------------------------------------------------
def import_roster(session: Session, roster: Roster, year: int, actor: str, now: datetime,
                  skip_bad_rows: bool = False) -> RosterImport:
    """Take the roster's people into the person records (upsert by ID number); all rows or none, unless the
    user chose to leave the bad rows out. A file that cannot be read is never imported."""
    if roster.file_problems or (roster.problems and not skip_bad_rows):
        count = len(roster.bad_rows)
        raise RosterRejected(
            roster.file_problems[0].message if roster.file_problems
            else f"花名册有 {count} 行有误，未导入任何数据：请修改后重新导入，或选择跳过有误的行",
            list(roster.problems))
    if not roster.rows:
        raise RosterRejected("花名册中没有可导入的数据行", [])
    for row in roster.rows:
        person = ensure_person(session, row.id_number, row.name, now, post=row.post, unit=row.unit,
                               unit_level=row.unit_level, unit_class=row.unit_class, in_post_since=row.in_post_since)
        # The roster is the record: a blank leaving date or last audit clears what an earlier roster said.
        person.leaving_date, person.leaving_reason = row.leaving_date, row.leaving_reason
        person.last_audit_date = row.last_audit_date
    batch = RosterImport(filename=roster.filename[:255], year=year, imported_by=actor, imported_at=now,
                         row_count=len(roster.rows), skipped_rows=roster.bad_rows,
                         rows=[row.as_json() for row in roster.rows])
    session.add(batch)
    session.flush()
    return batch


def plan_from_import(session: Session, batch: RosterImport, rows: list[RosterRow], at: date,
                     now: datetime) -> list[PlanEntry]:
    """Propose the required people of an import for its year. A person already decided on (confirmed, removed,
    started) keeps that decision; a proposal the rules no longer support is withdrawn."""
    people = {p.id_number: p for p in session.scalars(
        select(Person).where(Person.id_number.in_([r.id_number for r in rows])))}
    existing = {e.person_id: e for e in session.scalars(select(PlanEntry).where(
        PlanEntry.year == batch.year, PlanEntry.person_id.in_([p.id for p in people.values()])))}
    entries = []
    for proposal in propose(session, rows, at):
        row: RosterRow = proposal.facts
        person = people[row.id_number]
        entry = existing.get(person.id)
        if not proposal.required:
            if entry is not None and entry.status == "proposed":
                session.delete(entry)
            continue
        if entry is None:
            entry = PlanEntry(year=batch.year, person_id=person.id, proposed_at=now, status="proposed")
            session.add(entry)
        if entry.status in ("proposed", "confirmed"):
            entry.roster_import_id, entry.reference_date = batch.id, at
            entry.rule, entry.reason, entry.years_in_post = proposal.rule, proposal.reason[:200], proposal.years_in_post
            entry.unit_principal = row.unit_principal or entry.unit_principal or ""
            entry.unit_deputy = row.unit_deputy or entry.unit_deputy or ""
        entries.append(entry)
    session.flush()
    return entries


# --- reading and deciding --------------------------------------------------------------------------
def year_plan(session: Session, year: int, in_scope=lambda unit: True) -> list[tuple[PlanEntry, Person]]:
    """The year's plan in the order of the roster it came from, with each entry's person; only the units the
    reader may see."""
    rows = session.execute(select(PlanEntry, Person).join(Person, Person.id == PlanEntry.person_id)
                           .where(PlanEntry.year == year).order_by(PlanEntry.id)).all()
    return [(entry, person) for entry, person in rows if in_scope(person.unit)]


def plan_years(session: Session) -> list[int]:
    return sorted(set(session.scalars(select(PlanEntry.year).distinct())), reverse=True)


def _entry(session: Session, entry_id: int, in_scope) -> tuple[PlanEntry, Person]:
    found = session.execute(select(PlanEntry, Person).join(Person, Person.id == PlanEntry.person_id)
                            .where(PlanEntry.id == entry_id)).first()
    if found is None or not in_scope(found[1].unit):
        raise NotFound(f"计划条目不存在：{entry_id}")
    return found[0], found[1]


def confirm(session: Session, entry_id: int, actor: str, now: datetime, in_scope=lambda unit: True,
            unit_principal: str | None = None, unit_deputy: str | None = None) -> PlanEntry:
    """Keep a proposed (or earlier removed) person in the plan, optionally giving the unit's contacts."""
    entry, person = _entry(session, entry_id, in_scope)
    if entry.status in ("starting", "started"):
        raise InvalidData(f"{person.name} 已立项，不能再更改")
    for field, value in (("unit_principal", unit_principal), ("unit_deputy", unit_deputy)):
        if value is not None and value.strip():
            if len(value.strip()) > 50:
                raise InvalidData("姓名最多 50 个字符", details={field: ["最多 50 个字符"]})
            setattr(entry, field, value.strip())
    entry.status, entry.removal_reason, entry.decided_by, entry.decided_at = "confirmed", "", actor, now
    entry.start_problem = ""  # whatever refused the last start may be mended now: try again
    return entry


def remove(session: Session, entry_id: int, reason: str, actor: str, now: datetime,
           in_scope=lambda unit: True) -> PlanEntry:
    """Take a person out of the year's plan; the reason is required and kept."""
    entry, person = _entry(session, entry_id, in_scope)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidData(f"移出 {person.name} 须说明理由", details={"removal_reason": ["必填项"]})
    if len(reason) > REMOVAL_REASON_CHARS:
        raise InvalidData(f"理由最多 {REMOVAL_REASON_CHARS} 个字", details={"removal_reason": ["过长"]})
    if entry.status in ("starting", "started"):
        raise InvalidData(f"{person.name} 已立项，不能移出计划")
    entry.status, entry.removal_reason, entry.decided_by, entry.decided_at = "removed", reason, actor, now
    return entry


def confirm_all(session: Session, year: int, actor: str, now: datetime, in_scope=lambda unit: True,
                batch_id: int | None = None) -> int:
    """Confirm every still-proposed entry of the year (of one import, when given); removed ones stay removed."""
    count = 0
    for entry, _person in year_plan(session, year, in_scope):
        if entry.status == "proposed" and (batch_id is None or entry.roster_import_id == batch_id):
            entry.status, entry.decided_by, entry.decided_at = "confirmed", actor, now
            count += 1
    return count


def level_name(code: str) -> str:
    return UNIT_LEVELS.get(code, (code, code))[0]


def reason_name(code: str) -> str:
    return LEAVING_REASONS.get(code, (code, code))[0]
