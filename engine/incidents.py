"""What a supervisor does to a case that needs a hand: retry after an incident, suspend, resume, terminate."""
from __future__ import annotations

from sqlalchemy import delete, select, update

from . import audit
from .access import Actor
from .errors import Conflict, Forbidden, NotFound
from .models import Case, Incident, Timer, WorkItem
from .projection import append_event
from .runtime import Engine
from .state import dump_state, load_state


def _require_oversight(actor: Actor) -> None:
    if not actor.oversees:
        raise Forbidden(f"用户 {actor.username} 不是督办人员，不能处理项目状态")


def _set_status(engine: Engine, case_id: int, actor: Actor, allowed_from: set[str], to: str, kind: str,
                note: str = "") -> None:
    now = engine.clock()
    with engine.db.transaction() as session:
        case = session.get(Case, case_id)
        if case is None:
            raise NotFound(f"项目不存在：{case_id}")
        if case.status not in allowed_from:
            raise Conflict(f"项目 {case_id} 当前状态为 {case.status}，不能{_VERBS[kind]}")
        previous = case.status
        session.execute(update(Case).where(Case.id == case_id, Case.status == previous)
                        .values(status=to, last_activity_at=now, lock_version=Case.lock_version + 1))
        append_event(session, case_id, actor.username, kind, now, before={"status": previous},
                     after={"status": to, **({"note": note} if note else {})})
        audit.record(session, actor.username, kind, f"case:{case_id}", {"from": previous, "to": to, "note": note}, now)


_VERBS = {"case_suspended": "暂停办理", "case_resumed": "恢复", "case_terminated": "终止", "case_retried": "重试"}


def open_incidents(engine: Engine, case_id: int) -> list[Incident]:
    with engine.db.reading() as session:
        return list(session.scalars(select(Incident).where(Incident.case_id == case_id, Incident.status == "open")
                                    .order_by(Incident.id)).all())


def retry(engine: Engine, case_id: int, actor: Actor) -> str:
    """Run the failed action again once the cause is fixed; a new failure opens a new incident."""
    _require_oversight(actor)
    incidents = open_incidents(engine, case_id)
    if not incidents:
        raise Conflict(f"项目 {case_id} 没有待处理的系统异常")
    _set_status(engine, case_id, actor, {"error"}, "running", "case_retried")
    now = engine.clock()
    with engine.db.transaction() as session:
        session.execute(update(Incident).where(Incident.id.in_([i.id for i in incidents]))
                        .values(status="resolved", resolved_at=now, resolved_by=actor.username))
    action = incidents[-1].action
    if action.get("kind") == "complete":
        # The clerk's own completion, run again as they submitted it.
        engine.complete(action["work_item_id"], action["data"], Actor(action.get("actor") or actor.username, operator=True))
        return "completed"
    return "rescheduled"  # timers wait in their rows and fire on the worker's next run


def suspend(engine: Engine, case_id: int, actor: Actor, note: str = "") -> None:
    _require_oversight(actor)
    _set_status(engine, case_id, actor, {"running", "error"}, "suspended", "case_suspended", note)


def resume(engine: Engine, case_id: int, actor: Actor) -> None:
    _require_oversight(actor)
    has_incident = bool(open_incidents(engine, case_id))
    _set_status(engine, case_id, actor, {"suspended"}, "error" if has_incident else "running", "case_resumed")


def terminate(engine: Engine, case_id: int, actor: Actor, note: str = "") -> None:
    """End a case for good: open work is cancelled, its timers dropped, the workflow cancelled."""
    _require_oversight(actor)
    now = engine.clock()
    with engine.db.transaction() as session:
        case = session.get(Case, case_id, with_for_update=True)  # case before its items and timers, as steps lock
        if case is None:
            raise NotFound(f"项目不存在：{case_id}")
        if case.status in ("completed", "terminated"):
            raise Conflict(f"项目 {case_id} 已{'办结' if case.status == 'completed' else '终止'}")
        version = engine.versions.get(session, case.process_version_id)
        workflow = load_state(case.state_json, version.spec, version.subprocess_specs, None)
        workflow.cancel()

        session.execute(update(WorkItem).where(WorkItem.case_id == case_id, WorkItem.status == "ready")
                        .values(status="cancelled", completed_at=now))
        session.execute(delete(Timer).where(Timer.case_id == case_id))
        previous = case.status
        session.execute(update(Case).where(Case.id == case_id).values(
            status="terminated", current_steps="", completed_at=now, last_activity_at=now, next_due_at=None,
            state_json=dump_state(workflow), lock_version=Case.lock_version + 1))
        append_event(session, case_id, actor.username, "case_terminated", now, before={"status": previous},
                     after={"status": "terminated", **({"note": note} if note else {})})
        audit.record(session, actor.username, "case_terminated", f"case:{case_id}",
                     {"from": previous, "to": "terminated", "note": note}, now)
    engine.live.take(case_id, -1)
