"""Domain records the handlers write: rectification items and the follow-up visit ledger."""
from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base


class RectificationItem(Base):
    """One finding to be rectified (整改事项), with its contact person and deadline."""

    __tablename__ = "rectification_item"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"))
    item_no: Mapped[int] = mapped_column(Integer)
    duty: Mapped[str] = mapped_column(String(20))  # personnel / establishment / finance
    description: Mapped[str] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(20))  # major / general
    unit: Mapped[str] = mapped_column(String(200))
    contact_role: Mapped[str] = mapped_column(String(20))  # principal / deputy
    contact_name: Mapped[str] = mapped_column(String(200))
    deadline: Mapped[Optional[date]]
    listed_supervision: Mapped[bool] = mapped_column(default=False)  # 挂牌督办
    status: Mapped[str] = mapped_column(String(20), default="open")  # open / closed
    visits: Mapped[int] = mapped_column(Integer, default=0)
    opened_at: Mapped[datetime]
    closed_at: Mapped[Optional[datetime]]
    __table_args__ = (
        UniqueConstraint("case_id", "item_no"),
        Index("ix_rectification_unit_status", "unit", "status"),
    )


class FollowUpVisit(Base):
    """A line of the visit ledger (回访台账): one item, one round."""

    __tablename__ = "follow_up_visit"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("rectification_item.id"))
    round: Mapped[int] = mapped_column(Integer)
    visit_date: Mapped[Optional[date]]
    result: Mapped[str] = mapped_column(String(20))  # closed / open
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[datetime]


# The integrity file (廉政档案) keeps its record with its other records; imported here for older callers.
from .integrity_file import IntegrityRecord  # noqa: E402,F401
