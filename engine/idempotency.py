"""Idempotency keys for starting a case over the API (as payment APIs have them): a client that retries after a
lost response gets the first request's case back, never a second case.

The key is committed as `pending` in its own transaction before the case is started (starting is the engine's
own transaction), unique per user and key: of two identical requests racing, exactly one inserts it and starts
the case, the other is told to retry. A pending key whose request died is looked at once it is STALE: if the
case was started after all (its `case_started` event holds the same data) that case is the answer, otherwise
the retry takes the key over and starts the case itself.
"""
from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from .db import Database
from .errors import Conflict, DubanError
from .models import Case, Event, IdempotencyKey

KEEP = timedelta(hours=24)
STALE = timedelta(minutes=5)  # far longer than any start takes
log = logging.getLogger(__name__)


class KeyReused(DubanError):
    """The key was used before with a different request body."""

    code = "idempotency_key_reused"
    http_status = 422


class InProgress(Conflict):
    """The first request with this key has not finished yet."""

    code = "idempotency_in_progress"


def fingerprint(process_key: str, data: dict[str, Any]) -> str:
    """The same request body gives the same hash, whatever the order of its keys."""
    canonical = json.dumps({"process_key": process_key, "data": data}, sort_keys=True, separators=(",", ":"),
                           ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def reserve(db: Database, username: str, key: str, process_key: str, data: dict[str, Any],
            now: datetime) -> int | None:
    """None: this request owns the key and starts the case (then `finish` or `abandon`).
    A case id: an earlier request with this key and body started that case; answer with it again."""
    digest = fingerprint(process_key, data)
    try:
        with db.transaction() as session:
            session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < now - KEEP))
            session.add(IdempotencyKey(username=username, key=key, request_hash=digest, status="pending",
                                       created_at=now))
        return None
    except IntegrityError:
        pass  # the key exists: look at it
    with db.transaction() as session:
        row = session.scalar(select(IdempotencyKey).where(IdempotencyKey.username == username,
                                                          IdempotencyKey.key == key).with_for_update())
        if row is None:  # expired and purged by another request a moment ago
            raise InProgress("相同 Idempotency-Key 的请求刚刚过期，请重试。")
        if row.request_hash != digest:
            raise KeyReused("此 Idempotency-Key 已用于内容不同的立项请求；新的请求请使用新的键。")
        if row.status == "done":
            return row.case_id
        if row.created_at > now - STALE:
            raise InProgress("相同 Idempotency-Key 的立项请求正在处理，请稍后重试。")
        started = _started_case(session, username, process_key, data, row.created_at)
        if started is not None:
            row.status, row.case_id = "done", started
            return started
        row.created_at = now  # the first request never started its case: this one does
        return None


def finish(db: Database, username: str, key: str, case_id: int) -> None:
    with db.transaction() as session:
        session.execute(update(IdempotencyKey).where(IdempotencyKey.username == username, IdempotencyKey.key == key)
                        .values(status="done", case_id=case_id))


def abandon(db: Database, username: str, key: str) -> None:
    """The start was refused (nothing was created): the key may be used again. Best effort: with the database
    gone the key stays pending and becomes STALE."""
    try:
        with db.transaction() as session:
            session.execute(delete(IdempotencyKey).where(IdempotencyKey.username == username,
                                                         IdempotencyKey.key == key,
                                                         IdempotencyKey.status == "pending"))
    except SQLAlchemyError:
        log.warning("could not release idempotency key %r of %s", key, username, exc_info=True)


def _started_case(session, username: str, process_key: str, data: dict[str, Any], since: datetime) -> int | None:
    """A case `username` started since `since` on `process_key` with exactly `data`, if there is one."""
    wanted = fingerprint(process_key, data)
    rows = session.execute(
        select(Event.case_id, Event.data_after).join(Case, Case.id == Event.case_id)
        .where(Case.started_by == username, Case.process_key == process_key, Case.started_at >= since,
               Event.kind == "case_started")
        .order_by(Event.case_id)
    ).all()
    for case_id, after in rows:
        if fingerprint(process_key, after or {}) == wanted:
            return case_id
    return None
