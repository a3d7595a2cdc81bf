"""The audit log (等保 2.0 安全审计): sign-ins, permission changes, deploys, migrations, exports, admin actions.

Rows are written in the same transaction as the action they record, so an action and its record land
together or not at all. The table is append-only (database triggers refuse UPDATE, DELETE and TRUNCATE)
and hash-chained: each row carries the hash of the row before it and a hash over its own content and that
link, so a row changed, inserted or removed by hand breaks the chain at that row, and `verify` names it.
Appends are serialized (a transaction-scoped advisory lock on PostgreSQL; SQLite has one writer) so the
chain has no forks; ids are given here, in chain order.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterator

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from .models import AuditEntry
from .projection import json_safe

GENESIS = "0" * 64
_CHAIN_LOCK = 7_340_011  # pg_advisory_xact_lock key of the audit chain

# What each action is called on the audit page (Chinese first; English in the catalog).
ACTIONS: dict[str, str] = {
    "sign_in": "登录", "sign_in_failed": "登录失败", "sign_in_refused": "登录被限制", "sign_out": "退出登录",
    "user_created": "创建账号", "roles_changed": "修改权限", "password_changed": "修改密码",
    "token_issued": "签发令牌", "account_disabled": "停用账号", "account_enabled": "启用账号",
    "deployed": "部署", "case_migrated": "迁移项目", "draft_created": "创建草稿", "draft_saved": "保存草稿",
    "draft_discarded": "放弃草稿", "case_exported": "导出项目", "case_imported": "导入项目",
    "backup": "备份", "schema_upgraded": "升级数据库", "projections_repaired": "修复投影", "audit_verified": "校验审计日志", "audit_exported": "导出审计日志",
    "case_retried": "重试", "case_suspended": "挂起", "case_resumed": "恢复", "case_terminated": "终止",
    "units_changed": "单位变更",
}


def _digest(prev_hash: str, entry_id: int, at: datetime, actor: str, action: str, subject: str,
            detail: Any) -> str:
    body = json.dumps([entry_id, at.isoformat(timespec="microseconds"), actor, action, subject, detail],
                      ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


def _last(session: Session) -> tuple[int, str]:
    row = session.execute(select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)).first()
    return (row.id, row.hash or GENESIS) if row else (0, GENESIS)


def record(session: Session, actor: str, action: str, subject: str, detail: dict[str, Any] | None, at: datetime) -> None:
    """Append one entry, linked to the newest, in `session`'s transaction."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK})
    last_id, prev = _last(session)
    at = at.replace(tzinfo=None) if at.tzinfo else at
    entry_id, subject, detail = last_id + 1, subject[:300], json_safe(detail or {})
    actor, action = actor[:200], action[:50]
    session.add(AuditEntry(id=entry_id, at=at, actor=actor, action=action, subject=subject, detail=detail,
                           prev_hash=prev, hash=_digest(prev, entry_id, at, actor, action, subject, detail)))
    session.flush()


def entries(session: Session, *, subject_prefix: str | None = None, action: str | None = None,
            actor: str | None = None, since: datetime | None = None, until: datetime | None = None,
            before_id: int | None = None, limit: int = 200) -> list[AuditEntry]:
    """The newest entries first, optionally of one action, one actor, a time span or subjects starting with a
    prefix; `before_id` pages on."""
    query = select(AuditEntry)
    if action:
        query = query.where(AuditEntry.action == action)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if subject_prefix:
        query = query.where(AuditEntry.subject.startswith(subject_prefix, autoescape=True))
    if since:
        query = query.where(AuditEntry.at >= since)
    if until:
        query = query.where(AuditEntry.at < until)
    if before_id:
        query = query.where(AuditEntry.id < before_id)
    return list(session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit)))


def recent(session: Session, action: str, subject: str, address: str, since: datetime) -> bool:
    """Whether an entry of this action, subject and address was written since `since`."""
    rows = session.scalars(select(AuditEntry.detail).where(AuditEntry.action == action, AuditEntry.subject == subject,
                                                           AuditEntry.at >= since).limit(50)).all()
    return any((detail or {}).get("address") == address for detail in rows)


@dataclass
class Verdict:
    """What `verify` found: how many rows it checked, the newest hash, and the first broken link if any."""

    checked: int
    last_hash: str  # the newest row's hash: keep it with its id elsewhere as an anchor
    broken_id: int | None = None
    reason: str | None = None

    @property
    def intact(self) -> bool:
        return self.broken_id is None


def _rows(session: Session, batch: int = 2000) -> Iterator[Any]:
    after = 0
    while True:
        rows = session.execute(select(AuditEntry.id, AuditEntry.at, AuditEntry.actor, AuditEntry.action,
                                      AuditEntry.subject, AuditEntry.detail, AuditEntry.prev_hash, AuditEntry.hash)
                               .where(AuditEntry.id > after).order_by(AuditEntry.id).limit(batch)).all()
        if not rows:
            return
        yield from rows
        after = rows[-1].id


def verify(session: Session, anchors: dict[int, str] | None = None) -> Verdict:
    """Walk the chain from the first row; stop at the first row whose link or content does not match.

    The hashes carry no secret: someone who can switch the triggers off could change a row and compute every
    hash after it again. `anchors` (entry id → hash, as `verify` printed it once and someone kept elsewhere)
    catch that: a row whose hash is no longer the kept one is named, and so is a kept row that is gone."""
    anchors = dict(anchors or {})
    prev, expected_id, checked = GENESIS, 1, 0
    for row in _rows(session):
        if row.id != expected_id:
            return Verdict(checked, prev, expected_id, f"第 {expected_id} 条缺失（下一条是第 {row.id} 条）")
        if row.prev_hash != prev:
            return Verdict(checked, prev, row.id, f"第 {row.id} 条与上一条的链接不符（上一条被改动、删除或插入）")
        if row.hash != _digest(prev, row.id, row.at, row.actor, row.action, row.subject, row.detail):
            return Verdict(checked, prev, row.id, f"第 {row.id} 条的内容与其哈希不符（该条被改动）")
        kept = anchors.pop(row.id, None)
        if kept is not None and kept != row.hash:
            return Verdict(checked, prev, row.id, f"第 {row.id} 条的哈希与保存的不符（此条或之前的日志被改写）")
        prev, expected_id, checked = row.hash, row.id + 1, checked + 1
    if anchors:
        first = min(anchors)
        return Verdict(checked, prev, first, f"保存过哈希的第 {first} 条已不存在（日志末尾被删除）")
    return Verdict(checked, prev)


def chain_hashes(rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(prev_hash, hash) for rows given in id order: the chain of rows written before there was one."""
    out, prev = [], GENESIS
    for row in rows:
        digest = _digest(prev, row["id"], row["at"], row["actor"], row["action"], row["subject"], row["detail"])
        out.append((prev, digest))
        prev = digest
    return out
