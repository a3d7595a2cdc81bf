"""Every path of the Xinghua 8-step joint audit, through the engine with persistence."""
from __future__ import annotations

from sqlalchemy import select

from handlers.records import FollowUpVisit, IntegrityRecord, RectificationItem
from tests.conftest import CASE_FACTS, as_user, complete_step, ready_steps

KEY = "joint_audit_xinghua"
REVIEWS = ["review_establishment", "review_finance", "review_personnel"]


def _to_reviews(engine) -> int:
    case_id = engine.start_case(KEY, dict(CASE_FACTS), as_user(engine, "organization"))
    for step in ("issue_notice", "pre_audit_publicity", "entry_meeting"):
        assert ready_steps(engine, case_id) == [step]
        complete_step(engine, case_id, step)
    return case_id


def _finding(text, severity):
    return {"description": text, "severity": severity}


def test_parallel_reviews_are_offered_to_three_departments(engine):
    case_id = _to_reviews(engine)
    assert ready_steps(engine, case_id) == REVIEWS
    roles = {i["step_id"]: i["role"] for i in engine.tasks(case_id=case_id)}
    assert roles == {"review_personnel": "organization", "review_establishment": "staffing", "review_finance": "audit"}
    # The staffing clerk sees only the establishment review; the audit clerk only the finance one.
    assert [i["step_id"] for i in engine.tasks(as_user(engine, "staffing"), case_id)] == ["review_establishment"]
    assert [i["step_id"] for i in engine.tasks(as_user(engine, "audit"), case_id)] == ["review_finance"]
    complete_step(engine, case_id, "review_finance", finance_findings=[_finding("白条入账", "major")])
    assert ready_steps(engine, case_id) == ["review_establishment", "review_personnel"]
    complete_step(engine, case_id, "review_personnel")
    assert ready_steps(engine, case_id) == ["review_establishment"]  # the join waits for all three
    complete_step(engine, case_id, "review_establishment")
    assert ready_steps(engine, case_id) == ["feedback"]


def test_no_findings_goes_straight_to_the_report(engine):
    case_id = _to_reviews(engine)
    for step in REVIEWS:
        complete_step(engine, case_id, step)
    complete_step(engine, case_id, "feedback")
    complete_step(engine, case_id, "consolidate")
    assert ready_steps(engine, case_id) == ["issue_report"]
    assert engine.case(case_id)["status"] == "running"
    complete_step(engine, case_id, "issue_report", report_conclusion="履职良好")
    view = engine.case(case_id)
    assert view["status"] == "completed" and view["data"]["archived"] is True
    with engine.db.reading() as s:
        record = s.scalar(select(IntegrityRecord).where(IntegrityRecord.case_id == case_id))
        assert (record.cadre_name, record.finding_count, record.conclusion) == ("张伟", 0, "履职良好")


def test_three_round_rectification_closes_items_and_keeps_a_visit_ledger(engine):
    case_id = _to_reviews(engine)
    complete_step(engine, case_id, "review_personnel", personnel_findings=[_finding("超职数配备副科级干部", "major")])
    complete_step(engine, case_id, "review_establishment", establishment_findings=[_finding("混编混岗", "general")])
    complete_step(engine, case_id, "review_finance", finance_findings=[
        _finding("账外账", "major"), _finding("公务接待超标准", "general")])
    complete_step(engine, case_id, "feedback")
    assert engine.case(case_id)["data"]["finding_count"] == 4
    complete_step(engine, case_id, "consolidate", rectification_deadline="2027-03-31", serious=True)
    with engine.db.reading() as s:
        items = s.scalars(select(RectificationItem).where(RectificationItem.case_id == case_id)
                          .order_by(RectificationItem.item_no)).all()
        assert [(i.item_no, i.duty, i.severity, i.contact_name) for i in items] == [
            (1, "personnel", "major", "李强"), (2, "establishment", "general", "王芳"),
            (3, "finance", "major", "李强"), (4, "finance", "general", "王芳")]
        assert all(i.listed_supervision and str(i.deadline) == "2027-03-31" for i in items)

    closing = [[2], [], [1, 3, 4]]
    for round_no, closed in enumerate(closing, start=1):
        assert ready_steps(engine, case_id) == ["report_rectification"]
        assert engine.tasks(as_user(engine, "unit"), case_id)[0]["step_id"] == "report_rectification"
        complete_step(engine, case_id, "report_rectification", reported_item_nos=closed)  # the unit reports what it fixed
        complete_step(engine, case_id, "follow_up_visit", closed_item_nos=closed, visit_note=f"第{round_no}次回访")
        data = engine.case(case_id)["data"]
        assert data["rectification_round"] == round_no
    assert ready_steps(engine, case_id) == ["issue_report"]
    assert engine.case(case_id)["status"] == "running"
    complete_step(engine, case_id, "issue_report")
    view = engine.case(case_id)
    assert view["status"] == "completed"
    with engine.db.reading() as s:
        visits = s.scalars(select(FollowUpVisit).where(FollowUpVisit.case_id == case_id)).all()
        # round 1: 4 open items visited, round 2: 3, round 3: 3
        assert len(visits) == 10
        assert sorted((v.round, v.result) for v in visits).count((3, "closed")) == 3
        record = s.scalar(select(IntegrityRecord).where(IntegrityRecord.case_id == case_id))
        assert (record.finding_count, record.major_count, record.rectification_rounds) == (4, 2, 3)
    kinds = [e["kind"] for e in view["history"]]
    assert kinds[0] == "case_started" and kinds[-1] == "case_completed"
    assert kinds.count("task_completed") == 3 + 3 + 2 + 6 + 1
