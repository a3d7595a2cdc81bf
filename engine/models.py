"""Tables of duban: process versions, cases, the work-item projection, events, users.

Domain rows written by handlers (rectification items, visits, integrity records) live in
`handlers/records.py` on the same metadata so one migration covers both.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class ProcessVersion(Base):
    """An immutable deployed process: the BPMN text, its parsed spec, its step catalogue."""

    __tablename__ = "process_version"
    id: Mapped[int] = mapped_column(primary_key=True)
    process_key: Mapped[str] = mapped_column(String(200), index=True)
    version: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(500))
    filename: Mapped[str] = mapped_column(String(500))
    # Large and immutable: loaded only when asked for, and cached per engine (see specs.VersionCache).
    bpmn_xml: Mapped[str] = mapped_column(Text, deferred=True)
    spec_json: Mapped[str] = mapped_column(Text, deferred=True)
    catalogue: Mapped[dict[str, Any]] = mapped_column(JSON, deferred=True)
    deployed_at: Mapped[datetime]
    deployed_by: Mapped[str] = mapped_column(String(200))
    # The other files as deployed, text exactly as read ({"forms/x.json": ..., "decisions/y.dmn": ...}), so the
    # designer's download is byte-identical; versions deployed before this column have none (see engine.drafts).
    files: Mapped[dict[str, Any]] = mapped_column(JSON, deferred=True, default=dict)
    __table_args__ = (UniqueConstraint("process_key", "version"),)


class DecisionVersion(Base):
    """An immutable deployed DMN decision table (`processes/decisions/*.dmn`), versioned per decision id."""

    __tablename__ = "decision_version"
    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[str] = mapped_column(String(200), index=True)
    version: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(500))
    filename: Mapped[str] = mapped_column(String(500))
    dmn_xml: Mapped[str] = mapped_column(Text)
    deployed_at: Mapped[datetime]
    deployed_by: Mapped[str] = mapped_column(String(200))
    __table_args__ = (UniqueConstraint("decision_id", "version"),)


class Case(Base):
    """One running or finished process instance with its summary columns."""

    __tablename__ = "case"
    id: Mapped[int] = mapped_column(primary_key=True)
    process_version_id: Mapped[int] = mapped_column(ForeignKey("process_version.id"))
    process_key: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(500))
    unit: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(20))  # running / completed / error / terminated
    current_steps: Mapped[str] = mapped_column(String(1000), default="")
    state_json: Mapped[str] = mapped_column(Text, deferred=True)
    data_json: Mapped[str] = mapped_column(Text, default="{}", deferred=True)
    lock_version: Mapped[int] = mapped_column(Integer, default=1)
    event_seq: Mapped[int] = mapped_column(Integer, default=0)
    started_by: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime]
    last_activity_at: Mapped[datetime]
    completed_at: Mapped[Optional[datetime]]
    next_due_at: Mapped[Optional[datetime]]  # earliest due date of its open work: drives the red/yellow/green light
    listed: Mapped[bool] = mapped_column(default=False, server_default=false())  # 挂牌督办: under listed supervision
    __table_args__ = (
        Index("ix_case_status_activity", "status", "last_activity_at"),
        Index("ix_case_status_due", "status", "next_due_at"),
        Index("ix_case_listed", "listed", "status", "next_due_at"),
        Index("ix_case_unit_status_due", "unit", "status", "next_due_at"),
        Index("ix_case_unit", "unit"),
        Index("ix_case_process_status", "process_key", "status"),
    )


class WorkItem(Base):
    """Projection of one ready user task, what inboxes and `duban tasks` read."""

    __tablename__ = "work_item"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    task_id: Mapped[str] = mapped_column(String(36))
    step_id: Mapped[str] = mapped_column(String(200))
    step_name: Mapped[str] = mapped_column(String(500))
    role: Mapped[str] = mapped_column(String(50))
    unit: Mapped[str] = mapped_column(String(200), default="")
    assignee: Mapped[Optional[str]] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))  # ready / completed / cancelled
    created_at: Mapped[datetime]
    due_at: Mapped[Optional[datetime]]
    completed_at: Mapped[Optional[datetime]]
    completed_by: Mapped[Optional[str]] = mapped_column(String(200))
    process_key: Mapped[str] = mapped_column(String(200), default="", server_default="")
    reminded_at: Mapped[Optional[datetime]]
    escalated_at: Mapped[Optional[datetime]]
    __table_args__ = (
        Index("ix_work_item_inbox", "status", "role", "unit", "due_at"),
        Index("ix_work_item_status_due", "status", "due_at"),
        Index("ix_work_item_process_step", "status", "process_key", "step_id"),
        Index("ix_work_item_status_created", "status", "created_at"),
        Index("ix_work_item_status_unit_created", "status", "unit", "created_at"),
        Index("ix_work_item_role_due", "status", "role", "due_at"),
        Index("ix_work_item_assignee", "status", "assignee"),
        UniqueConstraint("case_id", "task_id"),
    )


class Event(Base):
    """Append-only history: who did what to a case, with data before and after."""

    __tablename__ = "event"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"))
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(50))
    step_id: Mapped[Optional[str]] = mapped_column(String(200))
    step_name: Mapped[Optional[str]] = mapped_column(String(500))
    work_item_id: Mapped[Optional[int]]
    data_before: Mapped[Optional[dict[str, Any]]] = mapped_column(JSON)
    data_after: Mapped[Optional[dict[str, Any]]] = mapped_column(JSON)
    __table_args__ = (UniqueConstraint("case_id", "seq"),)


class User(Base):
    """A clerk, supervisor or designer: roles are lane ids, units limit which cases they see."""

    __tablename__ = "user"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(300))
    roles: Mapped[list[Any]] = mapped_column(JSON)
    units: Mapped[Optional[list[Any]]] = mapped_column(JSON)  # None = all units
    is_demo: Mapped[bool] = mapped_column(default=False)
    disabled_at: Mapped[Optional[datetime]]  # set by the security administrator: no sign-in, no token, no session
    email: Mapped[Optional[str]] = mapped_column(String(200))
    # Stored in each signed session at sign-in; bumping it (sign-out) ends every session signed before.
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Attachment(Base):
    """A file a clerk uploaded to a case (audit notice, minutes, ledger), stored on disk by content hash."""

    __tablename__ = "attachment"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    work_item_id: Mapped[Optional[int]]
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[str] = mapped_column(String(200))
    uploaded_at: Mapped[datetime]


class Comment(Base):
    """A remark on a case, by a clerk or supervisor."""

    __tablename__ = "comment"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    work_item_id: Mapped[Optional[int]]
    author: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime]


class ApiToken(Base):
    """A bearer token for the JSON API; only its hash is stored."""

    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    last_used_at: Mapped[Optional[datetime]]


class SignInAttempt(Base):
    """A failed sign-in: counted per (name, address), per name, per address and per known device (web/auth.py)."""

    __tablename__ = "sign_in_attempt"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime]
    device: Mapped[Optional[str]] = mapped_column(String(64))  # the known-device cookie it came with, if any
    __table_args__ = (Index("ix_sign_in_attempt_user_at", "username", "at"), Index("ix_sign_in_attempt_addr_at", "address", "at"),
                      Index("ix_sign_in_attempt_device_at", "device", "at"))


class IdempotencyKey(Base):
    """An `Idempotency-Key` of POST /api/v1/cases: the first request's body hash and, once done, its case.

    The row is committed as `pending` before the case is started, so a second request with the same key
    (a retry, or a race) finds it and never starts a second case.
    """

    __tablename__ = "idempotency_key"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20))  # pending / done
    case_id: Mapped[Optional[int]] = mapped_column(ForeignKey("case.id"))
    created_at: Mapped[datetime]
    __table_args__ = (UniqueConstraint("username", "key", name="uq_idempotency_key_user_key"),
                      Index("ix_idempotency_key_created", "created_at"))


class Timer(Base):
    """Something due at a moment: a BPMN timer of a case, or a work item's reminder or escalation.

    Written in the step's transaction; a worker claims due rows (lease in `claimed_until`) and the
    row disappears in the transaction that acts on it, so each fires exactly once.
    """

    __tablename__ = "timer"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # bpmn / reminder / escalation
    task_id: Mapped[Optional[str]] = mapped_column(String(36))
    work_item_id: Mapped[Optional[int]]
    fire_at: Mapped[datetime]
    claimed_until: Mapped[Optional[datetime]]
    claimed_by: Mapped[Optional[str]] = mapped_column(String(100))
    __table_args__ = (Index("ix_timer_fire_at", "fire_at"),)


class Notification(Base):
    """A message to a person (催办，督办), written in the step's transaction; e-mail goes out after commit."""

    __tablename__ = "notification"
    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(30))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    case_id: Mapped[Optional[int]] = mapped_column(ForeignKey("case.id"))
    work_item_id: Mapped[Optional[int]]
    created_at: Mapped[datetime]
    read_at: Mapped[Optional[datetime]]
    email_to: Mapped[Optional[str]] = mapped_column(String(200))
    email_status: Mapped[Optional[str]] = mapped_column(String(20))  # pending / sent / failed
    email_attempts: Mapped[int] = mapped_column(Integer, default=0)
    __table_args__ = (Index("ix_notification_recipient", "recipient", "read_at"),
                      Index("ix_notification_email", "email_status"))


class Incident(Base):
    """A step that failed in a handler or expression: the case waits in `error` until someone retries it."""

    __tablename__ = "incident"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    step_id: Mapped[Optional[str]] = mapped_column(String(200))
    step_name: Mapped[Optional[str]] = mapped_column(String(500))
    message: Mapped[str] = mapped_column(Text)
    trace: Mapped[str] = mapped_column(Text)
    action: Mapped[dict[str, Any]] = mapped_column(JSON)  # what to run again on retry
    status: Mapped[str] = mapped_column(String(20), default="open")  # open / resolved
    created_at: Mapped[datetime]
    resolved_at: Mapped[Optional[datetime]]
    resolved_by: Mapped[Optional[str]] = mapped_column(String(200))


class ProcessDraft(Base):
    """A designer's unfinished edit of a process: its files as text, saved and validated, deployed or not."""

    __tablename__ = "process_draft"
    id: Mapped[int] = mapped_column(primary_key=True)
    process_key: Mapped[str] = mapped_column(String(200), index=True)
    base_version_id: Mapped[Optional[int]] = mapped_column(ForeignKey("process_version.id"))
    filename: Mapped[str] = mapped_column(String(500))  # the BPMN file's name, e.g. joint_audit_xinghua.bpmn
    files: Mapped[dict[str, Any]] = mapped_column(JSON)  # {"x.bpmn": text, "forms/a.json": text, "decisions/b.dmn": text}
    problems: Mapped[list[Any]] = mapped_column(JSON, default=list)  # of the last save: Problem fields as dicts
    status: Mapped[str] = mapped_column(String(20), default="open")  # open / deployed / discarded
    deployed_version_id: Mapped[Optional[int]] = mapped_column(ForeignKey("process_version.id"))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime]


class AuditEntry(Base):
    """An administrative action (save draft, deploy, migrate, ...): who, when, what, on what, with detail."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)  # given in chain order
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(50))  # draft_saved / deployed / case_migrated / ...
    subject: Mapped[str] = mapped_column(String(300))  # "process:joint_audit_xinghua", "case:12", "draft:3"
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The chain (engine.audit): the previous row's hash, and this row's over its content and that link.
    prev_hash: Mapped[Optional[str]] = mapped_column(String(64))
    hash: Mapped[Optional[str]] = mapped_column(String(64))
    __table_args__ = (Index("ix_audit_log_action_at", "action", "at"), Index("ix_audit_log_actor_at", "actor", "at"))
