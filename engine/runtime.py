"""The engine facade: deploy, start, complete, list tasks, read a case. A CLI command or a view calls one verb."""
from __future__ import annotations

import copy
import json
import re
import traceback
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable
from uuid import UUID

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.orm import Session
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.util.task import TaskState

from handlers import HandlerContext, registered

from . import expressions
from .access import OPERATOR, Actor
from .db import Database
from .errors import Conflict, DubanError, Forbidden, InvalidData, NotFound, StepFailed, ValidationFailed
from .forms import check_form, with_options
from .models import Case, Event, Incident, ProcessVersion, WorkItem
from .projection import (CASE_STATE_JSON, CASES, LOCK_CASE_OF_ITEM, SAVE_CASE, STEP_ROWS, CaseState, append_event, EventLog, case_data, json_safe, step_id, summarise,
                         sync_work_items)
from .roles import ROLES
from .specs import LoadedVersion, VersionCache, newest_versions
from .clock import engine_time
from .state import LiveWorkflows, dump_state, load_state, new_workflow, prune_history
from .steps import CaseMoved, StepBudget, engine_work_left, failed_task, reason, retrying, run_engine_steps
from .timers import cancel_deadlines, schedule_deadlines, sync_case_timers, waiting_timers
from .validation import check_paths


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


@dataclass(frozen=True)
class Deployed:
    process_key: str  # a process key, or a decision table's id when kind == "decision"
    version: int
    content_hash: str
    new: bool
    kind: str = "process"


class Engine:
    def __init__(self, db: Database, clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.clock = clock
        self.live = LiveWorkflows()
        self.versions = VersionCache()

    # --- deploy ---------------------------------------------------------------------------
    def deploy(self, paths: list[str], actor: str = "cli", forms_dir: str | None = None,
               audit_detail: dict[str, Any] | None = None,
               then: Callable[[Session, list[Deployed]], None] | None = None) -> list[Deployed]:
        """Validate every file, then store each process as an immutable version; all or nothing. Each new version
        is in the audit log (with `audit_detail`, e.g. the designer's diff); `then` runs in the same transaction."""
        problems, parsed = check_paths(paths, forms_dir)
        if problems:
            raise ValidationFailed(f"{len(problems)} 个问题，未部署任何流程", details=problems)
        from .decisions import CheckedDecision, store

        results = []
        with self.db.transaction() as session:
            from .schedules import prepare_starts  # timer start events: plain starts, and their schedule rows
            prepare_starts(session, [p for p in parsed if not isinstance(p, CheckedDecision)], self.clock())
            for decision in [p for p in parsed if isinstance(p, CheckedDecision)]:
                version, new = store(session, decision, actor, self.clock())
                results.append(Deployed(decision.decision_id, version, decision.content_hash, new, "decision"))
            for proc in [p for p in parsed if not isinstance(p, CheckedDecision)]:
                existing = session.scalar(select(ProcessVersion).where(ProcessVersion.content_hash == proc.content_hash))
                if existing is not None:
                    results.append(Deployed(existing.process_key, existing.version, existing.content_hash, False))
                    continue
                latest = session.scalar(select(func.max(ProcessVersion.version)).where(
                    ProcessVersion.process_key == proc.process_key)) or 0
                session.add(ProcessVersion(
                    process_key=proc.process_key, version=latest + 1, content_hash=proc.content_hash,
                    name=proc.name, filename=proc.filename, bpmn_xml=proc.xml, spec_json=proc.spec_json(),
                    catalogue=proc.catalogue, deployed_at=self.clock(), deployed_by=actor, files=proc.files,
                ))
                results.append(Deployed(proc.process_key, latest + 1, proc.content_hash, True))
            from . import audit

            for done in [r for r in results if r.new]:
                audit.record(session, actor, "deployed", f"{'decision' if done.kind == 'decision' else 'process'}:"
                             f"{done.process_key}", {"version": done.version, "content_hash": done.content_hash,
                                                     **(audit_detail or {})}, self.clock())
            if then is not None:
                then(session, results)
        return results

    # --- start ----------------------------------------------------------------------------
    def start_case(self, process_key: str, data: dict[str, Any], actor: Actor = OPERATOR, by_hand: bool = False) -> int:
        """Start a case on the newest version of a process; returns the case id. `by_hand` (the generic 立项
        page and the API) refuses processes that other cases open or that have a page of their own."""
        now = self.clock()
        with self.db.transaction() as session:
            case, workflow = self._start(session, process_key, data, actor, now, by_hand)
        self.live.put(case.id, case.lock_version, workflow)
        return case.id

    def _start(self, session: Session, process_key: str, data: dict[str, Any], actor: Actor,
               now: datetime, by_hand: bool = False) -> tuple[CaseState, BpmnWorkflow]:
        """Open a case in `session`'s transaction: the start form checked, the engine run to its first waits."""
        version_id = session.scalar(select(ProcessVersion.id).where(ProcessVersion.process_key == process_key)
                                    .order_by(ProcessVersion.version.desc()).limit(1))
        if version_id is None:
            raise NotFound(f"流程未部署：{process_key}")
        version = self.versions.get(session, version_id)
        start = version.catalogue["start"]
        started_from = version.catalogue.get("started_from")
        if by_hand and started_from:
            raise Forbidden(f"“{version.name}”不能在此立项：" + ("由其他流程开启" if started_from == "other_cases"
                                                             else f"请在 {started_from} 办理"))
        if not actor.operator and start.get("role") and start["role"] not in actor.roles:
            raise Forbidden(f"您没有发起此流程所需的角色：{ROLES.get(start['role'], start['role'])}")
        check_form(start.get("form"), data, "立项")
        unit = str(data.get("unit") or "")
        if not actor.in_scope(unit):
            raise Forbidden(f"您无权为单位 {unit} 立项")
        title = _title(data, version.name, version.catalogue.get("case_title"))
        case_id = session.execute(insert(CASES).values(
            process_version_id=version.id, process_key=process_key, title=title, unit=unit, status="running",
            current_steps="", state_json="{}", data_json="{}", lock_version=0, event_seq=0,
            started_by=actor.username, started_at=now, last_activity_at=now).returning(CASES.c.id)).scalar_one()
        case = CaseState(case_id, version.id, process_key, title, unit, "running", "", 0, 0)
        workflow = new_workflow(version.spec, version.subprocess_specs,
                                self._script_engine(session, case, actor, now))
        for task in [t for t in workflow.tasks.values() if t.state == TaskState.READY]:
            task.data.update(data)
        log = EventLog(case, actor.username, now)
        log.add("case_started", step_name=version.name, after=data)
        self._advance(session, case, workflow, version.catalogue, log, now, timers_before=set())
        return case, workflow

    def startable(self, actor: Actor) -> list[dict[str, Any]]:
        """The newest version of each process the actor may open a case of by hand, with its start form: not those
        other cases open, nor those with a page of their own (`startedFrom`)."""
        with self.db.reading() as session:
            out = []
            for _, version_id in sorted(newest_versions(session).items()):
                version = self.versions.get(session, version_id)
                if version.catalogue.get("started_from"):
                    continue
                start = version.catalogue["start"]
                if actor.operator or (start.get("role") in actor.roles if start.get("role") else False):
                    out.append({"process_key": version.process_key, "name": version.name, "version": version.version,
                                "start": start})
            return out

    # --- complete -------------------------------------------------------------------------
    def complete(self, work_item_id: int, data: dict[str, Any], actor: Actor,
                 expected_version: int | None = None) -> CaseState:
        """Complete a ready work item with form data and run the engine on, in one transaction.

        Another step of the same case that committed first (a parallel review, a timer) is not the
        clerk's problem: the step is run again on the case as it now is, as long as this item is
        still ready. Completing an item twice, or one the other step cancelled, is a conflict.
        `expected_version` (API callers) asks to refuse if the case moved at all.
        A handler or expression that fails refuses the step whole and puts the case in `error`
        with an incident that remembers the completion, so a supervisor can retry it.
        """
        try:
            return retrying(lambda: self._complete(work_item_id, data, actor, expected_version))
        except StepFailed as err:
            self.record_incident(err.details["case_id"], {
                "kind": "complete", "work_item_id": work_item_id, "data": json_safe(data),
                "actor": actor.username}, err)
            raise

    def _complete(self, work_item_id: int, data: dict[str, Any], actor: Actor,
                  expected_version: int | None) -> CaseState:
        now = self.clock()
        with self.db.transaction() as session:
            item, case, known = self._item_and_case(session, work_item_id)
            actor.require_work(item)
            if item.status != "ready":
                raise Conflict(f"待办事项 {work_item_id} 已{_status_text(item.status)}" +
                               (f" (由 {item.completed_by})" if item.completed_by else ""))
            if case.status != "running":
                raise Conflict(f"项目 {case.id} 当前{_CASE_STATES.get(case.status, case.status)}，暂不能办理")
            if expected_version is not None and expected_version != case.lock_version:
                raise Conflict(f"项目 {case.id} 已被他人更新（版本 {case.lock_version}，您看到的是 {expected_version}）")
            version = self.versions.get(session, case.process_version_id)
            workflow = self._workflow(session, case, version)
            workflow.script_engine = self._script_engine(session, case, actor, now)
            task = workflow.tasks.get(UUID(item.task_id))
            if task is None or not task.has_state(TaskState.READY):
                raise Conflict(f"步骤 {item.step_name} 已不在待办状态")
            form = step_form(session, case.id, version.catalogue["steps"].get(item.step_id, {}).get("form"), task.data)
            check_form(form, data, item.step_name, context=task.data)
            log = EventLog(case, actor.username, now)
            log.add("task_completed", step_id=item.step_id, step_name=item.step_name, work_item_id=item.id,
                    before={k: task.data.get(k) for k in data}, after=data)
            timers_before = set(waiting_timers(workflow)) if version.catalogue.get("has_timers", True) else set()
            task.data.update(copy.deepcopy(data))  # a retried attempt starts again from the clerk's own data
            try:
                with engine_time(self.clock), expressions.step_budget(expressions.STEP_SECONDS):
                    self._run(task.run, item.step_name)
                self._advance(session, case, workflow, version.catalogue, log, now,
                              completed=(item.id, actor.username), timers_before=timers_before, known=known)
            except StepFailed as err:
                err.details = {**(err.details or {}), "case_id": case.id}
                raise
        self.live.put(case.id, case.lock_version, workflow)
        return case

    def _item_and_case(self, session: Session, work_item_id: int):
        """The work item, its case, and the case's ready work items, as they are now, in one statement.

        On PostgreSQL the case row is locked first, so a parallel step of the same case waits for this
        one to commit instead of failing at the version check.
        """
        conn = session.connection()
        if not self.db.is_sqlite:  # SQLite: BEGIN IMMEDIATE already made this transaction the only writer
            conn.execute(LOCK_CASE_OF_ITEM, {"item_id": work_item_id})
        rows = conn.execute(STEP_ROWS, {"item_id": work_item_id}).all()
        item = next((row for row in rows if row.id == work_item_id), None)
        if item is None:
            raise NotFound(f"待办事项不存在：{work_item_id}")
        case = CaseState(*(getattr(item, f"case__{name}") for name in CaseState.COLUMNS))
        return item, case, [row for row in rows if row.status == "ready"]

    def _workflow(self, session: Session, case: CaseState, version: LoadedVersion) -> BpmnWorkflow:
        """The case's live workflow: from this process's cache when it is of the version just read."""
        return self.live.take(case.id, case.lock_version) or load_state(
            session.connection().execute(CASE_STATE_JSON, {"case_id": case.id}).scalar_one(),
            version.spec, version.subprocess_specs, None)

    # --- claiming ---------------------------------------------------------------------------
    def claim(self, work_item_id: int, actor: Actor) -> None:
        """Take a ready item of one's roles and units; someone else's claim is a conflict."""
        self._assign(work_item_id, actor, actor.username, "task_claimed", lambda item: actor.require_work(item))

    def release(self, work_item_id: int, actor: Actor) -> None:
        """Give a claimed item back to the role's pool."""
        self._assign(work_item_id, actor, None, "task_released", actor.require_release)

    def reassign(self, work_item_id: int, to_username: str, actor: Actor) -> None:
        """A supervisor hands an item to a named clerk who has the step's role and unit."""
        from .accounts import actor_for

        if not actor.oversees:
            raise Forbidden("只有督办人员可以改派")
        with self.db.reading() as session:
            target = actor_for(session, to_username)

        def allowed(item):
            actor.require_case_unit(item.unit)
            if item.role not in target.roles or not target.in_scope(item.unit):
                raise Forbidden(f"{to_username} 没有办理此事项的角色或单位权限")
        self._assign(work_item_id, actor, to_username, "task_reassigned", allowed, check_free=False)

    def _assign(self, work_item_id: int, actor: Actor, assignee: str | None, kind: str,
                allowed: Callable[[WorkItem], None], check_free: bool = True) -> None:
        now = self.clock()
        with self.db.transaction() as session:
            if not self.db.is_sqlite:
                session.execute(LOCK_CASE_OF_ITEM, {"item_id": work_item_id})  # case before item: the steps' lock order
            item = session.get(WorkItem, work_item_id)
            if item is None:
                raise NotFound(f"待办事项不存在：{work_item_id}")
            allowed(item)
            if item.status != "ready":
                raise Conflict(f"待办事项 {work_item_id} 已{_status_text(item.status)}")
            if check_free and assignee and item.assignee not in (None, assignee):
                raise Conflict(f"此事项已由 {item.assignee} 签收")
            previous = item.assignee
            stmt = update(WorkItem).where(WorkItem.id == item.id, WorkItem.status == "ready")
            if check_free and assignee:
                stmt = stmt.where(or_(WorkItem.assignee.is_(None), WorkItem.assignee == assignee))
            if session.execute(stmt.values(assignee=assignee).execution_options(synchronize_session=False)).rowcount != 1:
                raise Conflict(f"待办事项 {work_item_id} 刚被他人处理，请刷新")
            append_event(session, item.case_id, actor.username, kind, now, step_id=item.step_id,
                         step_name=item.step_name, work_item_id=item.id,
                         before={"assignee": previous}, after={"assignee": assignee})

    # --- reads ----------------------------------------------------------------------------
    def tasks(self, actor: Actor = OPERATOR, case_id: int | None = None) -> list[dict[str, Any]]:
        """Ready work items the actor may work: assigned to them, or unclaimed in their roles and units."""
        with self.db.reading() as session:
            query = select(WorkItem, Case).join(Case, Case.id == WorkItem.case_id).where(WorkItem.status == "ready")
            if case_id is not None:
                query = query.where(WorkItem.case_id == case_id)
            if not actor.operator:
                query = query.where(WorkItem.role.in_(actor.roles or {""}))
                if actor.units is not None:
                    query = query.where(WorkItem.unit.in_(actor.units or {""}))
            rows = session.execute(query.order_by(WorkItem.due_at.is_(None), WorkItem.due_at, WorkItem.id)).all()
            return [_item_view(item, case, self.versions.get(session, case.process_version_id)) for item, case in rows
                    if actor.operator or item.assignee in (None, actor.username)]

    def work_item(self, work_item_id: int, actor: Actor) -> dict[str, Any]:
        """One work item with its form and its case's header data, for the task page and the API."""
        with self.db.reading() as session:
            item = session.get(WorkItem, work_item_id)
            if item is None:
                raise NotFound(f"待办事项不存在：{work_item_id}")
            case = session.get(Case, item.case_id)
            actor.require_see_work(item)
            view = _item_view(item, case, self.versions.get(session, case.process_version_id))
            data = json.loads(case.data_json or "{}")
            if item.status == "ready":
                view["form"] = step_form(session, case.id, view["form"], data)
            view.update(status=item.status, completed_by=item.completed_by, completed_at=_iso(item.completed_at),
                        may_work=item.status == "ready" and actor.may_work(item)
                        and item.assignee in (None, actor.username),
                        case={"id": case.id, "title": case.title, "status": case.status, "unit": case.unit,
                              "lock_version": case.lock_version, "data": data})
            return view

    def case(self, case_id: int, actor: Actor = OPERATOR) -> dict[str, Any]:
        """A case with its status, current steps, open work and full history."""
        with self.db.reading() as session:
            case = session.get(Case, case_id)
            if case is None:
                raise NotFound(f"项目不存在：{case_id}")
            actor.require_case(case)
            version = self.versions.get(session, case.process_version_id)
            events = session.scalars(select(Event).where(Event.case_id == case_id).order_by(Event.seq)).all()
            items = session.scalars(select(WorkItem).where(WorkItem.case_id == case_id, WorkItem.status == "ready")).all()
            return {
                "id": case.id, "process_key": case.process_key, "process_name": version.name,
                "version": version.version, "process_version_id": version.id,
                "title": case.title, "unit": case.unit, "status": case.status,
                "current_steps": [s for s in case.current_steps.split("、") if s],
                "lock_version": case.lock_version, "started_by": case.started_by,
                "started_at": _iso(case.started_at), "last_activity_at": _iso(case.last_activity_at),
                "completed_at": _iso(case.completed_at), "data": json.loads(case.data_json or "{}"),
                "work_items": [_item_view(i, case, version) for i in items],
                "history": [_event_view(e) for e in events],
            }

    # --- internals ------------------------------------------------------------------------
    def _save_case(self, session: Session, case: CaseState, workflow: BpmnWorkflow, data: dict[str, Any]) -> None:
        """Write the case row with a compare-and-set on the version read at the start of the step: a step that
        lost a race writes nothing (the transaction rolls back) and `retrying` runs it again."""
        try:
            data_json = json.dumps(data, ensure_ascii=False, allow_nan=False)
        except ValueError:  # NaN or Infinity from a handler: not JSON, and every reader of the case would choke
            raise StepFailed(f"{case.title}: 步骤执行失败，未做任何更改：项目数据中有无效数字（NaN 或无穷大）",
                             details={"step_id": None, "step_name": None, "trace": "non-finite number in case data"})
        saved = session.connection().execute(SAVE_CASE, dict(
            case_id=case.id, seen=case.lock_version, status=case.status, current_steps=case.current_steps,
            last_activity_at=case.last_activity_at, completed_at=case.completed_at, event_seq=case.event_seq,
            next_due_at=case.next_due_at, state_json=dump_state(workflow), data_json=data_json))
        if saved.rowcount != 1:
            raise CaseMoved(f"项目 {case.id} 已被他人同时更新，请刷新后重试")
        case.lock_version += 1

    def _advance(self, session: Session, case: CaseState, workflow: BpmnWorkflow, catalogue: dict[str, Any],
                 log: EventLog, now: datetime, completed: tuple[int, str] | None = None,
                 timers_before: set[tuple[str, datetime]] | None = None, known: list[Any] | None = None) -> None:
        """Run the engine on, then write everything the step changed; `timers_before` (when known) spares
        rewriting the case's timer rows if the step left its timers as they were, `known` (the case's ready
        work-item rows, when already read) spares reading them again."""
        snapshots: dict[UUID, dict[str, Any]] = {}
        budget = StepBudget(case.title)

        def before(task):
            budget.spend()
            if _records_data(task):
                snapshots[task.id] = dict(task.data)

        def after(task):
            if task.id in snapshots:
                old = snapshots.pop(task.id)
                keys = [k for k in task.data if old.get(k) != task.data.get(k)]
                log.add(_RECORDED_KINDS[type(task.task_spec).__name__],
                        step_id=step_id(task), step_name=catalogue["names"].get(step_id(task)) or step_id(task),
                        actor="system", before={k: old.get(k) for k in keys}, after={k: task.data[k] for k in keys})

        with engine_time(self.clock), expressions.step_budget(expressions.STEP_SECONDS):  # one deadline for all
            while True:
                self._run(lambda: run_engine_steps(workflow, before, after), case.title)
                prune_history(workflow)
                # SpiffWorkflow walks its task tree only to depth 1000 and stops quietly there: an automatic
                # loop that went deeper left ready work behind. Pruned, the tree is shallow again: run on.
                if not engine_work_left(workflow):
                    break
        tasks = workflow.get_tasks()  # one walk of the live tree serves every projection below
        ready = [t for t in tasks if t.state == TaskState.READY and t.task_spec.manual]
        projected = sync_work_items(session, case, ready, catalogue, now, completed, known)
        for item in projected.created:
            log.add("task_ready", step_id=item["step_id"], step_name=item["step_name"], work_item_id=item["id"],
                    actor="system")
        cancel_deadlines(session, case.id, projected.closed_with_deadline)
        schedule_deadlines(session, projected.created, now)
        if catalogue.get("has_timers", True):
            waiting = waiting_timers(workflow, tasks)
            if timers_before is None or set(waiting) != timers_before:
                sync_case_timers(session, case.id, waiting)
        case.next_due_at = projected.next_due_at
        case.opened = list(dict.fromkeys(item["step_name"] for item in projected.created))
        summarise(case, workflow, ready, catalogue, now)
        if case.status == "completed":
            log.add("case_completed", actor="system")
        log.write(session)
        self._save_case(session, case, workflow, case_data(workflow, tasks))

    def _run(self, fn: Callable[[], Any], where: str) -> None:
        try:
            fn()
        except DubanError:
            raise
        except Exception as err:  # handlers and expressions fail in many ways; the step is refused whole
            refused = _invalid_data_in(err)
            if refused is not None:  # a handler's check of what the clerk sent: the clerk's to fix, not an incident
                raise refused from err
            task = failed_task(err)
            details = {"step_id": step_id(task) if task else None,
                       "step_name": getattr(task.task_spec, "bpmn_name", None) if task else None,
                       "trace": "".join(traceback.format_exception(err))[-8000:]}
            raise StepFailed(f"{where}: 步骤执行失败，未做任何更改：{reason(err)}", details=details) from err

    def record_incident(self, case_id: int, action: dict[str, Any], err: DubanError | str) -> None:
        """Put the case in `error` with an incident; nothing else about it changes."""
        now = self.clock()
        details = getattr(err, "details", None) or {}
        message = getattr(err, "message", None) or str(err)
        with self.db.transaction() as session:
            status = session.scalar(select(Case.status).where(Case.id == case_id))
            if status not in ("running", "error"):
                return
            session.execute(update(Case).where(Case.id == case_id).values(status="error", last_activity_at=now))
            session.add(Incident(case_id=case_id, step_id=details.get("step_id"), step_name=details.get("step_name"),
                                 message=message, trace=details.get("trace") or message, action=action,
                                 status="open", created_at=now))
            append_event(session, case_id, "system", "incident", now, step_id=details.get("step_id"),
                         step_name=details.get("step_name"), after={"message": message[:500]})

    def _script_engine(self, session: Session, case: CaseState, actor: Actor, now: datetime) -> PythonScriptEngine:
        def call_service(context, operation_name=None, operation_params=None, **_):
            handler = registered().get(operation_name)
            if handler is None:
                raise StepFailed(f"未注册的处理程序：{operation_name}")
            params = {k: v.get("value") for k, v in (operation_params or {}).items()}
            def start_case(process_key: str, data: dict[str, Any]) -> int:
                # A handler opening other cases (a campaign's units, a complaint from a public notice): in this
                # step's transaction, so the step and the cases it opened land together or not at all. Handlers
                # are trusted code: the start form is still checked, the role and unit are not the clerk's.
                started, _ = self._start(session, process_key, data,
                                         Actor(actor.username, actor.roles, None, operator=True), now)
                return started.id

            ctx = HandlerContext(session, case.id, case.unit, context, params, actor.username, now, start_case)
            return json.dumps(json_safe(handler(ctx)))

        return expressions.make_script_engine(call_service)


def _invalid_data_in(err: BaseException) -> InvalidData | None:
    """The InvalidData a handler raised, under SpiffWorkflow's wrapping, if that is what failed the step."""
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        if isinstance(current, InvalidData):
            return current
        seen.add(id(current))
        current = getattr(current, "exception", None) or current.__cause__ or current.__context__
    return None


_RECORDED_KINDS = {"ServiceTask": "service_task", "ScriptTask": "script_task", "BusinessRuleTask": "rule_task"}


def _records_data(task) -> bool:
    return type(task.task_spec).__name__ in _RECORDED_KINDS


_CASE_STATES = {"error": "系统异常待处理", "suspended": "已暂停", "terminated": "已终止", "completed": "已办结"}


def step_form(session: Session, case_id: int, form: dict[str, Any] | None, data: dict[str, Any]) -> dict[str, Any] | None:
    """A step's form with the choices its `x-options` fields take from the case's records."""
    from handlers import registered_options

    def choices(name: str) -> list[dict[str, Any]]:
        source = registered_options().get(name)
        if source is None:
            raise StepFailed(f"表单选项来源未注册：{name}")
        return source(session, case_id, data)

    return with_options(form, choices)


_TITLE_FIELD = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]{0,99})\}")


def _title(data: dict[str, Any], default: str, template: str | None = None) -> str:
    """"张伟 镇党委书记（戴窑镇）" for a cadre's case; a case about something else is named by its process's
    `caseTitle` ({field} replaced by the start data's text or number, nothing else is read), or its start form's
    `case_title` or `title` (a key task, a campaign), else by its process; then its unit."""
    def field(match: re.Match) -> str:
        value = data.get(match.group(1))
        return str(value).strip()[:200] if isinstance(value, (str, int, float)) and not isinstance(value, bool) else ""

    named = _TITLE_FIELD.sub(field, template).strip() if template else ""
    named = named or next((str(data[k]).strip() for k in ("case_title", "title")
                           if isinstance(data.get(k), str) and data[k].strip()), "")
    parts = [named] if named else [str(data.get(k)) for k in ("cadre_name", "post") if data.get(k)] or [default]
    if data.get("unit") and not (named and str(data["unit"]) in named):  # "活动（省审计厅）" names its unit already
        parts.append(f"（{data['unit']}）")
    return " ".join(parts)[:500] or default


def _status_text(status: str) -> str:
    return {"completed": "办结", "cancelled": "取消"}.get(status, status)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") + "Z" if value else None


def _item_view(item: WorkItem, case: Case, version: LoadedVersion) -> dict[str, Any]:
    step = version.catalogue["steps"].get(item.step_id, {})
    return {
        "id": item.id, "case_id": item.case_id, "case_title": case.title, "process_key": case.process_key,
        "process_name": version.name, "step_id": item.step_id, "step_name": item.step_name, "role": item.role, "unit": item.unit,
        "assignee": item.assignee, "created_at": _iso(item.created_at), "due_at": _iso(item.due_at),
        "instructions": step.get("instructions", ""), "form": step.get("form"),
    }


def _event_view(event: Event) -> dict[str, Any]:
    return {
        "seq": event.seq, "at": _iso(event.at), "actor": event.actor, "kind": event.kind,
        "step_id": event.step_id, "step_name": event.step_name, "work_item_id": event.work_item_id,
        "before": event.data_before, "after": event.data_after,
    }
