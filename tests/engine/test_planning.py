"""Annual planning: the roster as offices send it (bad rows reported by row and column, nothing half-imported),
the year's proposal by the seeds' rules, and the bulk start of the confirmed people's cases."""
from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.access import OPERATOR
from engine.models import Case
from handlers.cadres import CadreCase, Person, completed_years
from handlers.planning import plan, start
from handlers.planning.plan import RosterRejected
from handlers.planning.records import PlanEntry, RosterImport
from handlers.planning.roster import read_roster
from tests.conftest import REPO, as_user

ROSTERS = Path(__file__).resolve().parents[1] / "fixtures" / "rosters"
GOOD, BAD = ROSTERS / "roster_2026.csv", ROSTERS / "roster_2026_bad.csv"
NOW = datetime(2026, 12, 2, 9, 0)
YEAR_END = date(2026, 12, 31)

# The 8 mistakes in roster_2026_bad.csv: Excel row (header = row 1), column, a word of the reason.
BAD_ROWS = {
    (5, "单位"): "不能为空",
    (7, "离任原因"): "未知的离任原因「调任」",
    (14, "任现职时间"): "日期不存在",
    (22, "单位层级"): "未知的单位层级「村级」",
    (35, "身份证号"): "与第 32 行是同一人",
    (42, "离任日期"): "早于任现职时间",
    (47, "身份证号"): "校验位不正确",
    (52, "任现职时间"): "不能为空",
}


def people(session) -> int:
    return session.scalar(select(func.count()).select_from(Person))


def test_a_roster_of_60_rows_with_8_bad_ones_is_reported_row_by_row_and_nothing_is_imported(engine):
    roster = read_roster(BAD.read_bytes(), BAD.name, today=NOW.date())
    assert roster.total_rows == 60
    found = {(p.row, p.column): p.message for p in roster.problems}
    assert set(found) == set(BAD_ROWS), sorted(found)
    for where, words in BAD_ROWS.items():
        assert words in found[where], (where, found[where])
    assert roster.bad_rows == [5, 7, 14, 22, 35, 42, 47, 52]
    with pytest.raises(RosterRejected) as refused:
        with engine.db.transaction() as session:
            plan.import_roster(session, roster, 2026, "organization", NOW)
    assert "8 行有误" in refused.value.message and len(refused.value.problems) == 8
    with engine.db.reading() as session:
        assert people(session) == 0
        assert session.scalar(select(func.count()).select_from(RosterImport)) == 0


def test_skipping_bad_rows_imports_the_52_good_ones_and_records_what_was_left_out(engine):
    roster = read_roster(BAD.read_bytes(), BAD.name, today=NOW.date())
    with engine.db.transaction() as session:
        batch = plan.import_roster(session, roster, 2026, "organization", NOW, skip_bad_rows=True)
        assert batch.skipped_rows == [5, 7, 14, 22, 35, 42, 47, 52] and batch.row_count == 52
    with engine.db.reading() as session:
        assert people(session) == 52


def expected_subjects(path: Path, at: date) -> dict[str, str]:
    """ID number -> the seeds' rule, worked out from the roster's own cells (not by the decision table):
    leaving for any reason and not audited since (001, 002 逢离必审); ≥ 3 whole years in the same post in a
    county-level city/district or town/street; ≥ 5 in a municipal or county-level department (001);
    class A and the last economic audit ≥ 2 whole years ago or never (002). The tenure rules ask for one audit
    in the post: someone audited since taking it is not due again by tenure."""
    def years(since: str, until: date) -> int:  # whole years by the calendar, leap days included
        start = date.fromisoformat(since)
        n = until.year - start.year
        if (until.month, until.day) < (start.month, start.day):
            n -= 1
        return n

    out = {}
    for row in csv.DictReader(io.StringIO(path.read_text("utf-8-sig"))):
        leaving = row["离任日期"] and date.fromisoformat(row["离任日期"]) <= at
        audited_after = row["上次审计日期"] and leaving and row["上次审计日期"] >= row["离任日期"]
        if leaving:
            if not audited_after:
                out[row["身份证号"]] = "leaving"
            continue
        tenure = years(row["任现职时间"], at)
        audited_in_post = bool(row["上次审计日期"]) and row["上次审计日期"] >= row["任现职时间"]
        if row["单位层级"] in ("乡镇（街道）", "县级市（区）") and tenure >= 3 and not audited_in_post:
            out[row["身份证号"]] = "three_years"
        elif row["单位层级"] in ("市级机关部门", "县级机关部门") and tenure >= 5 and not audited_in_post:
            out[row["身份证号"]] = "five_years"
        elif row["单位类别"] == "A" and (not row["上次审计日期"] or years(row["上次审计日期"], at) >= 2):
            out[row["身份证号"]] = "class_a"
    return out


def test_the_dry_run_proposes_exactly_the_people_the_seeds_rules_require(engine):
    roster = read_roster(GOOD.read_bytes(), GOOD.name, today=NOW.date())
    assert roster.clean and len(roster.rows) == 60
    expected = expected_subjects(GOOD, YEAR_END)
    with engine.db.reading() as session:
        proposals = plan.propose(session, roster.rows, plan.reference_date(2026))
        assert people(session) == 0  # a dry run writes nothing
    proposed = {p.facts.id_number: p.rule for p in proposals if p.required}
    assert proposed == expected
    assert len(expected) == 27 and set(expected.values()) == {"leaving", "three_years", "five_years", "class_a"}
    by_unit = {p.facts.unit: p for p in proposals}
    # the edges the fixture sits on, at 2026-12-31
    assert by_unit["临城街道"].required and by_unit["临城街道"].years_in_post == 3  # since 2023-12-31
    assert not by_unit["昭阳街道"].required  # since 2024-01-01: 3 years minus a day
    assert by_unit["兴化市卫生健康委员会"].rule == "five_years"  # exactly 5 years
    assert not by_unit["兴化市交通运输局"].required  # 4 years in a municipal department
    assert by_unit["海陵区"].rule == "class_a" and not by_unit["高港区"].required  # 2 years vs 1 year 364 days
    assert not by_unit["千垛镇"].required and "完成离任审计" in by_unit["千垛镇"].reason
    assert by_unit["安丰镇"].rule == "leaving"  # left last year, never audited: still owed
    assert "因任期届满离任" in by_unit["戴窑镇"].reason


def test_completed_years_count_anniversaries_and_leap_days():
    assert completed_years(date(2023, 12, 2), date(2026, 12, 1)) == 2
    assert completed_years(date(2023, 12, 2), date(2026, 12, 2)) == 3
    assert completed_years(date(2024, 2, 29), date(2027, 2, 27)) == 2
    assert completed_years(date(2024, 2, 29), date(2027, 2, 28)) == 3  # a leap-day start: its anniversary is 28 Feb
    assert completed_years(date(2024, 2, 29), date(2028, 2, 29)) == 4


def test_a_reference_date_earlier_in_the_year_counts_fewer_years(engine):
    roster = read_roster(GOOD.read_bytes(), GOOD.name, today=NOW.date())
    with engine.db.reading() as session:
        june = {p.facts.unit: p for p in plan.propose(session, roster.rows, plan.reference_date(2026, date(2026, 6, 30)))}
    assert not june["临城街道"].required  # 2023-12-31 → 2026-06-30: 2 years
    # leaves on 2026-10-31: not yet gone at the end of June, but 7 years in a department since 2019-04-01
    assert june["兴化市民政局"].rule == "five_years" and june["兴化市民政局"].years_in_post == 7
    with pytest.raises(Exception, match="不在计划年度"):
        plan.reference_date(2026, date(2025, 12, 31))


def import_and_plan(engine, path: Path = GOOD):
    roster = read_roster(path.read_bytes(), path.name, today=NOW.date())
    with engine.db.transaction() as session:
        batch = plan.import_roster(session, roster, 2026, "organization", NOW)
        return [e.id for e in plan.plan_from_import(session, batch, roster.rows, YEAR_END, NOW)]


def test_confirmed_people_start_cases_filled_from_their_records_and_removed_ones_do_not(engine):
    ids = import_and_plan(engine)
    with engine.db.transaction() as session:
        rows = {p.unit: e for e, p in plan.year_plan(session, 2026)}
        with pytest.raises(Exception, match="须说明理由"):
            plan.remove(session, rows["兴化市农业农村局"].id, "  ", "supervisor", NOW)
        plan.remove(session, rows["兴化市农业农村局"].id, "已列入省审计厅计划", "supervisor", NOW)
        assert plan.confirm_all(session, 2026, "supervisor", NOW) == len(ids) - 1
    organization = as_user(engine, "organization")
    outcomes = list(start.start_confirmed(engine, 2026, "joint_audit_suzhou", organization))
    assert len(outcomes) == len(ids) - 1 and all(o.case_id for o in outcomes)
    with engine.db.reading() as session:
        entries = {p.unit: (e, p) for e, p in plan.year_plan(session, 2026)}
        assert entries["兴化市农业农村局"][0].status == "removed" and entries["兴化市农业农村局"][0].case_id is None
        leaving, person = entries["戴窑镇"]
        links = session.scalars(select(CadreCase.case_id).where(CadreCase.person_id == person.id)).all()
        assert links == [leaving.case_id]
    data = engine.case(leaving.case_id)["data"]
    assert engine.case(leaving.case_id)["process_key"] == "joint_audit_suzhou"
    assert data["cadre_name"] == person.name and data["cadre_id_number"] == person.id_number
    assert data["audit_type"] == "leaving" and data["leaving_reason"] == "term_ended"
    assert data["leaving_date"] == "2026-03-10" and data["unit_level"] == "town" and data["years_in_post"] == 4
    mid_term = engine.case(entries["临城街道"][0].case_id)["data"]
    assert mid_term["audit_type"] == "mid_term" and "leaving_reason" not in mid_term and mid_term["years_in_post"] == 3
    # a second run opens nothing twice
    assert list(start.start_confirmed(engine, 2026, "joint_audit_suzhou", organization)) == []


def test_a_leaving_cadre_without_a_named_successor_is_not_started_until_one_is_given(engine):
    text = GOOD.read_text("utf-8-sig").splitlines()
    header, first = text[0], text[1].split(",")
    first[10] = ""  # 单位主要负责人 (the successor) left blank for the 戴窑镇 secretary who left
    roster_bytes = "\n".join([header, ",".join(first)]).encode("utf-8")
    roster = read_roster(roster_bytes, "one.csv", today=NOW.date())
    with engine.db.transaction() as session:
        batch = plan.import_roster(session, roster, 2026, "organization", NOW)
        (entry,) = plan.plan_from_import(session, batch, roster.rows, YEAR_END, NOW)
        plan.confirm_all(session, 2026, "organization", NOW)
        entry_id = entry.id
    (outcome,) = start.start_confirmed(engine, 2026, "joint_audit_xinghua", OPERATOR)
    assert outcome.case_id is None and "单位主要负责人" in outcome.problem
    with engine.db.transaction() as session:
        assert session.get(PlanEntry, entry_id).status == "confirmed"
        plan.confirm(session, entry_id, "organization", NOW, unit_principal="钱立群")
    (outcome,) = start.start_confirmed(engine, 2026, "joint_audit_xinghua", OPERATOR)
    assert outcome.case_id and engine.case(outcome.case_id)["data"]["unit_principal"] == "钱立群"


def test_a_start_interrupted_after_its_case_opened_is_settled_not_opened_twice(engine):
    import_and_plan(engine)
    with engine.db.transaction() as session:
        plan.confirm_all(session, 2026, "organization", NOW)
    (first,) = list(start.start_confirmed(engine, 2026, "joint_audit_xinghua", OPERATOR, limit=1))
    with engine.db.transaction() as session:  # as if the process died between the case and the entry's mark
        entry = session.get(PlanEntry, first.entry_id)
        entry.status, entry.case_id, entry.started_at = "starting", None, datetime(2000, 1, 1)
    list(start.start_confirmed(engine, 2026, "joint_audit_xinghua", OPERATOR, limit=1))
    with engine.db.reading() as session:
        entry = session.get(PlanEntry, first.entry_id)
        assert entry.status == "started" and entry.case_id == first.case_id
        assert session.scalar(select(func.count()).select_from(Case)) == 2


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_in_the_encodings_offices_save(engine, encoding):
    content = GOOD.read_text("utf-8-sig").encode(encoding)
    roster = read_roster(content, "roster.csv", today=NOW.date())
    assert roster.clean and len(roster.rows) == 60 and roster.rows[0].unit == "戴窑镇"


def test_an_xlsx_roster_with_date_cells_a_title_row_and_the_ways_offices_write(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["兴化市2026年党政正职花名册"])  # a title row above the header: rows keep Excel's numbers
    sheet.append(["姓名", "身份证号码", "现任职务", "所在单位", "单位级别", "单位类别", "任职时间", "离任时间", "离任原因",
                  "上次审计时间", "单位主要负责人", "分管负责人"])
    sheet.append(["周建国", "321281197203150014", "镇党委书记", "戴窑镇", "镇", "b", datetime(2021, 6, 1), None, None,
                  None, "周建国", "刘洋"])
    sheet.append(["吴立新", "321281197203150057", "局长", "兴化市财政局", "市级机关部门", "A类", "2020.3.15",
                  "2026年5月20日", "提拔离任", "20240630", "张明", "李华"])
    sheet.append(["郑晓东", 321281197203150022, "局长", "兴化市水务局", "市级机关部门", "C", "2019.06", None, None, None,
                  "郑晓东", "王芳"])
    path = tmp_path / "roster.xlsx"
    book.save(path)
    roster = read_roster(path.read_bytes(), path.name, today=NOW.date())
    first, second = roster.rows
    assert (first.row, first.unit_level, first.unit_class, first.in_post_since) == (3, "town", "B", date(2021, 6, 1))
    assert (second.in_post_since, second.leaving_date, second.leaving_reason) == (
        date(2020, 3, 15), date(2026, 5, 20), "promoted")
    assert second.last_audit_date == date(2024, 6, 30) and second.unit_class == "A"
    problems = {(p.row, p.column): p.message for p in roster.problems}
    assert "存成了数字" in problems[(5, "身份证号")] and "只有年月" in problems[(5, "任现职时间")]


def test_files_that_are_not_rosters_are_refused_with_a_reason():
    assert "旧版 Excel" in read_roster(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "a.xls").file_problems[0].message
    assert "缺少必需的列" in read_roster("姓名,身份证号\n张三,1\n".encode(), "a.csv").file_problems[0].message
    assert "找不到表头" in read_roster("a,b\n1,2\n".encode(), "a.csv").file_problems[0].message
    assert "文件为空" in read_roster(b"", "a.csv").file_problems[0].message
    assert "无法读取 Excel" in read_roster(b"PK\x03\x04broken", "a.xlsx").file_problems[0].message


def test_the_plan_command_reports_bad_rows_dry_runs_and_starts_with_case_ids(tmp_path):
    env = {**os.environ, "DUBAN_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}

    def duban(*args: str) -> subprocess.CompletedProcess:
        proc = subprocess.run([sys.executable, "-m", "engine.cli", *args], cwd=REPO, env=env, capture_output=True,
                              text=True, timeout=300)
        assert "Traceback" not in proc.stderr, proc.stderr
        return proc

    assert duban("init", "--demo").returncode == 0 and duban("deploy", "processes/").returncode == 0
    bad = duban("plan", "--year", "2026", str(BAD), "--dry-run")
    assert bad.returncode == 2 and "未导入任何数据" in bad.stderr
    assert len(bad.stdout.splitlines()) == 8 and "第 42 行「离任日期」" in bad.stdout

    dry = duban("plan", "--year", "2026", str(GOOD), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    lines = dry.stdout.splitlines()
    assert {line.split("\t")[1] for line in lines} == set(expected_subjects(GOOD, YEAR_END))
    assert all(line.split("\t")[4] for line in lines) and "必审 27 人" in dry.stderr

    ambiguous = duban("plan", "--year", "2026", str(GOOD), "--as", "organization")
    assert ambiguous.returncode == 2 and "--process" in ambiguous.stderr
    run = duban("plan", "--year", "2026", str(GOOD), "--as", "organization", "--process", "joint_audit_xinghua")
    assert run.returncode == 0, run.stderr
    started = [line.split("\t") for line in run.stdout.splitlines()]
    assert len(started) == 27 and "已立项 27 个项目" in run.stderr
    view = json.loads(duban("case", started[0][0], "--json").stdout)
    assert view["data"]["cadre_name"] == started[0][1] and view["process_key"] == "joint_audit_xinghua"
    again = duban("plan", "--year", "2026", str(GOOD), "--as", "organization", "--process", "joint_audit_xinghua")
    assert again.returncode == 0 and "已立项 0 个项目" in again.stderr  # the same roster again opens nothing twice


def test_the_start_form_takes_the_rosters_id_number_unit_levels_and_classes():
    from engine.forms import form_errors
    from handlers.cadres import LEAVING_REASONS, UNIT_LEVELS
    from tests.conftest import CASE_FACTS, PROCESSES

    form = json.loads((PROCESSES / "forms" / "joint_audit_case.json").read_text("utf-8"))
    props = form["properties"]
    assert [(o["const"], o["title"]) for o in props["unit_level"]["oneOf"]] == [(k, v[0]) for k, v in UNIT_LEVELS.items()]
    assert [(o["const"], o["title"]) for o in props["leaving_reason"]["oneOf"]] == [
        (k, v[0]) for k, v in LEAVING_REASONS.items()]
    assert form_errors(form, CASE_FACTS) == {}  # the number stays optional
    assert form_errors(form, dict(CASE_FACTS, cadre_id_number="32128119720315005X", unit_class="A")) == {}
    assert "cadre_id_number" in form_errors(form, dict(CASE_FACTS, cadre_id_number="3212811972031500"))
    assert "unit_class" in form_errors(form, dict(CASE_FACTS, unit_class="D"))
