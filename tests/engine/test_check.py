"""`duban check`: projections rebuilt from the stored workflow state; drift reported case by case and repaired."""
from __future__ import annotations

from datetime import timedelta

from click.testing import CliRunner
from sqlalchemy import delete, func, select, update

from engine import audit, check
from engine.cli import main
from engine.models import Case, Timer, WorkItem
from tests.engine.test_timers import T0, _complete, _steps, world  # noqa: F401 - the fixture
from web.serving import startup_check


def _ready_item(engine, case_id):
    with engine.db.reading() as s:
        return s.scalars(select(WorkItem).where(WorkItem.case_id == case_id, WorkItem.status == "ready")).one()


def test_a_clean_database_has_no_drift(world):
    engine, clock, runner = world
    engine.start_case("duration", {})
    engine.start_case("deadline", {})
    report = check.run(engine)
    assert report.clean and report.checked == report.total == 2


def test_a_deleted_work_item_is_reported_and_repaired_and_the_case_goes_on(world):
    engine, clock, runner = world
    case_id = engine.start_case("deadline", {})
    other = engine.start_case("deadline", {})
    lost = _ready_item(engine, case_id)
    with engine.db.transaction() as s:
        s.execute(delete(Timer).where(Timer.work_item_id == lost.id))
        s.execute(delete(WorkItem).where(WorkItem.id == lost.id))
    report = check.run(engine)
    assert [d.case_id for d in report.drifts] == [case_id]  # the other case is fine
    assert any("缺少待办" in p and "报送整改结果" in p for p in report.drifts[0].problems)
    assert any("下一截止时间" in p for p in report.drifts[0].problems)

    fixed = check.run(engine, repair=True, actor="sysadmin")
    assert fixed.drifts[0].repaired
    assert check.run(engine).clean
    assert _steps(engine, case_id) == ["work"]
    item = _ready_item(engine, case_id)
    with engine.db.reading() as s:
        assert s.scalar(select(Case.next_due_at).where(Case.id == case_id)) == item.due_at
        assert {t.kind for t in s.scalars(select(Timer).where(Timer.work_item_id == item.id))} == {"reminder", "escalation"}
        (entry,) = audit.entries(s, action="projections_repaired")
    assert entry.actor == "sysadmin" and entry.subject == f"case:{case_id}"
    _complete(engine, case_id, "work")
    assert engine.case(case_id)["status"] == "completed"
    assert check.run(engine).clean and other


def test_a_stray_work_item_and_wrong_summary_are_repaired(world):
    engine, clock, runner = world
    case_id = engine.start_case("duration", {})
    real = _ready_item(engine, case_id)
    with engine.db.transaction() as s:
        s.add(WorkItem(case_id=case_id, task_id="00000000-0000-0000-0000-000000000001", step_id="second",
                       step_name="第二步", role="organization", unit=real.unit, status="ready",
                       process_key="duration", created_at=T0))
        s.execute(update(Case).where(Case.id == case_id).values(current_steps="第二步"))
    (drift,) = check.run(engine).drifts
    assert any("多余待办" in p and "第二步" in p for p in drift.problems)
    assert any("当前环节为“第二步”，应为“第一步”" in p for p in drift.problems)
    check.run(engine, repair=True)
    assert _steps(engine, case_id) == ["first"]
    assert engine.case(case_id)["current_steps"] == ["第一步"]


def test_a_lost_timer_row_is_rebuilt_and_then_fires(world):
    engine, clock, runner = world
    case_id = engine.start_case("duration", {})
    _complete(engine, case_id, "first")
    with engine.db.transaction() as s:
        s.execute(delete(Timer).where(Timer.case_id == case_id))
    (drift,) = check.run(engine).drifts
    assert any("定时器不符：数据库中 0 个，流程等待 1 个" in p for p in drift.problems)
    check.run(engine, repair=True)
    clock.advance(hours=2, seconds=1)
    runner.run_due()
    assert _steps(engine, case_id) == ["second"]


def test_a_finished_case_with_left_over_work_is_reported(world):
    engine, clock, runner = world
    case_id = engine.start_case("deadline", {})
    _complete(engine, case_id, "work")
    with engine.db.transaction() as s:
        s.add(Timer(case_id=case_id, kind="escalation", work_item_id=1, fire_at=T0 + timedelta(days=1)))
    (drift,) = check.run(engine).drifts
    assert drift.problems == ["项目已结束，仍有 1 个定时"]
    check.run(engine, repair=True)
    with engine.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Timer).where(Timer.case_id == case_id)) == 0


def test_the_command_exits_1_on_drift_and_repairs_as_an_administrator_only(world, monkeypatch):
    engine, clock, runner = world
    case_id = engine.start_case("deadline", {})
    with engine.db.transaction() as s:
        s.execute(update(Case).where(Case.id == case_id).values(current_steps="不存在的环节"))
    monkeypatch.setenv("DUBAN_DATABASE_URL", engine.db.engine.url.render_as_string(hide_password=False))
    runner_cli = CliRunner()
    found = runner_cli.invoke(main, ["check"])
    assert found.exit_code == 1 and f"项目 {case_id}" in found.output and "运行 duban check --repair" in found.output
    refused = runner_cli.invoke(main, ["check", "--repair", "--as", "organization"])
    assert refused.exit_code == 3 and "系统管理员" in refused.output
    fixed = runner_cli.invoke(main, ["check", "--repair", "--as", "sysadmin"])
    assert fixed.exit_code == 0 and "已修复 1 个" in fixed.output, fixed.output
    assert runner_cli.invoke(main, ["check"]).exit_code == 0


def test_the_start_up_check_reports_within_its_budget(world):
    engine, clock, runner = world
    case_id = engine.start_case("deadline", {})
    with engine.db.transaction() as s:
        s.execute(update(Case).where(Case.id == case_id).values(current_steps=""))
    lines: list[str] = []
    startup_check(engine, 5.0, lines.append)
    assert any(f"项目 {case_id}" in line for line in lines)
    assert "1 个项目不一致" in lines[-1]
    lines.clear()
    startup_check(engine, 0, lines.append)
    assert lines == []
