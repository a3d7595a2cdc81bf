"""Notifications (催办, 督办): in-app rows written in the step's transaction; e-mail sent after commit.

A rolled-back step leaves no row, so it sends nothing. E-mail goes out only when DUBAN_SMTP_HOST is
set and the recipient has an address; each message is tried a few times and then marked failed.
"""
from __future__ import annotations

import logging
import os
import smtplib
from datetime import datetime
from email.message import EmailMessage

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from .models import Notification, User, WorkItem

log = logging.getLogger("duban.notifications")
MAX_EMAIL_ATTEMPTS = 5


def smtp_configured() -> bool:
    return bool(os.environ.get("DUBAN_SMTP_HOST"))


def notify(session: Session, recipients: list[str], kind: str, subject: str, body: str, now: datetime,
           case_id: int | None = None, work_item_id: int | None = None) -> int:
    """One in-app notification per recipient, plus a pending e-mail where one can be sent."""
    if not recipients:
        return 0
    emails = {}
    if smtp_configured():
        emails = dict(session.execute(select(User.username, User.email).where(
            User.username.in_(recipients), User.email.is_not(None))).all())
    rows = [dict(recipient=r, kind=kind, subject=subject[:300], body=body, case_id=case_id, work_item_id=work_item_id,
                 created_at=now, read_at=None, email_to=emails.get(r), email_status="pending" if emails.get(r) else None,
                 email_attempts=0) for r in dict.fromkeys(recipients)]
    session.execute(insert(Notification), rows)
    return len(rows)


def unread_count(session: Session, username: str) -> int:
    return session.scalar(select(func.count()).select_from(Notification).where(
        Notification.recipient == username, Notification.read_at.is_(None))) or 0


def recent(session: Session, username: str, limit: int = 100) -> list[Notification]:
    return list(session.scalars(select(Notification).where(Notification.recipient == username)
                                .order_by(Notification.id.desc()).limit(limit)).all())


def work_items_of(session: Session, rows: list[Notification]) -> dict[int, WorkItem]:
    """The work items notifications are about, by id: what an English page words them from (the stored
    subject and body are the Chinese ones that were e-mailed)."""
    ids = sorted({n.work_item_id for n in rows if n.work_item_id})
    return {w.id: w for w in session.scalars(select(WorkItem).where(WorkItem.id.in_(ids)))} if ids else {}


def mark_read(session: Session, username: str, now: datetime) -> None:
    session.execute(update(Notification).where(Notification.recipient == username, Notification.read_at.is_(None))
                    .values(read_at=now))


def deliver_pending_email(engine) -> int:
    """Send committed, pending e-mail notifications; safe to run in several workers (rows are claimed)."""
    if not smtp_configured():
        return 0
    sent = 0
    with engine.db.transaction() as session:
        stmt = select(Notification).where(Notification.email_status == "pending").order_by(Notification.id).limit(50)
        if session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        for note in session.scalars(stmt).all():
            note.email_attempts += 1
            try:
                _send(note)
                note.email_status = "sent"
                sent += 1
            except (OSError, smtplib.SMTPException) as err:
                log.warning("e-mail to %s failed: %s", note.email_to, err)
                if note.email_attempts >= MAX_EMAIL_ATTEMPTS:
                    note.email_status = "failed"
    return sent


def _send(note: Notification) -> None:
    message = EmailMessage()
    message["From"] = os.environ.get("DUBAN_SMTP_FROM", "duban@localhost")
    message["To"] = note.email_to
    message["Subject"] = note.subject
    message.set_content(note.body)
    host, port = os.environ["DUBAN_SMTP_HOST"], int(os.environ.get("DUBAN_SMTP_PORT", "25"))
    with smtplib.SMTP(host, port, timeout=10) as smtp:
        if os.environ.get("DUBAN_SMTP_STARTTLS") == "1":
            smtp.starttls()
        if os.environ.get("DUBAN_SMTP_USER"):
            smtp.login(os.environ["DUBAN_SMTP_USER"], os.environ.get("DUBAN_SMTP_PASSWORD", ""))
        smtp.send_message(message)
