"""The numbering register (发文登记): one row per document issued, its 发文字号 unique per 机关代字 and year."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Callable, Optional

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.errors import Conflict
from engine.models import Base

NUMBER_ATTEMPTS = 8  # concurrent requests for the same 代字 each retry on the unique constraint


class OfficialDocument(Base):
    """A generated official document: its number in the register, its case, the attachment holding the .docx."""

    __tablename__ = "official_document"
    __table_args__ = (UniqueConstraint("agency_code", "year", "serial", name="uq_official_document_number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # notice / publicity / feedback / report
    agency_code: Mapped[str] = mapped_column(String(20))  # 机关代字, e.g. 兴组发
    year: Mapped[int] = mapped_column(Integer)
    serial: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(500))
    attachment_id: Mapped[Optional[int]] = mapped_column(ForeignKey("attachment.id"))
    issued_at: Mapped[datetime]
    issued_by: Mapped[str] = mapped_column(String(200))

    @property
    def number(self) -> str:
        """发文字号 as printed: 兴组发〔2026〕12号 (GB/T 9704: 六角括号, no leading zeros, no 第)."""
        return format_number(self.agency_code, self.year, self.serial)


def format_number(agency_code: str, year: int, serial: int) -> str:
    return f"{agency_code}〔{year}〕{serial}号"


def next_serial(session: Session, agency_code: str, year: int) -> int:
    top = session.scalar(select(func.max(OfficialDocument.serial))
                         .where(OfficialDocument.agency_code == agency_code, OfficialDocument.year == year))
    return (top or 0) + 1


def take_number(session: Session, fields: dict[str, Any],
                serial_for: Callable[[Session, str, int], int] = next_serial) -> OfficialDocument:
    """Insert a register row (`fields` without serial) with the next free serial of its 代字 and year, inside
    the caller's transaction.

    Two requests may read the same highest serial; the unique constraint refuses the second insert, which
    then reads again inside a savepoint, so a number is never issued twice."""
    for _ in range(NUMBER_ATTEMPTS):
        row = OfficialDocument(**fields, serial=serial_for(session, fields["agency_code"], fields["year"]))
        try:
            with session.begin_nested():
                session.add(row)
                session.flush()
            return row
        except IntegrityError:
            continue
    raise Conflict(f"{fields['agency_code']}〔{fields['year']}〕的发文字号正被同时占用，请稍后重试")


def documents_of(session: Session, case_id: int) -> list[OfficialDocument]:
    return list(session.scalars(select(OfficialDocument).where(OfficialDocument.case_id == case_id)
                                .order_by(OfficialDocument.issued_at, OfficialDocument.id)).all())


def document_of_attachment(session: Session, attachment_id: int) -> OfficialDocument | None:
    return session.scalar(select(OfficialDocument).where(OfficialDocument.attachment_id == attachment_id))
