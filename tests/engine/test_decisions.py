"""The seeds' rules as DMN decision tables: every threshold edge, run as deployed (engine.decisions.decide)."""
from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine import cli
from engine.decisions import check_decision_file, decide
from engine.errors import InvalidData, NotFound
from engine.validation import validate_paths
from handlers.cadres import LEAVING_REASONS, completed_years

from ..conftest import PROCESSES

DECISIONS = PROCESSES / "decisions"
AT = date(2026, 12, 2)


def required(engine, *, leaving="", level="town", since=None, years=None, unit_class="C", last_audit=None,
             audited_in_post=False):
    facts = {
        "leaving_reason": leaving,
        "unit_level": level,
        "years_in_post": years if years is not None else completed_years(since, AT),
        "audited_in_post": audited_in_post,
        "unit_class": unit_class,
        "years_since_last_audit": completed_years(last_audit, AT) if last_audit else 99,
    }
    with engine.db.reading() as session:
        return decide(session, "audit_required", facts)


# --- audit_required (seeds 001, 002) --------------------------------------------------------
@pytest.mark.parametrize("code", list(LEAVING_REASONS))
def test_every_leaving_reason_must_be_audited(engine, code):
    result = required(engine, leaving=code, level="institution", years=0)
    assert result["required"] is True and result["rule"] == "leaving"
    assert LEAVING_REASONS[code][0] in result["reason"]


def test_three_years_minus_one_day_is_not_yet_three_years(engine):
    assert completed_years(date(2023, 12, 3), AT) == 2
    result = required(engine, level="town", since=date(2023, 12, 3))
    assert result == {"required": False, "rule": "none", "reason": "不属于必审情形"}


@pytest.mark.parametrize("level", ["town", "county"])
def test_exactly_three_years_in_a_town_or_county_must(engine, level):
    result = required(engine, level=level, since=date(2023, 12, 2))
    assert result["required"] is True and result["rule"] == "three_years"
    assert "满3年" in result["reason"]


def test_three_years_in_a_department_is_not_enough(engine):
    assert required(engine, level="municipal_dept", since=date(2022, 12, 2))["required"] is False


@pytest.mark.parametrize("level", ["municipal_dept", "county_dept"])
def test_five_years_in_a_department_must(engine, level):
    assert required(engine, level=level, since=date(2021, 12, 3))["required"] is False  # a day short
    result = required(engine, level=level, since=date(2021, 12, 2))
    assert result["required"] is True and result["rule"] == "five_years"


def test_a_cadre_audited_in_this_post_is_not_due_again_by_tenure(engine):
    assert required(engine, level="town", years=6, audited_in_post=True)["required"] is False
    assert required(engine, level="county_dept", years=9, audited_in_post=True)["required"] is False
    # leaving and class A's two-year cycle still apply
    assert required(engine, leaving="promoted", level="town", years=6, audited_in_post=True)["rule"] == "leaving"
    assert required(engine, level="town", years=6, audited_in_post=True, unit_class="A",
                    last_audit=date(2024, 6, 1))["rule"] == "class_a"


def test_five_years_in_a_town_fires_the_three_year_rule_first(engine):
    assert required(engine, level="town", since=date(2021, 12, 2))["rule"] == "three_years"


def test_class_a_audited_one_year_364_days_ago_is_not_due(engine):
    last = date(2024, 12, 3)  # 1 year 364 days before 2026-12-02
    assert (AT - last).days == 365 + 364
    assert required(engine, level="municipal_dept", years=1, unit_class="A", last_audit=last)["required"] is False
    due = required(engine, level="municipal_dept", years=1, unit_class="A", last_audit=date(2024, 12, 2))
    assert due["required"] is True and due["rule"] == "class_a"


def test_class_a_never_audited_is_due_and_class_b_never_is_not(engine):
    assert required(engine, level="municipal_dept", years=1, unit_class="A")["rule"] == "class_a"
    assert required(engine, level="municipal_dept", years=1, unit_class="B")["required"] is False


def test_leaving_fires_before_the_length_of_service(engine):
    assert required(engine, leaving="retired", level="town", years=8)["rule"] == "leaving"


def test_leap_day_start_completes_its_year_on_28_february():
    assert completed_years(date(2024, 2, 29), date(2027, 2, 27)) == 2
    assert completed_years(date(2024, 2, 29), date(2027, 2, 28)) == 3


# --- demerit_consequence (seed 002) ---------------------------------------------------------
def consequence(engine, this, last=0, before=0):
    with engine.db.reading() as session:
        return decide(session, "demerit_consequence",
                      {"points_this_year": this, "points_last_year": last, "points_year_before": before})


@pytest.mark.parametrize("points, expected", [
    (0, "none"), (3.5, "none"), (4, "no_awards"), (5.5, "no_awards"), (6, "bonus_withheld"),
    (9.5, "bonus_withheld"), (10, "demotion"),
])
def test_yearly_total_thresholds(engine, points, expected):
    assert consequence(engine, points)["consequence"] == expected


def test_exactly_four_points_withdraws_awards(engine):
    result = consequence(engine, 4)
    assert result["consequence_name"] == "取消该年度评比各类先进资格" and result["reason"] == "年度累计扣分4分以上"


def test_twelve_over_two_consecutive_years_but_not_three(engine):
    result = consequence(engine, 6, 6, 0)
    assert result["consequence"] == "demotion" and result["reason"] == "连续两年累计扣分12分以上"
    assert consequence(engine, 5.5, 6, 0)["consequence"] == "no_awards"  # 11.5 over two, 11.5 over three


def test_fourteen_over_three_consecutive_years(engine):
    result = consequence(engine, 5, 4, 5)  # 9 over the last two: only the three-year rule fires
    assert result["consequence"] == "demotion" and result["reason"] == "连续三年累计扣分14分以上"
    assert consequence(engine, 5, 4, 4.5)["consequence"] == "no_awards"  # 13.5 over three


# --- evaluation_grade -----------------------------------------------------------------------
@pytest.mark.parametrize("scores, score, grade", [
    ((90, 90, 90), 90.0, "好"), ((95, 88, 86), 89.7, "较好"), ((80, 80, 80), 80.0, "较好"),
    ((70, 60, 50), 60.0, "一般"), ((59, 60, 60), 59.7, "差"),
])
def test_grade_follows_the_weighted_score(engine, scores, score, grade):
    with engine.db.reading() as session:
        result = decide(session, "evaluation_grade", dict(zip(
            ("personnel_score", "establishment_score", "finance_score"), scores)))
    assert result == {"overall_score": score, "evaluation_grade": grade}


# --- bad input, deployment, the shell -------------------------------------------------------
def test_missing_and_mistyped_inputs_are_named(engine):
    with engine.db.reading() as session:
        with pytest.raises(InvalidData) as missing:
            decide(session, "demerit_consequence", {"points_this_year": 3})
        assert "points_last_year" in missing.value.details
        with pytest.raises(InvalidData) as typed:
            decide(session, "audit_required", {"leaving_reason": "", "unit_level": "town", "years_in_post": "3",
                                               "audited_in_post": False, "unit_class": "B",
                                               "years_since_last_audit": 99})
        assert "years_in_post" in typed.value.details and "integer" in typed.value.message
        with pytest.raises(NotFound):
            decide(session, "no_such_table", {})


def test_a_changed_table_is_a_new_version_and_decide_uses_the_newest(engine, tmp_path):
    changed = tmp_path / "decisions"
    changed.mkdir()
    text = (DECISIONS / "demerit_consequence.dmn").read_text(encoding="utf-8").replace('&gt;= 4<', '&gt;= 3<')
    (changed / "demerit_consequence.dmn").write_text(text, encoding="utf-8")
    (result,) = engine.deploy([str(changed)])
    assert (result.kind, result.process_key, result.version, result.new) == ("decision", "demerit_consequence", 2, True)
    assert consequence(engine, 3)["consequence"] == "no_awards"
    again = engine.deploy([str(changed)])
    assert again[0].new is False


def bad_copy(tmp_path, name, old, new) -> Path:
    text = (DECISIONS / name).read_text(encoding="utf-8")
    assert old in text
    target = tmp_path / name
    target.write_text(text.replace(old, new, 1), encoding="utf-8")
    return target


def test_a_cell_that_would_reach_python_is_refused_with_file_line_and_rule(tmp_path):
    target = bad_copy(tmp_path, "demerit_consequence.dmn", "<text>&gt;= 10</text>",
                      "<text>&gt;= __import__('os').system('true')</text>")
    problems, checked = check_decision_file(target, "decisions/demerit_consequence.dmn")
    assert checked is None and problems
    line = next(n for n, text in enumerate(target.read_text(encoding="utf-8").splitlines(), 1) if "__import__" in text)
    for problem in problems:
        assert str(problem).startswith(f"decisions/demerit_consequence.dmn:{line}: rule_demerit_consequence_1:")
        assert "第 1 条规则的条件表达式被拒绝" in problem.message


def test_unknown_hit_policy_and_missing_output_name(tmp_path):
    target = bad_copy(tmp_path, "evaluation_grade.dmn", 'hitPolicy="FIRST"', 'hitPolicy="PRIORITY"')
    problems = validate_paths([str(target)])
    assert [p.code for p in problems] == ["dmn.hit_policy"]
    assert problems[0].element_id == "table_evaluation_grade"


FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "decisions"


def test_a_process_calling_a_table_not_deployed_with_it_is_refused():
    problems = validate_paths([str(FIXTURE / "grade_then_sign.bpmn")])
    assert [p.code for p in problems] == ["dmn.missing"]
    assert problems[0].element_id == "grade" and "evaluation_grade" in problems[0].message
    assert str(problems[0]).startswith(f"{FIXTURE / 'grade_then_sign.bpmn'}:")


def test_a_business_rule_task_grades_the_case_and_keeps_its_rules(engine, tmp_path):
    from ..conftest import complete_step, ready_steps

    engine.deploy([str(FIXTURE), str(DECISIONS)])
    first = engine.start_case("grade_then_sign", {})
    complete_step(engine, first, "score", personnel_score=95, establishment_score=88, finance_score=86)
    assert ready_steps(engine, first) == ["sign"]
    data = engine.case(first)["data"]
    assert (data["overall_score"], data["evaluation_grade"]) == (89.7, "较好")

    # A new table (较好 from 85) deploys a new process version too; the running case keeps its rules.
    changed = tmp_path / "changed"
    shutil.copytree(FIXTURE, changed)
    shutil.copytree(DECISIONS, changed / "decisions")
    grade = changed / "decisions" / "evaluation_grade.dmn"
    grade.write_text(grade.read_text(encoding="utf-8").replace("&gt;= 90", "&gt;= 89.5"), encoding="utf-8")
    versions = {d.process_key: (d.version, d.new) for d in engine.deploy([str(changed)])}
    assert versions["evaluation_grade"] == (2, True) and versions["grade_then_sign"] == (2, True)
    second = engine.start_case("grade_then_sign", {})
    complete_step(engine, second, "score", personnel_score=95, establishment_score=88, finance_score=86)
    assert engine.case(second)["data"]["evaluation_grade"] == "好"
    assert engine.case(first)["data"]["evaluation_grade"] == "较好"


def test_duban_decide_prints_json_and_exits_1_on_bad_input(engine, monkeypatch):
    monkeypatch.setattr(cli, "_engine", lambda: engine)
    runner = CliRunner()
    ok = runner.invoke(cli.main, ["decide", "demerit_consequence", "--data",
                                  '{"points_this_year": 10, "points_last_year": 0, "points_year_before": 0}'])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output)["consequence"] == "demotion"
    bad = runner.invoke(cli.main, ["decide", "demerit_consequence", "--data", '{"points_this_year": 1}'])
    assert bad.exit_code == 1 and "points_last_year" in bad.output
    not_json = runner.invoke(cli.main, ["decide", "audit_required", "--data", "{nope"])
    assert not_json.exit_code == 1 and "JSON" in not_json.output


def test_decision_tables_deploy_version_and_run_on_postgres(pg_url):
    from ..conftest import make_engine

    engine = make_engine(pg_url)
    assert consequence(engine, 5, 4, 5)["reason"] == "连续三年累计扣分14分以上"
    assert required(engine, leaving="rotated", level="town", years=1)["rule"] == "leaving"
    assert all(not d.new for d in engine.deploy([str(DECISIONS)]))
