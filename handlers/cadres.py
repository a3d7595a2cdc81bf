"""Cadres (干部) as person records keyed by their resident ID number, and the cases that concern them.

Names repeat (two 张伟 in one county is normal); the integrity file, the annual plan and the
repeated-finding check key a person by the 18-digit ID number (GB 11643-1999), never by name.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Optional

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.models import Base
from . import HandlerContext, field_titles, handler

field_titles({"cadre_id_number": ("身份证号", "ID number"), "person_id": ("干部档案号", "Cadre record")})

# Unit levels as the seeds name them (001: 县级市（区）、镇（街道）党委政府 vs 市、县级市（区）党政机关工作部门).
UNIT_LEVELS = {
    "town": ("乡镇（街道）", "Township (street)"),
    "county": ("县级市（区）", "County-level city (district)"),
    "municipal_dept": ("市级机关部门", "Municipal department"),
    "county_dept": ("县级机关部门", "County-level department"),
    "institution": ("直属事业单位、人民团体", "Public institution or people's organization"),
}
UNIT_CLASSES = ("A", "B", "C")  # seed 002: class A = large budgets, fund-allocation or approval power
LEAVING_REASONS = {
    "term_ended": ("任期届满", "term ended"),
    "promoted": ("提拔", "promoted"),
    "transferred": ("交流", "transferred"),
    "rotated": ("轮岗", "rotated"),
    "dismissed": ("免职", "dismissed"),
    "resigned": ("辞职", "resigned"),
    "demoted": ("降职", "demoted"),
    "retired": ("退休", "retired"),
}

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_number_problem(text: str) -> str | None:
    """Why `text` is not a valid 18-digit resident ID number (checksum and birth date), or None."""
    value = (text or "").strip().upper()
    if len(value) != 18 or not value[:17].isdigit() or not (value[17].isdigit() or value[17] == "X"):
        return "身份证号应为 18 位（最后一位可为 X）"
    try:
        date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return "身份证号中的出生日期无效"
    if _ID_CHECK[sum(int(d) * w for d, w in zip(value[:17], _ID_WEIGHTS)) % 11] != value[17]:
        return "身份证号校验位不正确"
    return None


def completed_years(since: date | None, at: date) -> int:
    """Whole years from `since` to `at`, anniversary based: 2023-12-02 → 2026-12-01 is 2, → 2026-12-02 is 3.
    A 29 February start completes its year on 28 February of a common year."""
    if since is None or at < since:
        return 0
    years = at.year - since.year
    try:
        anniversary = since.replace(year=at.year)
    except ValueError:  # 29 February in a common year
        anniversary = date(at.year, 2, 28)
    return years - (1 if at < anniversary else 0)


def normalize_id_number(text: str) -> str:
    return (text or "").strip().upper()


class Person(Base):
    """A cadre, once, whatever their post: the key of the integrity file (廉政档案)."""

    __tablename__ = "person"
    id: Mapped[int] = mapped_column(primary_key=True)
    id_number: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    post: Mapped[str] = mapped_column(String(200), default="")
    unit: Mapped[str] = mapped_column(String(200), default="")
    unit_level: Mapped[str] = mapped_column(String(20), default="")
    unit_class: Mapped[str] = mapped_column(String(1), default="")
    in_post_since: Mapped[Optional[date]]
    leaving_date: Mapped[Optional[date]]
    leaving_reason: Mapped[str] = mapped_column(String(20), default="")
    last_audit_date: Mapped[Optional[date]]
    username: Mapped[Optional[str]] = mapped_column(String(100))  # the cadre's own account, where one exists
    updated_at: Mapped[datetime]


class CadreCase(Base):
    """Which cases concern which person (a joint audit, later a complaint or an accountability case)."""

    __tablename__ = "cadre_case"
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"))
    relation: Mapped[str] = mapped_column(String(20), default="subject")  # subject of the joint audit
    __table_args__ = (UniqueConstraint("case_id", "person_id", "relation"), Index("ix_cadre_case_person", "person_id"))


def person_by_id_number(session: Session, id_number: str) -> Person | None:
    return session.scalar(select(Person).where(Person.id_number == normalize_id_number(id_number)))


def ensure_person(session: Session, id_number: str, name: str, now: datetime, **facts: Any) -> Person:
    """The person with this ID number, created or brought up to date with the given facts."""
    person = person_by_id_number(session, id_number)
    if person is None:
        person = Person(id_number=normalize_id_number(id_number), name=name, updated_at=now)
        session.add(person)
    person.name = name or person.name
    for key, value in facts.items():
        if value is not None and hasattr(Person, key):
            setattr(person, key, value)
    person.updated_at = now
    session.flush()
    return person


@handler("cadres.link_case")
def link_case(ctx: HandlerContext) -> dict[str, Any]:
    """At 立项: tie the case to its cadre's person record by ID number (created if new)."""
    id_number = normalize_id_number(str(ctx.data.get("cadre_id_number") or ""))
    if not id_number:
        return {"person_id": None}
    person = ensure_person(ctx.session, id_number, str(ctx.data.get("cadre_name") or ""), ctx.now,
                           post=ctx.data.get("post"), unit=ctx.unit or None, unit_level=ctx.data.get("unit_level"))
    exists = ctx.session.scalar(select(CadreCase.id).where(CadreCase.case_id == ctx.case_id,
                                                           CadreCase.person_id == person.id))
    if exists is None:
        ctx.session.add(CadreCase(person_id=person.id, case_id=ctx.case_id, relation="subject"))
    ctx.data["person_id"] = person.id
    return {"person_id": person.id}
