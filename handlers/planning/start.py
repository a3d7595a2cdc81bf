"""Opening the confirmed plan entries' cases in bulk (批量立项), one case per person on the city's variant.

Each case is the engine's own transaction (as a clerk's 立项 is). An entry is claimed first (confirmed →
starting, compare-and-set, so two clicks never open two cases for one person), then started, then marked.
An entry left `starting` by a process that died is settled on the next run: the case it opened is found by
its `case_started` event, or the entry goes back to confirmed.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Iterator

from sqlalchemy import select, update

from engine.errors import DubanError
from engine.models import Event

from ..cadres import CadreCase, Person
from .records import PlanEntry

if TYPE_CHECKING:
    from engine.access import Actor
    from engine.runtime import Engine

CLAIM_BATCH = 100
STALE = timedelta(minutes=5)  # far longer than one start takes: a `starting` entry this old lost its process


@dataclass
class Started:
    entry_id: int
    name: str
    unit: str
    case_id: int | None  # None: refused, see problem
    problem: str = ""


def case_data(entry: PlanEntry, person: Person) -> tuple[dict[str, Any], str]:
    """The case facts of the start form, from the person record and the plan entry; and what is missing."""
    leaving = entry.rule == "leaving"
    data: dict[str, Any] = {
        "cadre_name": person.name, "cadre_id_number": person.id_number, "post": person.post, "unit": person.unit,
        "unit_level": person.unit_level, "audit_type": "leaving" if leaving else "mid_term",
        "years_in_post": entry.years_in_post,
    }
    if person.in_post_since:
        data["in_post_since"] = person.in_post_since.isoformat()
    if person.unit_class:
        data["unit_class"] = person.unit_class
    if leaving:
        data["leaving_reason"] = person.leaving_reason
        if person.leaving_date:
            data["leaving_date"] = person.leaving_date.isoformat()
    # A mid-term cadre is the unit's principal leader; on leaving, the principal is the successor, who must be named.
    principal = entry.unit_principal or ("" if leaving else person.name)
    missing = []
    if principal:
        data["unit_principal"] = principal
    else:
        missing.append("单位主要负责人（离任审计填继任者）")
    if entry.unit_deputy:
        data["unit_deputy"] = entry.unit_deputy
    else:
        missing.append("分管负责人")
    return data, ("缺少" + "、".join(missing) if missing else "")


def pending(engine: "Engine", year: int, in_scope=lambda unit: True) -> tuple[int, int]:
    """Confirmed entries of the year still without a case: (waiting for their start, refused at the last try)."""
    with engine.db.reading() as session:
        rows = session.execute(select(PlanEntry.start_problem, Person.unit).join(Person, Person.id == PlanEntry.person_id)
                               .where(PlanEntry.year == year, PlanEntry.status == "confirmed")).all()
    mine = [problem for problem, unit in rows if in_scope(unit)]
    return sum(1 for p in mine if not p), sum(1 for p in mine if p)


def start_confirmed(engine: "Engine", year: int, process_key: str, actor: "Actor",
                    limit: int | None = None, retry_refused: bool = True) -> Iterator[Started]:
    """Open the case of each confirmed entry of the year (at most `limit`), yielding each outcome as it lands.
    An entry the start form refuses (e.g. a contact missing) stays confirmed with the reason; it is tried
    again only with `retry_refused` (a person's click, not a batch continuing on its own)."""
    _settle_stale(engine, year)
    done = 0
    refused: set[int] = set()
    while limit is None or done < limit:
        count = min(CLAIM_BATCH, limit - done) if limit else CLAIM_BATCH
        claimed = _claim(engine, year, process_key, actor, count, refused, retry_refused)
        if not claimed:
            return
        outcomes: list[Started] = []
        try:
            for entry_id, name, unit, data, missing in claimed:
                outcome = _start_one(engine, entry_id, name, unit, data, missing, process_key, actor)
                outcomes.append(outcome)
                if outcome.case_id is None:
                    refused.add(entry_id)
                done += 1
                yield outcome
        finally:  # also when the caller stops early: what was opened is marked, the rest goes back to confirmed
            _mark(engine, [e[0] for e in claimed], outcomes)


def _claim(engine: "Engine", year: int, process_key: str, actor: "Actor", count: int, skip: set[int],
           retry_refused: bool) -> list[tuple[int, str, str, dict[str, Any], str]]:
    """Up to `count` confirmed entries moved to `starting` (compare-and-set: another request may be claiming
    the same ones), each with its person's name, unit, case data and what is missing from it."""
    now = engine.clock()
    with engine.db.transaction() as session:
        candidates = session.execute(
            select(PlanEntry, Person).join(Person, Person.id == PlanEntry.person_id)
            .where(PlanEntry.year == year, PlanEntry.status == "confirmed").order_by(PlanEntry.id)).all()
        claimed = []
        for entry, person in candidates:
            if len(claimed) >= count:
                break
            if entry.id in skip or (entry.start_problem and not retry_refused) or not actor.in_scope(person.unit):
                continue
            moved = session.execute(update(PlanEntry).where(PlanEntry.id == entry.id, PlanEntry.status == "confirmed")
                                    .values(status="starting", started_at=now, process_key=process_key)
                                    .execution_options(synchronize_session=False))
            if moved.rowcount == 1:
                data, missing = case_data(entry, person)
                claimed.append((entry.id, person.name, person.unit, data, missing))
    return claimed


def _start_one(engine: "Engine", entry_id: int, name: str, unit: str, data: dict[str, Any], missing: str,
               process_key: str, actor: "Actor") -> Started:
    if missing:
        return Started(entry_id, name, unit, None, missing)
    try:
        case_id = engine.start_case(process_key, data, actor)
    except DubanError as err:
        return Started(entry_id, name, unit, None, err.one_line() if hasattr(err, "one_line") else err.message)
    return Started(entry_id, name, unit, case_id)


def _mark(engine: "Engine", claimed: list[int], outcomes: list[Started]) -> None:
    """One transaction per batch: started entries get their case (and the person its link), refused ones their
    reason, and claimed ones never tried go back to confirmed."""
    now = engine.clock()
    by_entry = {o.entry_id: o for o in outcomes}
    with engine.db.transaction() as session:
        entries = {e.id: e for e in session.scalars(select(PlanEntry).where(PlanEntry.id.in_(claimed)))}
        opened = [o.case_id for o in outcomes if o.case_id]
        linked = set(session.execute(select(CadreCase.case_id, CadreCase.person_id)
                                     .where(CadreCase.case_id.in_(opened))).all()) if opened else set()
        for entry_id in claimed:
            entry, outcome = entries[entry_id], by_entry.get(entry_id)
            if outcome is not None and outcome.case_id:
                entry.status, entry.case_id, entry.start_problem, entry.started_at = "started", outcome.case_id, "", now
                if (outcome.case_id, entry.person_id) not in linked:  # the integrity file finds it by the person
                    session.add(CadreCase(person_id=entry.person_id, case_id=outcome.case_id, relation="subject"))
            else:
                entry.status, entry.started_at = "confirmed", None
                if outcome is not None:
                    entry.start_problem = outcome.problem[:2000]


def _settle_stale(engine: "Engine", year: int) -> None:
    """Entries a dead run left `starting`: started after all (its case is found), or back to confirmed."""
    now = engine.clock()
    with engine.db.transaction() as session:
        stale = session.execute(select(PlanEntry, Person).join(Person, Person.id == PlanEntry.person_id).where(
            PlanEntry.year == year, PlanEntry.status == "starting", PlanEntry.started_at < now - STALE)).all()
        for entry, person in stale:
            events = session.scalars(select(Event).where(Event.kind == "case_started",
                                                         Event.at >= entry.started_at)).all()
            case_id = next((e.case_id for e in events
                            if (e.data_after or {}).get("cadre_id_number") == person.id_number), None)
            if case_id is None:
                entry.status, entry.started_at = "confirmed", None
            else:
                entry.status, entry.case_id, entry.started_at = "started", case_id, now
                if session.scalar(select(CadreCase.id).where(CadreCase.case_id == case_id,
                                                             CadreCase.person_id == person.id)) is None:
                    session.add(CadreCase(person_id=person.id, case_id=case_id, relation="subject"))
