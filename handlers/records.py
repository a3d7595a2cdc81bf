"""Domain records the handlers write: rectification items and the follow-up visit ledger."""
from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base


class RectificationItem(Base):
    """One finding to be rectified (整改事项): what is required, by when, who answers for it, how it closed."""

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
    # issue 8 (migration 0008): the item as seed 000 wants it followed through
    requirement: Mapped[str] = mapped_column(Text, default="", server_default="")  # 整改要求
    standard: Mapped[str] = mapped_column(Text, default="", server_default="")  # 整改标准
    measures: Mapped[str] = mapped_column(Text, default="", server_default="")  # 整改措施 (the unit's)
    progress: Mapped[str] = mapped_column(Text, default="", server_default="")  # 进度
    owner_name: Mapped[str] = mapped_column(String(200), default="", server_default="")  # 责任人
    problem_category: Mapped[str] = mapped_column(String(40), default="", server_default="")
    responsibility_type: Mapped[str] = mapped_column(String(20), default="", server_default="")  # leadership / direct
    amount: Mapped[Optional[float]]  # finance findings: yuan
    demerit_points: Mapped[Optional[float]]  # finance findings: 0.5-2 (seed 002)
    listed_deadline: Mapped[Optional[date]]  # the stricter deadline of listed supervision
    listed_letter_no: Mapped[str] = mapped_column(String(100), default="", server_default="")  # 督办函文号
    lifted_at: Mapped[Optional[datetime]]  # 摘牌
    repeated: Mapped[bool] = mapped_column(default=False, server_default=false())  # 屡查屡犯
    repeat_of_case_id: Mapped[Optional[int]]
    contact_username: Mapped[Optional[str]] = mapped_column(String(100), index=True)
    closed_by_role: Mapped[Optional[str]] = mapped_column(String(20))
    evidence: Mapped[Optional[int]]  # the attachment that proves the rectification
    __table_args__ = (
        UniqueConstraint("case_id", "item_no"),
        Index("ix_rectification_unit_status", "unit", "status"),
        Index("ix_rectification_unit_category", "unit", "problem_category"),
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
    visited_by_role: Mapped[Optional[str]] = mapped_column(String(20))  # the department that visited (0008)
    evidence: Mapped[str] = mapped_column(String(200), default="", server_default="")  # attachment ids, comma-separated


# The integrity file (廉政档案) keeps its record with its other records; imported here for older callers.
from .integrity_file import IntegrityRecord  # noqa: E402,F401
