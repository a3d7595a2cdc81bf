"""Moving running cases to a new version of their process: who moves, who cannot and why, and what follows.

The cases are prepared once per module in a template database (v1 cases, then v2 deployed beside them); each
test works on its own copy of it.
"""
from __future__ import annotations

import json
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from engine import migration
from engine.access import OPERATOR
from engine.audit import entries
from engine.cli import main as cli
from engine.db import Database
from engine.errors import Conflict, Forbidden
from engine.models import Case, Event, Timer, WorkItem
from engine.projection import step_id
from engine.runtime import Engine
from engine.state import load_state
from engine.timers import REMIND_BEFORE, waiting_timers
from engine.worker import TimerRunner
from SpiffWorkflow.util.task import TaskState
from tests.conftest import CASE_FACTS, PROCESSES, Clock, as_user, complete_step, make_engine, ready_steps
from tests.processes.walk import walk

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "migration"
KEY = "joint_audit_xinghua"
T0 = datetime(2026, 11, 2, 1, 0, 0)  # before the example rectification deadline (2027-01-02): reports are on time
NEW_FIELD = "contact_phone"
UNIT = {"unit": "戴窑镇"}


@dataclass
class Prepared:
    path: Path
    now: datetime
    ids: dict[str, int]


def _rectification_case(engine: Engine) -> int:
    """A Xinghua case whose unit's rectification report was sent back three times: waiting for round 4."""
    case_id = engine.start_case(KEY, dict(CASE_FACTS), as_user(engine, "organization"))
    walk(engine, case_id, "report_rectification", {"review_finance": {"finance_findings": [
        {"description": "账外账", "severity": "major", "problem_category": "slush_fund",
         "responsibility_type": "direct", "demerit_points": 2}]}})
    day = engine.case(case_id)["data"]["rectification_deadline"]
    for _ in range(3):
        complete_step(engine, case_id, "report_rectification", reported_item_nos=[], rectification_report_date=day,
                      rectification_report="整改中")
        complete_step(engine, case_id, "verify_rectification_audit", finance_visit_date=day,
                      finance_visit_note="未整改到位", finance_closed_item_nos=[], finance_evidence_ids=[])
        complete_step(engine, case_id, "set_next_round", next_round_deadline=day)
    assert ready_steps(engine, case_id) == ["report_rectification"]
    return case_id


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> Prepared:
    root = tmp_path_factory.mktemp("migration")
    engine = make_engine(f"sqlite:///{root / 'template.db'}")
    engine.clock = Clock(T0)
    engine.deploy([str(FIXTURES / "v1")])
    org = as_user(engine, "organization")
    ids = {"rect1": _rectification_case(engine), "rect2": _rectification_case(engine)}
    ids["demo_fresh"] = engine.start_case("migration_demo", dict(UNIT), org)
    review = next(i for i in engine.tasks(case_id=ids["demo_fresh"]) if i["step_id"] == "review")
    engine.claim(review["id"], org)  # the organization's clerk holds 复核, which v2 gives to the audit bureau
    ids["demo_confirm"] = engine.start_case("migration_demo", dict(UNIT), org)
    complete_step(engine, ids["demo_confirm"], "check", note="已核对")  # now waiting on 确认, gone in v2
    ids["demo_other"] = engine.start_case("migration_demo", dict(UNIT), org)
    ids["call"] = engine.start_case("migration_call", dict(UNIT), org)
    ids["multi"] = engine.start_case("migration_loop", {**UNIT, "members": ["甲", "乙", "丙"]}, org)
    complete_step(engine, ids["multi"], "each_member", note="甲审核完毕")
    ids["loop"] = engine.start_case("migration_loop", {**UNIT, "members": ["甲"]}, org)
    complete_step(engine, ids["loop"], "each_member")
    complete_step(engine, ids["loop"], "redo", draft="初稿", approved=False)  # round 2 of 反复修改
    ids["members"] = engine.start_case("migration_members", {**UNIT, "members": ["甲", "乙"], "reviewers": ["丙"]}, org)
    complete_step(engine, ids["members"], "each_reviewer")
    ids["kind"] = engine.start_case("migration_kind", dict(UNIT), org)
    ids["done"] = engine.start_case("migration_kind", dict(UNIT), org)
    complete_step(engine, ids["done"], "register")
    # Version 2 of everything: the rectification report form gains a field, the fixtures change as they say.
    library = root / "processes"
    shutil.copytree(PROCESSES, library)
    form_file = library / "forms" / "report_rectification.json"
    form = json.loads(form_file.read_text(encoding="utf-8"))
    form["properties"][NEW_FIELD] = {"type": "string", "title": "整改联系人电话", "maxLength": 30}
    form_file.write_text(json.dumps(form, ensure_ascii=False, indent=2), encoding="utf-8")
    deployed = engine.deploy([str(library)]) + engine.deploy([str(FIXTURES / "v2")]) + engine.deploy([str(FIXTURES / "v3")])
    assert {(d.process_key, d.version) for d in deployed if d.new} >= {
        (KEY, 2), ("migration_demo", 2), ("migration_call", 2), ("migration_child", 2), ("migration_loop", 2),
        ("migration_members", 2), ("migration_kind", 2), ("migration_call", 3)}
    engine.db.engine.dispose()
    return Prepared(root / "template.db", engine.clock.now, ids)


@pytest.fixture
def world(prepared, tmp_path):
    target = tmp_path / "duban.db"
    with sqlite3.connect(prepared.path) as source, sqlite3.connect(target) as copy:
        source.backup(copy)
    source.close()
    copy.close()
    engine = Engine(Database(f"sqlite:///{target}"))
    engine.clock = Clock(prepared.now)
    engine.ids = prepared.ids
    engine.url = f"sqlite:///{target}"
    return engine


def snapshot(engine: Engine, case_id: int) -> dict:
    """Everything a case is in the database, to see that a refused migration left it alone."""
    with engine.db.reading() as s:
        case = s.get(Case, case_id)
        items = s.execute(select(WorkItem.id, WorkItem.task_id, WorkItem.step_name, WorkItem.role, WorkItem.status,
                                 WorkItem.assignee, WorkItem.due_at).where(WorkItem.case_id == case_id)
                          .order_by(WorkItem.id)).all()
        timers = s.execute(select(Timer.kind, Timer.task_id, Timer.work_item_id, Timer.fire_at)
                           .where(Timer.case_id == case_id).order_by(Timer.id)).all()
        events = s.scalar(select(Event.seq).where(Event.case_id == case_id).order_by(Event.seq.desc()).limit(1))
        return {"version": case.process_version_id, "status": case.status, "lock": case.lock_version,
                "steps": case.current_steps, "state": case.state_json, "items": items, "timers": timers,
                "events": events}


def stored_workflow(engine: Engine, case_id: int):
    with engine.db.reading() as s:
        case = s.get(Case, case_id)
        version = engine.versions.get(s, case.process_version_id)
        return load_state(case.state_json, version.spec, version.subprocess_specs, None), version


def bpmn_timers(engine: Engine, case_id: int) -> list[tuple[str, datetime]]:
    with engine.db.reading() as s:
        return sorted(tuple(row) for row in s.execute(select(Timer.task_id, Timer.fire_at).where(
            Timer.case_id == case_id, Timer.kind == "bpmn")))


def next_steps(workflow) -> list[tuple[str, str, str]]:
    """(step, next step, its state) below each ready, waiting or started task: what the engine predicts."""
    live = TaskState.READY | TaskState.WAITING | TaskState.STARTED
    return sorted({(t.task_spec.name, c.task_spec.name, TaskState.get_name(c.state)) for t in workflow.get_tasks()
                   if t.state & live for c in t.children if not c.triggered})


def test_cases_in_the_rectification_loop_move_to_a_report_form_with_a_new_field_and_keep_their_data(world):
    rect1, rect2 = world.ids["rect1"], world.ids["rect2"]
    before = world.case(rect1)
    assert before["version"] == 1 and before["data"]["rectification_round"] == 4
    [old_item] = world.tasks(case_id=rect1)
    assert NEW_FIELD not in world.work_item(old_item["id"], OPERATOR)["form"]["properties"]
    timers_before = bpmn_timers(world, rect1)
    assert timers_before  # 整改期限届满 waits on the report

    world.clock.advance(days=1)
    plan = migration.migration_plan(world, KEY, 2, OPERATOR)
    moves = {m.case_id: m for m in plan}
    assert {rect1, rect2} <= set(moves) and all(moves[c].movable for c in (rect1, rect2))
    assert moves[rect1].waiting == ["报送整改情况", "整改期限届满"] and moves[rect1].reasons == []
    assert world.case(rect1)["version"] == 1  # the plan moved nothing

    done = migration.migrate(world, KEY, 2, OPERATOR)
    assert {m.case_id for m in done if m.moved} >= {rect1, rect2}
    after = world.case(rect1)
    assert after["version"] == 2 and after["status"] == "running"
    assert after["data"] == before["data"]  # the case facts, the findings, the rounds so far
    assert after["history"][:len(before["history"])] == before["history"]
    reports = [e for e in after["history"] if e["kind"] == "task_completed" and e["step_id"] == "report_rectification"]
    assert len(reports) == 3
    migrated = [e for e in after["history"] if e["kind"] == "case_migrated"]
    assert len(migrated) == 1 and migrated[0]["actor"] == "cli"
    assert migrated[0]["before"]["version"] == 1 and migrated[0]["after"]["version"] == 2
    assert migrated[0]["after"]["process_version_id"] == after["process_version_id"]
    # The same work item (same task): now with the new form; the deadline timer is the one set before.
    [item] = world.tasks(case_id=rect1)
    assert item["id"] == old_item["id"] and item["step_name"] == "报送整改情况"
    assert NEW_FIELD in world.work_item(item["id"], OPERATOR)["form"]["properties"]
    assert bpmn_timers(world, rect1) == timers_before
    with world.db.reading() as s:
        [entry] = [e for e in entries(s, action="case_migrated") if e.subject == f"case:{rect1}"]
        assert entry.detail == {"process_key": KEY, "from": 1, "to": 2} and entry.actor == "cli"

    # Completing it on the new version: from the cache for one case, from the stored state for the other.
    day = after["data"]["rectification_deadline"]
    world.live._entries.pop(rect2, None)
    for case_id in (rect1, rect2):
        complete_step(world, case_id, "report_rectification", reported_item_nos=[], rectification_report_date=day,
                      rectification_report="第四轮整改", **{NEW_FIELD: "0523-83212345"})
        assert ready_steps(world, case_id) == ["verify_rectification_audit"]
        assert world.case(case_id)["data"][NEW_FIELD] == "0523-83212345"


def test_the_case_page_shows_the_new_version_and_the_migration(world):
    from flask_babel import get_locale

    from web import create_app

    case_id = world.ids["rect1"]
    migration.migrate_case(world, case_id, 2, OPERATOR)
    app = create_app({"DATABASE_URL": world.url, "SECRET_KEY": "t", "TESTING": True, "WTF_CSRF_ENABLED": False})
    app.jinja_env.globals.setdefault("get_locale", get_locale)
    client = app.test_client()
    assert client.post("/login", data={"username": "supervisor", "password": "demo"}).status_code == 302
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "第 2 版" in page and "迁移至第 2 版（原第 1 版）" in page


def test_a_case_waiting_on_a_removed_step_is_refused_with_its_reason_and_left_as_it_was(world):
    refused, fresh, other = world.ids["demo_confirm"], world.ids["demo_fresh"], world.ids["demo_other"]
    untouched = snapshot(world, refused)
    plan = {m.case_id: m for m in migration.migration_plan(world, "migration_demo", 2, OPERATOR)}
    assert set(plan) == {refused, fresh, other}
    assert not plan[refused].movable and plan[refused].reasons == ["当前步骤“确认”在新版本中已删除"]
    assert "确认" in plan[refused].waiting
    assert plan[fresh].movable and plan[other].movable

    done = {m.case_id: m for m in migration.migrate(world, "migration_demo", 2, OPERATOR)}
    assert done[fresh].moved and done[other].moved and not done[refused].moved
    assert done[refused].reasons == ["当前步骤“确认”在新版本中已删除"]
    assert world.case(fresh)["version"] == 2 and world.case(other)["version"] == 2
    assert snapshot(world, refused) == untouched
    with pytest.raises(Conflict, match="当前步骤“确认”在新版本中已删除"):
        migration.migrate_case(world, refused, 2, OPERATOR)
    assert snapshot(world, refused) == untouched
    # The refused case still works on its own version.
    complete_step(world, refused, "confirm", note="确认无误")
    assert world.case(refused)["version"] == 1 and "确认" not in world.case(refused)["current_steps"]


def test_projections_and_timers_follow_the_migrated_state(world):
    case_id = world.ids["demo_fresh"]
    timers_before = bpmn_timers(world, case_id)
    assert len(timers_before) == 2  # 复核逾期 (7 days) and 冷静期 (3 days), computed at the start
    with world.db.reading() as s:
        review = s.scalar(select(WorkItem).where(WorkItem.case_id == case_id, WorkItem.step_id == "review"))
        assert review.assignee == "organization" and review.role == "organization"
        assert review.due_at == review.created_at + timedelta(days=10)
        review_id, created = review.id, review.created_at
    assert any(i["case_id"] == case_id for i in world.tasks(as_user(world, "organization")))

    world.clock.advance(hours=6)  # a timer restarted by the migration would fire 6 hours late
    move = migration.migrate_case(world, case_id, 2, OPERATOR)
    assert move.moved and move.from_version == 1 and move.to_version == 2

    workflow, version = stored_workflow(world, case_id)
    assert version.version == 2
    ready = workflow.get_tasks(state=TaskState.READY, manual=True)
    with world.db.reading() as s:
        items = s.scalars(select(WorkItem).where(WorkItem.case_id == case_id, WorkItem.status == "ready")).all()
        assert sorted((i.task_id, i.step_name, i.role) for i in items) == sorted(
            (str(t.id), version.catalogue["steps"][step_id(t)]["name"], version.catalogue["steps"][step_id(t)]["role"])
            for t in ready)
        review = s.get(WorkItem, review_id)
        # Renamed 复核 → 审核, moved to the audit bureau's lane: the organization clerk's claim no longer fits.
        assert (review.step_name, review.role, review.assignee) == ("审核", "audit", None)
        assert review.due_at == created + timedelta(days=15)
        deadlines = sorted(tuple(row) for row in s.execute(select(Timer.kind, Timer.fire_at).where(
            Timer.work_item_id == review_id)))
        assert deadlines == [("escalation", review.due_at), ("reminder", review.due_at - REMIND_BEFORE)]
        assert s.get(Case, case_id).current_steps == "审核、核对"
    assert bpmn_timers(world, case_id) == timers_before == sorted(waiting_timers(workflow))
    # What comes next is predicted as for a case started on v2 (after the escalation timer only possibly).
    new_case, _ = stored_workflow(world, world.start_case("migration_demo", dict(UNIT), as_user(world, "organization")))
    assert next_steps(workflow) == next_steps(new_case)
    assert ("review_overdue", "overdue_noted", "MAYBE") in next_steps(workflow)
    inbox = [i for i in world.tasks(as_user(world, "audit")) if i["case_id"] == case_id]
    assert sorted(i["step_name"] for i in inbox) == ["审核", "核对"]
    assert not [i for i in world.tasks(as_user(world, "organization")) if i["case_id"] == case_id]

    # The moved case runs on: both branches done, the 3-day timer fires, the join lets 办结 through.
    complete_step(world, case_id, "review", note="审核通过")
    complete_step(world, case_id, "check", note="核对无误")
    world.clock.advance(days=3, seconds=1)
    assert TimerRunner(world).run_due() >= 1
    assert ready_steps(world, case_id) == ["after_wait"]
    complete_step(world, case_id, "after_wait")
    assert ready_steps(world, case_id) == ["final"]


def test_cases_waiting_inside_a_call_activity_a_multi_instance_and_a_loop_move(world):
    call, multi, loop = world.ids["call"], world.ids["multi"], world.ids["loop"]
    call_timers = bpmn_timers(world, call)
    assert len(call_timers) == 2  # the child's 2-day wait and the call activity's 5-day boundary timer
    multi_items = sorted(i["id"] for i in world.tasks(case_id=multi))
    [loop_item] = world.tasks(case_id=loop)
    world.clock.advance(hours=6)

    for key, case_id in (("migration_call", call), ("migration_loop", multi), ("migration_loop", loop)):
        [move] = migration.migrate(world, key, 2, OPERATOR, [case_id])
        assert move.moved, move.reasons
        assert world.case(case_id)["version"] == 2
    assert bpmn_timers(world, call) == call_timers
    moved, _ = stored_workflow(world, call)
    started, _ = stored_workflow(world, world.start_case("migration_call", dict(UNIT), as_user(world, "organization")))
    assert next_steps(moved) == next_steps(started)
    assert ("call_child", "after_call", "FUTURE") in next_steps(moved)
    assert sorted(i["id"] for i in world.tasks(case_id=multi)) == multi_items
    assert [i["id"] for i in world.tasks(case_id=loop)] == [loop_item["id"]]

    # The call activity: its child's timer fires, then 汇总, then 归档 (a step only v2 has).
    world.clock.advance(days=2, seconds=1)
    assert TimerRunner(world).run_due() >= 1
    assert ready_steps(world, call) == ["after_call"]
    complete_step(world, call, "after_call", note="汇总")
    assert [i["step_name"] for i in world.tasks(case_id=call)] == ["归档"]
    # The multi-instance: the two open instances, then the loop, then 统计 under its new name.
    complete_step(world, multi, "each_member", note="乙")
    complete_step(world, multi, "each_member", note="丙")
    assert ready_steps(world, multi) == ["redo"]
    complete_step(world, multi, "redo", draft="定稿", approved=True)
    assert [i["step_name"] for i in world.tasks(case_id=multi)] == ["汇总统计"]
    # The standard loop in its second round: this round finishes it.
    complete_step(world, loop, "redo", draft="二稿", approved=True)
    assert [i["step_name"] for i in world.tasks(case_id=loop)] == ["汇总统计"]
    assert world.case(loop)["data"]["draft"] == "二稿"


def test_a_changed_kind_instance_definition_or_called_process_or_a_closed_case_is_refused(world):
    kind, members, done = world.ids["kind"], world.ids["members"], world.ids["done"]
    untouched = snapshot(world, members)
    [move] = migration.migrate(world, "migration_kind", 2, OPERATOR)
    assert move.case_id == kind and not move.moved
    assert move.reasons == ["当前步骤“登记”在新版本中类型已更改（UserTask → ManualTask）"]
    [move] = migration.migrate(world, "migration_members", 2, OPERATOR)
    assert not move.moved and move.reasons == ["正在进行的多实例/循环步骤“逐人签署”在新版本中的实例定义已更改"]
    assert snapshot(world, members) == untouched
    [move] = migration.migration_plan(world, "migration_kind", 2, OPERATOR, [done])
    assert not move.movable and move.reasons == ["项目已办结，不能迁移"]
    # Version 3 of the call activity calls another process: the case inside the old child stays where it is.
    untouched = snapshot(world, world.ids["call"])
    [move] = migration.migrate(world, "migration_call", 3, OPERATOR)
    assert not move.moved and move.from_version == 1 and move.to_version == 3
    assert move.reasons == ["正在执行的子流程“子流程办理”（migration_child）在新版本中已删除"]
    assert snapshot(world, world.ids["call"]) == untouched


def test_only_designers_migrate(world):
    clerk = as_user(world, "organization")
    for verb in (lambda: migration.migration_plan(world, "migration_demo", 2, clerk),
                 lambda: migration.migrate(world, "migration_demo", 2, clerk),
                 lambda: migration.migrate_case(world, world.ids["demo_fresh"], 2, clerk)):
        with pytest.raises(Forbidden, match="流程设计员"):
            verb()
    [move] = migration.migrate(world, "migration_demo", 2, as_user(world, "designer"), [world.ids["demo_other"]])
    assert move.moved
    with world.db.reading() as s:
        [entry] = entries(s, action="case_migrated")
        assert entry.actor == "designer"


def run_cli(world, *args):
    result = CliRunner().invoke(cli, ["migrate", *args], env={"DUBAN_DATABASE_URL": world.url})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result


def test_duban_migrate_dry_run_changes_nothing_then_moves_and_says_so(world):
    fresh, refused, other = world.ids["demo_fresh"], world.ids["demo_confirm"], world.ids["demo_other"]
    untouched = {c: snapshot(world, c) for c in (fresh, refused, other)}
    dry = run_cli(world, "migration_demo", "--to", "2", "--dry-run")
    assert dry.exit_code == 0, dry.output
    lines = dry.output.splitlines()
    assert f"项目 {refused} 迁移演示 （戴窑镇）：第 1 版 → 第 2 版 不能迁移：当前步骤“确认”在新版本中已删除" in lines
    assert any(line.startswith(f"项目 {fresh} ") and "可以迁移" in line and "复核" in line for line in lines)
    assert lines[-1] == "试运行，未做任何更改。共 3 个项目：可以迁移 2 个，不能迁移 1 个"
    assert {c: snapshot(world, c) for c in untouched} == untouched

    real = run_cli(world, "migration_demo", "--to", "2")
    assert real.exit_code == 1  # one case could not move
    lines = real.output.splitlines()
    assert f"项目 {fresh} 迁移演示 （戴窑镇）：第 1 版 → 第 2 版 已迁移" in lines
    assert f"项目 {other} 迁移演示 （戴窑镇）：第 1 版 → 第 2 版 已迁移" in lines
    assert lines[-1] == "共 3 个项目：已迁移 2 个，不能迁移 1 个"
    assert world.case(fresh)["version"] == 2 and world.case(refused)["version"] == 1

    one = run_cli(world, "migration_loop", "--to", "2", "--case", str(world.ids["loop"]))
    assert one.exit_code == 0 and one.output.splitlines()[-1] == "共 1 个项目：已迁移 1 个，不能迁移 0 个"
    assert world.case(world.ids["multi"])["version"] == 1  # only the case asked for

    unknown = run_cli(world, "no_such_process", "--to", "2")
    assert unknown.exit_code == 2 and "流程未部署：no_such_process" in unknown.output
    no_version = run_cli(world, "migration_demo", "--to", "9")
    assert no_version.exit_code == 2 and "流程 migration_demo 没有第 9 版（已部署：第 1 版、第 2 版）" in no_version.output
    clerk = run_cli(world, "migration_demo", "--to", "2", "--as", "organization")
    assert clerk.exit_code == 3 and "只有流程设计员" in clerk.output


def test_migration_on_postgres_locks_the_case_and_moves_it(pg_url):
    engine = make_engine(pg_url)
    engine.clock = Clock(T0)
    engine.deploy([str(FIXTURES / "v1")])
    org = as_user(engine, "organization")
    moving = engine.start_case("migration_demo", dict(UNIT), org)
    staying = engine.start_case("migration_demo", dict(UNIT), org)
    complete_step(engine, staying, "check")
    engine.deploy([str(FIXTURES / "v2")])
    lock = engine.case(moving)["lock_version"]
    done = {m.case_id: m for m in migration.migrate(engine, "migration_demo", 2, OPERATOR)}
    assert done[moving].moved and not done[staying].moved
    view = engine.case(moving)
    assert view["version"] == 2 and view["lock_version"] == lock + 1
    assert sorted(i["step_name"] for i in view["work_items"]) == ["审核", "核对"]
    assert engine.case(staying)["version"] == 1
    engine.live._entries.clear()
    complete_step(engine, moving, "review", note="审核通过")
    assert ready_steps(engine, moving) == ["check"]
