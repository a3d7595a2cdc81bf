"""Form checks a clerk meets: messages in one language each, rules across fields, choices from the ledger."""
from __future__ import annotations

import json
import re

import pytest

from engine.errors import InvalidData
from engine.forms import check_form, schema_problems, validate_form
from engine.models import Attachment
from tests.conftest import CASE_FACTS, PROCESSES, as_user, complete_step, ready_steps
from tests.processes.walk import walk

FORMS = PROCESSES / "forms"
HAN = re.compile(r"[\u4e00-\u9fff]")


def form(name: str) -> dict:
    return json.loads((FORMS / name).read_text(encoding="utf-8"))


NOTICE = {"notice_no": "兴组发〔2026〕12号", "notice_date": "2026-03-02", "audit_period_start": "2021-06-01",
          "audit_period_end": "2026-02-28", "planned_entry_date": "2026-03-16", "team_leader": "陈建华"}


def test_messages_are_chinese_only_in_chinese_and_english_only_in_english():
    errors = validate_form(form("xinghua_issue_notice.json"), {"notice_no": "", "notice_date": "3月2日",
                                                              "team_leader": 5, "bogus": 1})
    zh = [m for msgs in errors.zh.values() for m in msgs]
    en = [m for msgs in errors.en.values() for m in msgs]
    assert "必填项" in zh and "请输入有效日期（年-月-日）" in zh and "请输入文字" in zh
    assert all(not re.search(r"[A-Za-z]{3,}", m.replace("bogus", "")) for m in zh), zh  # the unknown field is named as sent
    assert "Required" in en and "Unknown field: bogus" in en and all(not HAN.search(m) for m in en), en
    assert errors.zh.keys() == errors.en.keys()


def test_a_bad_choice_asks_to_choose_from_the_list():
    errors = validate_form(form("joint_audit_case.json"), dict(CASE_FACTS, unit_level="village"))
    assert errors.zh == {"unit_level": ["请从列表中选择"]} and errors.en == {"unit_level": ["Choose one of the listed options"]}


def test_an_end_date_before_its_start_is_reported_at_the_end_date():
    errors = validate_form(form("xinghua_issue_notice.json"), dict(NOTICE, audit_period_end="2020-12-31"))
    assert errors.zh == {"audit_period_end": ["审查期间截止日不能早于起始日"]}
    assert errors.en == {"audit_period_end": ["The end of the audit period cannot be before its start"]}
    assert not validate_form(form("xinghua_issue_notice.json"), NOTICE)


def test_a_rule_is_not_judged_while_a_field_it_needs_is_missing_or_wrong():
    missing = dict(NOTICE)
    del missing["audit_period_start"]
    assert validate_form(form("xinghua_issue_notice.json"), missing).zh == {"audit_period_start": ["必填项"]}
    wrong = dict(NOTICE, audit_period_start="六月")
    assert validate_form(form("xinghua_issue_notice.json"), wrong).zh == {
        "audit_period_start": ["请输入有效日期（年-月-日）"]}


def test_votes_above_the_number_of_voters_are_refused_at_the_voter_count():
    appraisal = {"appraisal_date": "2026-04-10", "appraisal_participants": 86, "votes_good": 60,
                 "votes_fairly_good": 20, "votes_average": 8, "votes_poor": 1}
    assert validate_form(form("suzhou_democratic_appraisal.json"), appraisal).zh == {
        "appraisal_participants": ["各等次票数合计超过了参评人数，请核对"]}
    assert not validate_form(form("suzhou_democratic_appraisal.json"), dict(appraisal, votes_good=57))


def test_a_rule_may_compare_with_the_case_data():
    consolidate = {"consolidate_summary": "总体较好", "rectification_deadline": "2026-05-01", "serious": False}
    with pytest.raises(InvalidData) as err:
        check_form(form("xinghua_consolidate.json"), consolidate, context={"feedback_date": "2026-05-20"})
    assert err.value.details == {"rectification_deadline": ["整改期限不能早于意见反馈日期"]}
    assert err.value.details_in("en") == {"rectification_deadline": ["The rectification deadline cannot be before the feedback date"]}
    check_form(form("xinghua_consolidate.json"), consolidate, context={"feedback_date": "2026-04-20"})


def test_deploy_refuses_rules_that_cannot_work():
    bad = {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "array", "x-options": "nowhere"}},
           "x-rules": [{"check": "__import__('os')", "field": "a", "message": "x"},
                       {"check": "a > ''", "field": "missing", "message": "x"}, {"field": "a"}]}
    problems = schema_problems(bad)
    assert any("nowhere" in p for p in problems)
    assert any("x-rules[1]" in p and "双下划线" in p for p in problems)
    assert any("x-rules[2]" in p and "missing" in p for p in problems)
    assert any("x-rules[3]" in p for p in problems)


# --- choices from the rectification ledger ------------------------------------------------------------
def _at_report(engine, findings=2):
    case_id = engine.start_case("joint_audit_xinghua", dict(CASE_FACTS), as_user(engine, "organization"))
    walk(engine, case_id, "report_rectification", {"review_finance": {"finance_findings": [
        {"description": f"问题{n}", "severity": "general", "problem_category": "white_slips",
         "responsibility_type": "direct", "demerit_points": 0.5} for n in range(1, findings + 1)]}})
    assert ready_steps(engine, case_id) == ["report_rectification"]
    return case_id


def _item(engine, case_id, step):
    (item,) = [i for i in engine.tasks(case_id=case_id) if i["step_id"] == step]
    return item


def _evidence(engine, case_id) -> int:
    with engine.db.transaction() as s:
        att = Attachment(case_id=case_id, filename="佐证.pdf", content_type="application/pdf", size=1, sha256="0" * 64,
                         uploaded_by="audit", uploaded_at=engine.clock())
        s.add(att)
        s.flush()
        return att.id


def test_the_report_offers_the_open_ledger_items_and_refuses_a_number_that_does_not_exist(engine):
    case_id = _at_report(engine)
    item = _item(engine, case_id, "report_rectification")
    view = engine.work_item(item["id"], as_user(engine, "unit"))
    choices = view["form"]["properties"]["reported_item_nos"]["items"]["oneOf"]
    assert [c["const"] for c in choices] == [1, 2] and choices[0]["title"].startswith("1. 问题1（用财·一般）")
    report = {"rectification_report": "已整改", "rectification_report_date": "2026-06-01"}
    with pytest.raises(InvalidData) as err:
        engine.complete(item["id"], dict(report, reported_item_nos=[1, 99]), as_user(engine, "unit"))
    assert err.value.details == {"reported_item_nos[1]": ["请从列表中选择"]}
    engine.complete(item["id"], dict(report, reported_item_nos=[1]), as_user(engine, "unit"))
    verify = engine.work_item(_item(engine, case_id, "verify_rectification_audit")["id"], as_user(engine, "audit"))
    titles = [c["title"] for c in verify["form"]["properties"]["finance_closed_item_nos"]["items"]["oneOf"]]
    assert titles[0].endswith("（单位已报整改）") and not titles[1].endswith("（单位已报整改）")


def test_closing_an_item_the_unit_never_reported_needs_a_stated_reason(engine):
    case_id = _at_report(engine)
    complete_step(engine, case_id, "report_rectification", reported_item_nos=[1], rectification_report_date="2026-06-01")
    item = _item(engine, case_id, "verify_rectification_audit")
    auditor = as_user(engine, "audit")
    visit = {"finance_visit_date": "2026-06-10", "finance_visit_note": "现场核实",
             "finance_evidence_ids": [_evidence(engine, case_id)]}
    with pytest.raises(InvalidData) as err:
        engine.complete(item["id"], dict(visit, finance_closed_item_nos=[1, 2]), auditor)
    assert err.value.details == {"finance_unreported_close_reason": ["销号的问题中有单位未申报整改到位的，请说明理由"]}
    with pytest.raises(InvalidData) as err:
        engine.complete(item["id"], dict(visit, finance_closed_item_nos=[1], finance_visit_date="2026-05-01"), auditor)
    assert err.value.details == {"finance_visit_date": ["回访日期不能早于整改情况报送日期"]}
    engine.complete(item["id"], dict(visit, finance_closed_item_nos=[1, 2],
                                     finance_unreported_close_reason="现场查看第2项已整改到位，单位漏报"), auditor)
    assert ready_steps(engine, case_id) == ["issue_report"]


def test_the_start_form_checks_the_leaving_audit_and_its_dates():
    start = form("joint_audit_case.json")
    leaving = dict(CASE_FACTS, in_post_since="2021-06-01", leaving_date="2026-05-31")
    assert not validate_form(start, leaving)
    assert validate_form(start, dict(leaving, leaving_date="2020-01-31")).zh == {"leaving_date": ["离任时间不能早于任现职时间"]}
    no_reason = {k: v for k, v in leaving.items() if k != "leaving_reason"}
    assert validate_form(start, no_reason).zh == {"leaving_reason": ["离任审计须选择离任原因"]}
    assert not validate_form(start, dict(no_reason, audit_type="mid_term"))
    assert validate_form(start, dict(leaving, in_post_since="2999-01-01", leaving_date="2999-02-01")).zh == {
        "in_post_since": ["任现职时间不能晚于今天"]}
