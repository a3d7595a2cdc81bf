"""Every path of the Xinghua joint audit, through the engine with persistence: the implementation plan and the
countersigned notice, the parallel reviews, the unit's signed confirmation (or its dispute), rectification in
rounds verified by each department, and the report countersigned, approved and sent to the discipline body."""
from __future__ import annotations

from sqlalchemy import select

from engine.models import Attachment
from handlers.records import FollowUpVisit, RectificationItem
from tests.conftest import CASE_FACTS, as_user, complete_step, ready_steps
from tests.processes.walk import walk

KEY = "joint_audit_xinghua"
REVIEWS = ["review_establishment", "review_finance", "review_personnel"]
COUNTERSIGN_NOTICE = ["countersign_notice_audit", "countersign_notice_organization", "countersign_notice_staffing"]


def _finding(text, severity, category, **extra):
    return {"description": text, "severity": severity, "problem_category": category, "responsibility_type": "direct",
            **extra}


def _to_reviews(engine) -> int:
    case_id = engine.start_case(KEY, dict(CASE_FACTS), as_user(engine, "organization"))
    assert ready_steps(engine, case_id) == ["issue_notice"]  # 关联干部档案 ran at the start
    complete_step(engine, case_id, "issue_notice")
    assert ready_steps(engine, case_id) == COUNTERSIGN_NOTICE  # 会签 by the three departments, in parallel
    roles = {i["step_id"]: i["role"] for i in engine.tasks(case_id=case_id)}
    assert roles == {"countersign_notice_audit": "audit", "countersign_notice_organization": "organization",
                     "countersign_notice_staffing": "staffing"}
    for step in COUNTERSIGN_NOTICE[:2]:
        complete_step(engine, case_id, step)
        assert "pre_audit_publicity" not in ready_steps(engine, case_id)  # waits for all three
    complete_step(engine, case_id, COUNTERSIGN_NOTICE[2])
    for step in ("pre_audit_publicity", "implementation_plan", "entry_meeting"):  # the plan comes before entry
        assert ready_steps(engine, case_id) == [step]
        complete_step(engine, case_id, step)
    return case_id


def test_parallel_reviews_are_offered_to_three_departments(engine):
    case_id = _to_reviews(engine)
    assert ready_steps(engine, case_id) == REVIEWS
    roles = {i["step_id"]: i["role"] for i in engine.tasks(case_id=case_id)}
    assert roles == {"review_personnel": "organization", "review_establishment": "staffing", "review_finance": "audit"}
    assert [i["step_id"] for i in engine.tasks(as_user(engine, "staffing"), case_id)] == ["review_establishment"]
    assert [i["step_id"] for i in engine.tasks(as_user(engine, "audit"), case_id)] == ["review_finance"]
    complete_step(engine, case_id, "review_finance", finance_findings=[_finding("白条入账", "major", "white_slips",
                                                                                  demerit_points=1)])
    assert ready_steps(engine, case_id) == ["review_establishment", "review_personnel"]
    complete_step(engine, case_id, "review_personnel")
    assert ready_steps(engine, case_id) == ["review_establishment"]  # the join waits for all three
    complete_step(engine, case_id, "review_establishment")
    assert ready_steps(engine, case_id) == ["feedback"]


def test_no_findings_goes_straight_to_the_report_its_approval_and_the_discipline_body(engine):
    case_id = _to_reviews(engine)
    scores = {"review_personnel": 92, "review_establishment": 88, "review_finance": 85.5}
    for step in REVIEWS:
        duty = step.removeprefix("review_")
        complete_step(engine, case_id, step, **{f"{duty}_score": scores[step]})
    complete_step(engine, case_id, "feedback")
    assert ready_steps(engine, case_id) == ["confirm_feedback"]
    assert engine.tasks(case_id=case_id)[0]["role"] == "unit"
    complete_step(engine, case_id, "confirm_feedback", confirmed_by="李强、张伟")
    # 情况汇总's score and grade come from the evaluation_grade decision table, not from the clerk
    data = engine.case(case_id)["data"]
    assert (data["overall_score"], data["evaluation_grade"]) == (88.5, "较好")
    consolidate = next(i for i in engine.tasks(case_id=case_id) if i["step_id"] == "consolidate")
    assert "overall_score" not in consolidate["form"]["properties"]
    complete_step(engine, case_id, "consolidate")
    assert ready_steps(engine, case_id) == ["issue_report"]
    complete_step(engine, case_id, "issue_report", report_conclusion="履职良好")
    for step in ("countersign_report_audit", "countersign_report_organization", "countersign_report_staffing"):
        complete_step(engine, case_id, step)
    assert ready_steps(engine, case_id) == ["approve_report"]
    assert engine.tasks(case_id=case_id)[0]["role"] == "supervisor"  # 领导小组 审定
    complete_step(engine, case_id, "approve_report", report_approval="returned", approval_opinion="结论需写明整改情况")
    assert ready_steps(engine, case_id) == ["issue_report"]  # back for changes, countersigned again
    walk(engine, case_id, None, {"issue_report": {"report_conclusion": "履职良好"}})
    view = engine.case(case_id)
    assert view["status"] == "completed" and view["data"]["archived"] is True
    assert view["data"]["report_sent_to_discipline"] is True
    assert view["data"]["cadre_link"] is not None  # cadres.link_case ran right after the start


def test_a_disputed_finding_is_reviewed_by_its_department_and_withdrawn_or_kept(engine):
    case_id = _to_reviews(engine)
    complete_step(engine, case_id, "review_personnel", personnel_findings=[_finding("超职数配备", "major", "over_quota_posts")])
    complete_step(engine, case_id, "review_establishment", establishment_findings=[
        _finding("混编混岗", "general", "mixed_posts"), _finding("超编进人", "general", "over_establishment")])
    complete_step(engine, case_id, "review_finance")
    complete_step(engine, case_id, "feedback")
    complete_step(engine, case_id, "confirm_feedback", feedback_confirmation="disputed", disputed_item_nos=[2, 3],
                  dispute_reason="混编人员已于审查期间前调整；超编系上级调入")
    # only the staffing office reviews: both disputed findings are its own
    assert ready_steps(engine, case_id) == ["review_dispute_staffing"]
    form = engine.work_item(engine.tasks(case_id=case_id)[0]["id"], as_user(engine, "staffing"))["form"]
    assert [o["const"] for o in form["properties"]["establishment_withdrawn_item_nos"]["items"]["oneOf"]] == [2, 3]
    complete_step(engine, case_id, "review_dispute_staffing", establishment_withdrawn_item_nos=[2],
                  establishment_dispute_opinion="混编问题已整改在前，撤销；超编问题事实清楚，维持")
    assert ready_steps(engine, case_id) == ["confirm_feedback"]  # the unit signs the list as it now is
    data = engine.case(case_id)["data"]
    assert [(f["item_no"], f["description"]) for f in data["findings"]] == [(1, "超职数配备"), (2, "超编进人")]
    assert data["withdrawn_findings"][0]["description"] == "混编混岗"
    complete_step(engine, case_id, "confirm_feedback", confirmed_by="李强")
    complete_step(engine, case_id, "consolidate", rectification_deadline="2099-03-31")
    with engine.db.reading() as s:
        items = s.scalars(select(RectificationItem.description).where(RectificationItem.case_id == case_id)
                          .order_by(RectificationItem.item_no)).all()
    assert items == ["超职数配备", "超编进人"]


def test_rectification_rounds_close_items_by_department_and_keep_a_visit_ledger(engine):
    case_id = _to_reviews(engine)
    complete_step(engine, case_id, "review_personnel", personnel_findings=[_finding("超职数配备副科级干部", "major", "over_quota_posts")])
    complete_step(engine, case_id, "review_establishment", establishment_findings=[_finding("混编混岗", "general", "mixed_posts")])
    complete_step(engine, case_id, "review_finance", finance_findings=[
        _finding("账外账", "major", "slush_fund", demerit_points=2), _finding("公务接待超标准", "general", "excess_reception", demerit_points=0.5)])
    complete_step(engine, case_id, "feedback")
    assert engine.case(case_id)["data"]["finding_count"] == 4
    complete_step(engine, case_id, "confirm_feedback")
    complete_step(engine, case_id, "consolidate", rectification_deadline="2099-03-31")
    with engine.db.reading() as s:
        items = s.scalars(select(RectificationItem).where(RectificationItem.case_id == case_id)
                          .order_by(RectificationItem.item_no)).all()
        assert [(i.item_no, i.duty, i.severity, i.contact_name) for i in items] == [
            (1, "personnel", "major", "李强"), (2, "establishment", "general", "王芳"),
            (3, "finance", "major", "李强"), (4, "finance", "general", "王芳")]
    with engine.db.transaction() as s:
        s.add(Attachment(case_id=case_id, filename="佐证.pdf", content_type="application/pdf", size=1, sha256="0" * 64,
                         uploaded_by="audit", uploaded_at=engine.clock()))
    evidence = [1]
    day = "2099-01-10"
    rounds = [({"establishment": [2]}, ["verify_rectification_audit", "verify_rectification_organization",
                                         "verify_rectification_staffing"]),
              ({}, ["verify_rectification_audit", "verify_rectification_organization"]),
              ({"personnel": [1], "finance": [3, 4]}, ["verify_rectification_audit", "verify_rectification_organization"])]
    for round_no, (closing, verifiers) in enumerate(rounds, start=1):
        assert ready_steps(engine, case_id) == ["report_rectification"]
        assert engine.tasks(as_user(engine, "unit"), case_id)[0]["step_id"] == "report_rectification"
        reported = sorted(n for nos in closing.values() for n in nos)
        complete_step(engine, case_id, "report_rectification", reported_item_nos=reported, rectification_report_date=day)
        assert ready_steps(engine, case_id) == verifiers  # only departments with open items verify
        for step in verifiers:
            duty = {"verify_rectification_organization": "personnel", "verify_rectification_staffing": "establishment",
                    "verify_rectification_audit": "finance"}[step]
            nos = closing.get(duty, [])
            complete_step(engine, case_id, step, **{f"{duty}_visit_date": day, f"{duty}_visit_note": f"第{round_no}次回访",
                                                    f"{duty}_closed_item_nos": nos,
                                                    f"{duty}_evidence_ids": evidence if nos else []})
        assert engine.case(case_id)["data"]["rectification_round"] == round_no
        if round_no < 3:
            complete_step(engine, case_id, "set_next_round", next_round_deadline="2099-03-31")
    assert ready_steps(engine, case_id) == ["issue_report"]
    walk(engine, case_id, None)
    view = engine.case(case_id)
    assert view["status"] == "completed"
    with engine.db.reading() as s:
        visits = s.scalars(select(FollowUpVisit).where(FollowUpVisit.case_id == case_id)).all()
        assert len(visits) == 4 + 3 + 3  # every open item of a visiting department, each round
        assert sorted(v.visited_by_role for v in visits if v.result == "closed") == ["audit", "audit", "organization", "staffing"]
    kinds = [e["kind"] for e in view["history"]]
    assert kinds[0] == "case_started" and kinds[-1] == "case_completed"
