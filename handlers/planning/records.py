"""The records of annual planning: each roster import, and each person in a year's plan with its decision."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Optional

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base

# A plan entry's life: proposed by the rules → confirmed or removed (with a reason) by the organization
# department or the leading group → starting (its case being opened) → started (case_id set).
STATUSES = {
    "proposed": ("待确认", "Proposed"),
    "confirmed": ("已确认", "Confirmed"),
    "removed": ("已移出", "Removed"),
    "starting": ("立项中", "Starting"),
    "started": ("已立项", "Started"),
}


class RosterImport(Base):
    """One roster file taken in: who, when, which rows were skipped, and the clean rows as read."""

    __tablename__ = "roster_import"
    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(255), default="")
    year: Mapped[int]
    imported_by: Mapped[str] = mapped_column(String(100))
    imported_at: Mapped[datetime]
    row_count: Mapped[int] = mapped_column(default=0)
    skipped_rows: Mapped[list[Any]]  # Excel row numbers left out because the user chose to skip bad rows
    rows: Mapped[list[Any]]  # RosterRow.as_json() of each imported row


class PlanEntry(Base):
    """A person in a year's joint-audit plan: why the rules require them, what was decided, the case opened."""

    __tablename__ = "plan_entry"
    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int]
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    roster_import_id: Mapped[Optional[int]] = mapped_column(ForeignKey("roster_import.id"))
    reference_date: Mapped[date]
    rule: Mapped[str] = mapped_column(String(20))  # the decision table's rule code: leaving, three_years, …
    reason: Mapped[str] = mapped_column(String(200))  # its Chinese reason, as proposed
    years_in_post: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(20), default="proposed")
    unit_principal: Mapped[str] = mapped_column(String(50), default="")
    unit_deputy: Mapped[str] = mapped_column(String(50), default="")
    removal_reason: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[Optional[str]] = mapped_column(String(100))
    decided_at: Mapped[Optional[datetime]]
    process_key: Mapped[Optional[str]] = mapped_column(String(100))
    case_id: Mapped[Optional[int]] = mapped_column(ForeignKey("case.id"))
    start_problem: Mapped[str] = mapped_column(Text, default="")  # why the last start attempt was refused
    proposed_at: Mapped[datetime]
    started_at: Mapped[Optional[datetime]]  # when `starting` began, then when the case was opened
    __table_args__ = (UniqueConstraint("year", "person_id"), Index("ix_plan_entry_year_status", "year", "status"))
