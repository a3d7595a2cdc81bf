"""The audit log of administrative actions: who saved a draft, deployed, migrated a case, and with what.

Rows are written in the same transaction as the action they record, so an action and its record land
together or not at all. Nothing here updates or deletes a row.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import AuditEntry
from .projection import json_safe


def record(session: Session, actor: str, action: str, subject: str, detail: dict[str, Any] | None, at: datetime) -> None:
    """Append one entry in `session`'s transaction."""
    session.add(AuditEntry(at=at, actor=actor, action=action, subject=subject[:300], detail=json_safe(detail or {})))
    session.flush()


def entries(session: Session, *, subject_prefix: str | None = None, action: str | None = None,
            limit: int = 200) -> list[AuditEntry]:
    """The newest entries first, optionally of one action or of subjects starting with a prefix."""
    query = select(AuditEntry)
    if action:
        query = query.where(AuditEntry.action == action)
    if subject_prefix:
        query = query.where(AuditEntry.subject.startswith(subject_prefix, autoescape=True))
    return list(session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit)))
