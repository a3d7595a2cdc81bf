"""The paths of the Suzhou joint audit: notice countersigned, plan before the mobilization, three parallel
on-site verifications, 情况汇总 before the feedback, the unit's signed confirmation with a dispute, rectification
rounds, a failed acceptance (检查验收 不合格) going back to rectification, and the report approved and sent on."""
from __future__ import annotations

from sqlalchemy import select

from engine.models import Attachment
from handlers.records import RectificationItem
from tests.conftest import CASE_FACTS, as_user, complete_step, ready_steps
from tests.processes.walk import walk

KEY = "joint_audit_suzhou"
VERIFY = ["verify_establishment", "verify_finance", "verify_personnel"]


def _finding(text, severity, category, **extra):
    return {"description": text, "severity": severity, "problem_category": category, "responsibility_type": "leadership",
            **extra}


def _start(engine) -> int:
    case_id = engine.start_case(KEY, dict(CASE_FACTS), as_user(engine, "organization"))
    assert ready_steps(engine, case_id) == ["pre_audit_notice"]
    return case_id


def _to_verification(engine) -> int:
    case_id = _start(engine)
    done = walk(engine, case_id, "verify_personnel")
    assert done == ["pre_audit_notice", "countersign_notice_audit", "countersign_notice_organization",
                    "countersign_notice_staffing", "implementation_plan", "mobilization", "self_report",
                    "democratic_appraisal", "individual_interviews"]
    assert ready_steps(engine, case_id) == VERIFY
    return case_id


def _evidence(engine, case_id) -> list[int]:
    with engine.db.transaction() as s:
        a = Attachment(case_id=case_id, filename="验收材料.pdf", content_type="application/pdf", size=1, sha256="0" * 64,
                       uploaded_by="organization", uploaded_at=engine.clock())
        s.add(a)
        s.flush()
        return [a.id]


def test_the_three_verifications_run_in_parallel_in_their_lanes(engine):
    case_id = _to_verification(engine)
    roles = {i["step_id"]: i["role"] for i in engine.tasks(case_id=case_id)}
    assert roles == {"verify_personnel": "organization", "verify_establishment": "staffing", "verify_finance": "audit"}
    complete_step(engine, case_id, "verify_finance")
    complete_step(engine, case_id, "verify_personnel")
    assert ready_steps(engine, case_id) == ["verify_establishment"]
    complete_step(engine, case_id, "verify_establishment")
    assert ready_steps(engine, case_id) == ["consolidate"]  # 情况汇总 comes before the feedback in Suzhou


def test_no_findings_ends_with_acceptance_report_approval_and_archive(engine):
    case_id = _to_verification(engine)
    done = walk(engine, case_id, None)
    assert done[len(VERIFY):] == ["consolidate", "feedback", "confirm_feedback", "acceptance", "issue_report",
                                  "countersign_report_audit", "countersign_report_organization",
                                  "countersign_report_staffing", "approve_report"]
    view = engine.case(case_id)
    assert view["status"] == "completed" and view["data"]["report_sent_to_discipline"] is True
    assert view["data"]["archived"] is True


def test_a_failed_acceptance_goes_back_to_rectification(engine):
    case_id = _to_verification(engine)
    walk(engine, case_id, "rectify", {
        "verify_establishment": {"establishment_findings": [_finding("擅自设立内设机构1个", "major", "unauthorized_bodies")]},
        "feedback": {"rectification_deadline": "2099-06-30"},
    })
    evidence = _evidence(engine, case_id)
    complete_step(engine, case_id, "rectify", reported_item_nos=[1], rectification_report_date="2099-01-05")
    assert ready_steps(engine, case_id) == ["verify_rectification_staffing"]
    complete_step(engine, case_id, "verify_rectification_staffing", establishment_closed_item_nos=[1],
                  establishment_visit_date="2099-01-10", establishment_evidence_ids=evidence)
    assert ready_steps(engine, case_id) == ["acceptance"]
    form = engine.work_item(engine.tasks(case_id=case_id)[0]["id"], as_user(engine, "organization"))["form"]
    assert [o["const"] for o in form["properties"]["reopened_item_nos"]["items"]["oneOf"]] == [1]
    complete_step(engine, case_id, "acceptance", acceptance_result="fail", reopened_item_nos=[1],
                  acceptance_conclusion="内设机构仍在运行，不合格")
    with engine.db.reading() as s:
        item = s.scalar(select(RectificationItem).where(RectificationItem.case_id == case_id))
        assert (item.status, item.closed_at, item.progress) == ("open", None, "验收不合格，重新整改")
    assert ready_steps(engine, case_id) == ["set_next_round"]  # back to rectification, with a new round deadline
    complete_step(engine, case_id, "set_next_round", next_round_deadline="2099-08-31")
    assert ready_steps(engine, case_id) == ["rectify"]
    assert engine.case(case_id)["data"]["rectification_round"] == 2
    complete_step(engine, case_id, "rectify", reported_item_nos=[1], rectification_report_date="2099-08-01")
    complete_step(engine, case_id, "verify_rectification_staffing", establishment_closed_item_nos=[1],
                  establishment_visit_date="2099-08-10", establishment_evidence_ids=evidence)
    complete_step(engine, case_id, "acceptance", acceptance_result="pass")
    walk(engine, case_id, None)
    view = engine.case(case_id)
    assert view["status"] == "completed"
    assert [r["round"] for r in view["data"]["rounds"]] == [1, 2]


def test_a_disputed_finding_kept_on_review_stays_on_the_ledger(engine):
    case_id = _to_verification(engine)
    walk(engine, case_id, "confirm_feedback", {
        "verify_finance": {"finance_findings": [_finding("违规举债", "major", "irregular_debt", amount=5000000,
                                                         demerit_points=2)]},
        "verify_personnel": {"personnel_findings": [_finding("突击提拔", "general", "rushed_appointment")]},
        "feedback": {"rectification_deadline": "2099-06-30"},
    })
    complete_step(engine, case_id, "confirm_feedback", feedback_confirmation="disputed", disputed_item_nos=[1, 2],
                  dispute_reason="举债经上级批准；提拔程序完整")
    assert ready_steps(engine, case_id) == ["review_dispute_audit", "review_dispute_organization"]
    complete_step(engine, case_id, "review_dispute_audit", finance_dispute_opinion="未见批准文件，维持")
    complete_step(engine, case_id, "review_dispute_organization", personnel_withdrawn_item_nos=[1],
                  personnel_dispute_opinion="程序材料齐全，撤销")
    complete_step(engine, case_id, "confirm_feedback")
    assert ready_steps(engine, case_id) == ["rectify"]
    with engine.db.reading() as s:
        rows = s.execute(select(RectificationItem.item_no, RectificationItem.description, RectificationItem.amount,
                                RectificationItem.demerit_points).where(RectificationItem.case_id == case_id)).all()
    assert [tuple(r) for r in rows] == [(1, "违规举债", 5000000, 2)]
