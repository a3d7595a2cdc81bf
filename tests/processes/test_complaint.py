"""Complaints (信访举报, seeds 002 and 003) and accountability (seeds 003 and 004), walked through their processes:

- 四个必查: each of the four reasons makes a complaint one that must be investigated, named in Chinese; one that
  needs none still gets a person's decision (investigate anyway, or file it with a reply) — never dropped;
- every routing (直办 / 交办 / 转办 / 督办) reaches the reply to the informant (事事有回音);
- a reply past its deadline: the 催办 reminder to the discipline clerks, then the 督办 escalation to supervisors;
- a substantiated complaint: the accountability_level table proposes, the discipline body confirms or changes it
  (a change needs a reason), and the outcome lands in the integrity file with its ban period;
- 一案双查: a complaint against a unit opens the inquiry into its leaders, which ends in its own outcomes;
- complaints received during the joint audit's pre-audit notice become complaint cases; none, nothing happens;
- the informant never reaches case data or events.
"""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

import handlers
from engine.decisions import decide
from engine.errors import InvalidData
from engine.models import Case, Event, Notification
from engine.worker import TimerRunner
from handlers.accountability import AccountabilityDecision
from handlers.complaint import Complaint, ComplaintInformant, complaint_counts, open_complaint
from handlers.integrity_file import Sanction
from tests.conftest import CASE_FACTS, Clock, as_user, complete_step, make_engine, ready_steps
from tests.processes.walk import walk
from web.complaints import intake

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

ID_A = "11010519491231002X"
ID_B = "110105194912310038"
ID_C = "110105194912310046"
T0 = datetime(2027, 3, 1, 1, 0, 0)  # naive UTC, 09:00 in Beijing


@pytest.fixture
def world(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'complaints.db'}")
    clock = Clock(T0)
    engine.clock = clock
    return engine, clock


def start(engine, **facts) -> int:
    data = {"source": "hotline", "complaint_unit": "戴窑镇", "summary": "镇政府违规发放津补贴",
            "received_on": "2027-03-01", "cadre_name": "张伟", "post": "镇长", **facts}
    return engine.start_case("complaint", data, as_user(engine, "discipline"))


def data_of(engine, case_id):
    return engine.case(case_id)["data"]


def complaint_of(engine, case_id) -> Complaint:
    with engine.db.reading() as s:
        row = s.scalar(select(Complaint).where(Complaint.case_id == case_id))
        s.expunge(row)
        return row


ROUTE = dict(investigation_deadline="2027-03-20", reply_deadline="2027-03-25")
FOUND = dict(finding="substantiated", finding_text="核实属实：违规发放津补贴 12 万元", investigated_on="2027-03-10")
REPLY = dict(reply_status="sent", replied_on="2027-03-12", reply_method="phone", reply_note="已电话告知调查结果")


# --- the decision tables, row by row -----------------------------------------------------------
FOUR = {"has_specific_clues": "反映问题有明确线索或具体内容",
        "real_name_or_contact": "举报人署真实姓名或提供具体联络方法",
        "about_principal_conduct": "反映“一把手”用人问题或存在严重思想作风问题",
        "found_in_appraisal_or_inspection": "在干部考察考核检查中发现问题"}
NONE = {k: False for k in FOUR}


@pytest.mark.parametrize("flag", FOUR)
def test_must_investigate_each_row_gives_its_reason(world, flag):
    engine, _ = world
    with engine.db.reading() as s:
        result = decide(s, "must_investigate", {**NONE, flag: True})
    assert result["must_investigate_hit"] == [True] and result["must_reason"] == [FOUR[flag]]


def test_must_investigate_collects_every_reason_and_none_when_no_row_fires(world):
    engine, _ = world
    with engine.db.reading() as s:
        every = decide(s, "must_investigate", {k: True for k in FOUR})
        nothing = decide(s, "must_investigate", NONE)
    assert every["must_reason"] == list(FOUR.values())
    assert nothing == {}


LEVEL = [  # (ground, severity, repeat, consequences) -> outcome, lightest to heaviest rows of the table
    (("poor_execution", "minor", False, False), "admonition_talk"),
    (("poor_execution", "minor", False, True), "circulated_criticism"),
    (("management_duty", "minor", True, False), "circulated_criticism"),
    (("weak_supervision", "serious", False, False), "warning_talk"),
    (("weak_supervision", "serious", False, True), "suspended_study"),
    (("poor_execution", "serious", True, False), "moved_off_post"),
    (("management_duty", "very_serious", False, False), "demoted"),
    (("wrong_decision", "very_serious", False, False), "dismissed"),
    (("poor_execution", "very_serious", True, False), "disciplinary"),
    (("wrong_decision", "very_serious", False, True), "disciplinary"),
]


@pytest.mark.parametrize("inputs,outcome", LEVEL)
def test_accountability_level_rows(world, inputs, outcome):
    engine, _ = world
    ground, severity, repeat, consequences = inputs
    with engine.db.reading() as s:
        result = decide(s, "accountability_level", {"ground": ground, "severity": severity, "repeat_offence": repeat,
                                                    "serious_consequences": consequences})
    assert result["proposed_outcome"] == outcome and result["proposal_reason"]


# --- 四个必查 through the process ----------------------------------------------------------------
@pytest.mark.parametrize("flag", FOUR)
def test_each_of_the_four_musts_sends_the_complaint_to_routing_with_its_reason(world, flag):
    engine, _ = world
    case_id = start(engine, **{flag: True})
    data = data_of(engine, case_id)
    assert data["must_investigate"] is True and data["must_investigate_reasons"] == FOUR[flag]
    assert ready_steps(engine, case_id) == ["route"]
    row = complaint_of(engine, case_id)
    assert row.must_investigate is True and row.reasons == [FOUR[flag]]


def test_an_inspection_or_appraisal_is_the_fourth_must_by_its_source(world):
    engine, _ = world
    case_id = start(engine, source="inspection")
    assert data_of(engine, case_id)["must_investigate_reasons"] == FOUR["found_in_appraisal_or_inspection"]


def test_a_complaint_needing_none_gets_a_decision_filed_with_a_reply_or_investigated(world):
    engine, _ = world
    filed = start(engine)
    assert data_of(engine, filed)["must_investigate"] is False
    assert data_of(engine, filed)["must_investigate_reasons"] == "不属四个必查情形"
    assert ready_steps(engine, filed) == ["decide_handling"]  # a person decides: never silently dropped
    complete_step(engine, filed, "decide_handling", handling_decision="file", handling_reason="反映内容笼统，无具体线索",
                  reply_deadline="2027-03-15")
    assert ready_steps(engine, filed) == ["reply_informant"]
    complete_step(engine, filed, "reply_informant", reply_status="impossible", impossible_reason="匿名来电，未留联系方式")
    assert engine.case(filed)["status"] == "completed"
    row = complaint_of(engine, filed)
    assert (row.handling_decision, row.reply_status, row.status) == ("file", "impossible", "closed")
    assert row.reply_status_name == "无法答复（匿名）" and row.reply_note == "匿名来电，未留联系方式"

    anyway = start(engine)
    complete_step(engine, anyway, "decide_handling", handling_decision="investigate", handling_reason="涉及民生资金",
                  reply_deadline="2027-03-15")
    assert ready_steps(engine, anyway) == ["route"]


# --- every routing reaches the reply -------------------------------------------------------------
def _reply_and_close(engine, case_id, finding="not_substantiated"):
    assert ready_steps(engine, case_id) == ["reply_informant"]
    complete_step(engine, case_id, "reply_informant", **REPLY)
    if finding == "not_substantiated":
        assert engine.case(case_id)["status"] == "completed"
        row = complaint_of(engine, case_id)
        assert (row.reply_status, row.replied_on, row.status) == ("sent", date(2027, 3, 12), "closed")


def test_direct_handling(world):
    engine, _ = world
    case_id = start(engine, real_name_or_contact=True)
    complete_step(engine, case_id, "route", routing="direct", **ROUTE)
    (item,) = engine.tasks(case_id=case_id)
    assert item["step_id"] == "investigate" and item["role"] == "discipline"
    assert item["due_at"] == "2027-03-20T15:59:59Z"  # the end of the deadline day in Beijing
    complete_step(engine, case_id, "investigate", **{**FOUND, "finding": "not_substantiated"})
    _reply_and_close(engine, case_id)
    assert complaint_of(engine, case_id).routing_name == "直办"


def test_assigned_down_the_unit_investigates_its_own_case_and_the_commission_reviews(world):
    engine, _ = world
    case_id = start(engine, has_specific_clues=True, clues="2026年12月发放", against_unit=False)
    assert engine.case(case_id)["unit"] == ""  # the unit concerned does not see the complaint itself
    complete_step(engine, case_id, "route", routing="assign", routing_note="请认真核查", **ROUTE)
    child = data_of(engine, case_id)["assignment_case_id"]
    view = engine.case(child)
    assert view["unit"] == "戴窑镇" and view["data"]["summary"] == "镇政府违规发放津补贴"
    unit_clerk = as_user(engine, "unit")
    assert [t["step_id"] for t in engine.tasks(unit_clerk)] == ["investigate_assigned"]
    assert all(t["case_id"] == child for t in engine.tasks(unit_clerk))  # not the complaint's own work

    # the commission cannot review before the unit has reported
    (review,) = engine.tasks(case_id=case_id)
    with pytest.raises(InvalidData) as refused:
        complete_step(engine, case_id, "review_assigned", review_opinion="同意", **FOUND)
    assert "尚未报送" in refused.value.message and "finding" in refused.value.details
    assert ready_steps(engine, case_id) == ["review_assigned"]

    complete_step(engine, child, "investigate_assigned", finding="partly", finding_text="部分属实", measures="已追回",
                  investigated_on="2027-03-08")
    assert engine.case(child)["status"] == "completed"
    complete_step(engine, case_id, "review_assigned", review_opinion="同意承办单位结论",
                  **{**FOUND, "finding": "not_substantiated"})
    _reply_and_close(engine, case_id)


def test_transferred_to_the_competent_body_waits_for_its_result(world):
    engine, _ = world
    case_id = start(engine, has_specific_clues=True)
    with pytest.raises(InvalidData) as refused:  # a transfer names the body and its letter
        complete_step(engine, case_id, "route", routing="transfer", **ROUTE)
    assert {"handling_body", "transfer_letter_date"} <= set(refused.value.details)
    complete_step(engine, case_id, "route", routing="transfer", handling_body="兴化市人力资源和社会保障局",
                  transfer_letter_date="2027-03-02", **ROUTE)
    assert ready_steps(engine, case_id) == ["record_transfer_result"]
    complete_step(engine, case_id, "record_transfer_result", result_doc_no="兴人社函〔2027〕3号",
                  **{**FOUND, "finding": "not_substantiated"})
    _reply_and_close(engine, case_id)
    row = complaint_of(engine, case_id)
    assert (row.routing_name, row.handling_body, row.transfer_letter_date) == ("转办", "兴化市人力资源和社会保障局",
                                                                               date(2027, 3, 2))


def test_supervised_handling_is_followed_up_until_the_result_is_in(world):
    engine, clock = world
    case_id = start(engine, has_specific_clues=True)
    complete_step(engine, case_id, "route", routing="supervise", handling_body="戴窑镇纪委", first_follow_up="2027-03-08",
                  **ROUTE)
    (item,) = engine.tasks(case_id=case_id)
    assert item["step_id"] == "supervise_follow_up" and item["due_at"] == "2027-03-08T15:59:59Z"
    with pytest.raises(InvalidData) as refused:
        complete_step(engine, case_id, "supervise_follow_up", result_in=False, follow_up_note="仍在调查")
    assert "next_follow_up" in refused.value.details
    complete_step(engine, case_id, "supervise_follow_up", result_in=False, follow_up_note="仍在调查",
                  next_follow_up="2027-03-15")
    (again,) = engine.tasks(case_id=case_id)
    assert again["step_id"] == "supervise_follow_up" and again["due_at"] == "2027-03-15T15:59:59Z"
    complete_step(engine, case_id, "supervise_follow_up", result_in=True, follow_up_note="已办结",
                  **{**FOUND, "finding": "not_substantiated"})
    _reply_and_close(engine, case_id)
    assert complaint_of(engine, case_id).routing_name == "督办"


# --- 事事有回音: a reply past its deadline --------------------------------------------------------
def test_a_reply_past_its_deadline_is_reminded_then_escalated(world):
    engine, clock = world
    runner = TimerRunner(engine, "complaint-worker")
    case_id = start(engine, real_name_or_contact=True)
    complete_step(engine, case_id, "route", routing="direct", investigation_deadline="2027-03-05",
                  reply_deadline="2027-03-10")
    clock.advance(days=2)
    complete_step(engine, case_id, "investigate", **{**FOUND, "finding": "not_substantiated", "investigated_on": "2027-03-03"})
    (item,) = engine.tasks(case_id=case_id)
    assert item["step_id"] == "reply_informant"
    due = datetime(2027, 3, 10, 15, 59, 59)
    with engine.db.reading() as s:
        assert complaint_counts(s, ["戴窑镇"], now=due - timedelta(hours=1))["戴窑镇"]["overdue"] == 0

    def notes():  # this case's only: the process library's scheduled starts fire on the same worker
        with engine.db.reading() as s:
            return s.execute(select(Notification.kind, Notification.recipient, Notification.subject)
                             .where(Notification.case_id == case_id).order_by(Notification.id)).all()

    clock.now = due - timedelta(days=2) - timedelta(minutes=1)
    runner.run_due()
    assert notes() == []
    clock.now = due - timedelta(days=2) + timedelta(minutes=1)
    runner.run_due()
    assert [(k, r) for k, r, _ in notes()] == [("reminder_sent", "discipline")]  # 催办 to the discipline clerks
    clock.now = due + timedelta(seconds=1)
    runner.run_due()
    runner.run_due()  # each fires once
    sent = notes()
    assert [(k, r) for k, r, _ in sent] == [("reminder_sent", "discipline"), ("escalated", "supervisor")]  # 督办
    assert "答复举报人" in sent[1][2] and "已逾期" in sent[1][2]
    with engine.db.reading() as s:
        counts = complaint_counts(s, ["戴窑镇"], now=clock.now + timedelta(days=1))
    assert counts["戴窑镇"] == {"received": 1, "answered": 0, "overdue": 1, "open": 1}

    complete_step(engine, case_id, "reply_informant", **{**REPLY, "replied_on": "2027-03-11"})
    with engine.db.reading() as s:
        counts = complaint_counts(s, ["戴窑镇"], now=clock.now + timedelta(days=1))
    assert counts["戴窑镇"] == {"received": 1, "answered": 1, "overdue": 0, "open": 0}


def test_a_named_informant_must_be_answered(world):
    engine, _ = world
    case_id = start(engine, real_name_or_contact=True)
    complete_step(engine, case_id, "route", routing="direct", **ROUTE)
    complete_step(engine, case_id, "investigate", **{**FOUND, "finding": "not_substantiated"})
    with pytest.raises(InvalidData) as refused:
        complete_step(engine, case_id, "reply_informant", reply_status="impossible", impossible_reason="联系不上")
    assert "reply_status" in refused.value.details
    with pytest.raises(InvalidData) as refused:
        complete_step(engine, case_id, "reply_informant", reply_status="sent")
    assert {"replied_on", "reply_method"} <= set(refused.value.details)
    assert ready_steps(engine, case_id) == ["reply_informant"]


# --- accountability into the integrity file ------------------------------------------------------
def _to_decision(engine, case_id, ground="wrong_decision", severity="very_serious", **assess):
    complete_step(engine, case_id, "route", routing="direct", **ROUTE)
    complete_step(engine, case_id, "investigate", **FOUND)
    complete_step(engine, case_id, "reply_informant", **REPLY)
    assert ready_steps(engine, case_id) == ["assess_accountability"]
    complete_step(engine, case_id, "assess_accountability", ground=ground, severity=severity, **assess)
    assert ready_steps(engine, case_id) == ["decide_accountability"]


DECISION = dict(accountability_reason="违规决策发放津补贴", accountability_decided_on="2027-03-15")


def test_dismissal_lands_in_the_integrity_file_with_a_one_year_equivalent_post_ban(world):
    engine, _ = world
    case_id = start(engine, has_specific_clues=True)
    _to_decision(engine, case_id)
    assert data_of(engine, case_id)["proposed_outcome"] == "dismissed"
    complete_step(engine, case_id, "decide_accountability", accountability_outcome="dismissed", cadre_id_number=ID_A,
                  **DECISION)
    view = engine.case(case_id)
    assert view["status"] == "completed"
    assert view["data"]["sanction_ban"] == "2028-03-15 前不得担任与原任职务相当的领导职务"
    with engine.db.reading() as s:
        (sanction,) = s.scalars(select(Sanction)).all()
        assert (sanction.outcome_name, sanction.ground_name, sanction.ban_until) == ("免职", "决策失误", date(2028, 3, 15))
        assert sanction.cadre_name == "张伟" and sanction.person_id is not None and sanction.case_id == case_id
        (decision,) = s.scalars(select(AccountabilityDecision)).all()
        assert (decision.proposed_outcome, decision.outcome, decision.changed) == ("dismissed", "dismissed", False)


def test_a_changed_proposal_needs_its_reason_and_demotion_bans_promotion_for_two_years(world):
    engine, _ = world
    case_id = start(engine, has_specific_clues=True)
    _to_decision(engine, case_id)
    with pytest.raises(InvalidData) as refused:
        complete_step(engine, case_id, "decide_accountability", accountability_outcome="demoted",
                      cadre_id_number=ID_A, **DECISION)
    assert "change_reason" in refused.value.details
    assert ready_steps(engine, case_id) == ["decide_accountability"]
    with engine.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Sanction)) == 0  # nothing half-written

    complete_step(engine, case_id, "decide_accountability", accountability_outcome="demoted", cadre_id_number=ID_A,
                  change_reason="主动退赔，认错态度好", **DECISION)
    with engine.db.reading() as s:
        (sanction,) = s.scalars(select(Sanction)).all()
        (decision,) = s.scalars(select(AccountabilityDecision)).all()
    assert sanction.ban_text() == "2029-03-15 前不得提拔"
    assert "改定理由：主动退赔，认错态度好" in sanction.reason and "免职" in sanction.reason
    assert (decision.proposed_outcome, decision.outcome, decision.change_reason) == ("dismissed", "demoted",
                                                                                     "主动退赔，认错态度好")
    assert data_of(engine, case_id)["outcome_changed"] is True


def test_a_wrong_id_number_is_refused_at_its_field(world):
    engine, _ = world
    case_id = start(engine, has_specific_clues=True)
    _to_decision(engine, case_id, severity="minor")
    with pytest.raises(InvalidData) as refused:
        complete_step(engine, case_id, "decide_accountability", accountability_outcome="admonition_talk",
                      cadre_id_number="110105194912310039", **DECISION)
    assert "cadre_id_number" in refused.value.details


# --- 一案双查 -----------------------------------------------------------------------------------
def test_a_complaint_against_a_unit_opens_the_leaders_inquiry_which_ends_in_its_own_outcomes(world):
    engine, _ = world
    case_id = start(engine, has_specific_clues=True, against_unit=True)
    _to_decision(engine, case_id, ground="poor_execution", severity="serious")
    complete_step(engine, case_id, "decide_accountability", accountability_outcome="warning_talk", cadre_id_number=ID_A,
                  **DECISION)
    inquiry = data_of(engine, case_id)["inquiry_case_id"]
    assert complaint_of(engine, case_id).inquiry_case_id == inquiry
    view = engine.case(inquiry)
    assert view["process_key"] == "leaders_inquiry" and view["data"]["inquiry_unit"] == "戴窑镇"
    assert view["data"]["complaint_case_id"] == case_id and view["unit"] == ""
    assert ready_steps(engine, inquiry) == ["inquire"]

    complete_step(engine, inquiry, "inquire", leaders_responsible=True, inquiry_findings="主体责任落实不力",
                  inquired_on="2027-03-20")
    complete_step(engine, inquiry, "assess_accountability", ground="weak_supervision", severity="serious")
    assert data_of(engine, inquiry)["proposed_outcome"] == "warning_talk"
    complete_step(engine, inquiry, "decide_accountability", accountability_outcome="warning_talk",
                  accountable_name="李强", cadre_id_number=ID_B, accountability_reason="主体责任落实不力",
                  accountability_decided_on="2027-03-25",
                  members=[{"name": "王芳", "id_number": ID_C, "post": "副镇长", "outcome": "admonition_talk",
                            "reason": "分管领域监督不力"}])
    assert engine.case(inquiry)["status"] == "completed"
    with engine.db.reading() as s:
        rows = s.execute(select(AccountabilityDecision.person_name, AccountabilityDecision.role,
                                AccountabilityDecision.outcome).where(AccountabilityDecision.case_id == inquiry)
                         .order_by(AccountabilityDecision.id)).all()
    assert rows == [("李强", "principal", "warning_talk"), ("王芳", "member", "admonition_talk")]


def test_the_decider_can_open_the_inquiry_for_a_complaint_not_flagged_as_against_the_unit(world):
    engine, _ = world
    case_id = start(engine, has_specific_clues=True)
    _to_decision(engine, case_id, severity="minor")
    complete_step(engine, case_id, "decide_accountability", accountability_outcome="admonition_talk",
                  cadre_id_number=ID_A, open_leaders_inquiry=True, **DECISION)
    assert engine.case(data_of(engine, case_id)["inquiry_case_id"])["process_key"] == "leaders_inquiry"

    plain = start(engine, has_specific_clues=True)
    _to_decision(engine, plain, severity="minor")
    complete_step(engine, plain, "decide_accountability", accountability_outcome="admonition_talk",
                  cadre_id_number=ID_B, **DECISION)
    assert "inquiry_case_id" not in data_of(engine, plain)
    with engine.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Case).where(Case.process_key == "leaders_inquiry")) == 1


# --- the contract: open_complaint and complaint_counts ------------------------------------------
def test_open_complaint_opens_a_case_in_the_step_and_keeps_the_informant_out_of_case_data(world, monkeypatch):
    engine, _ = world
    opened = {}

    def open_one(ctx):  # a campaign's step opening a complaint, as helper C's handler does
        with pytest.raises(InvalidData) as refused:
            open_complaint(ctx, source="nowhere", unit="戴窑镇", summary="x")
        assert "source" in refused.value.details
        opened["case"] = open_complaint(ctx, source="hotline", unit="沙沟镇", summary="上班时间打牌",
                                        subject_name="赵六", informant_name="钱七", informant_contact="13900000000",
                                        campaign_id=7, clues="每周三下午")
        return {"opened": opened["case"]}

    monkeypatch.setitem(handlers.REGISTRY, "tests.open_children", open_one)
    monkeypatch.setitem(handlers.REGISTRY, "tests.refuse_empty_note", lambda ctx: {"ok": True})
    engine.deploy([str(FIXTURES / "refusal"), str(FIXTURES / "child_cases")])
    parent = engine.start_case("open_children", {})
    case_id = opened["case"]
    data = data_of(engine, case_id)
    assert data["real_name_or_contact"] is True and data["complaint_unit"] == "沙沟镇"
    assert data["must_investigate_reasons"] == "；".join([FOUR["has_specific_clues"], FOUR["real_name_or_contact"]])
    with engine.db.reading() as s:
        row = s.scalar(select(Complaint).where(Complaint.case_id == case_id))
        assert (row.campaign_id, row.origin_case_id, row.source_name) == (7, parent, "举报电话")
        assert s.scalar(select(ComplaintInformant.name).where(ComplaintInformant.complaint_id == row.id)) == "钱七"
        events = json.dumps([[e.data_before, e.data_after] for e in s.scalars(select(Event)
                                                                              .where(Event.case_id == case_id))],
                            ensure_ascii=False)
        assert complaint_counts(s, None, campaign_id=7) == {"沙沟镇": {"received": 1, "answered": 0, "overdue": 0,
                                                                      "open": 1}}
        assert complaint_counts(s, ["沙沟镇", "戴窑镇"], campaign_id=8)["戴窑镇"]["received"] == 0
    case_json = json.dumps(engine.case(case_id), ensure_ascii=False, default=str)
    for secret in ("钱七", "13900000000"):
        assert secret not in case_json and secret not in events


def test_the_intake_keeps_the_informant_apart_and_refuses_bad_input_whole(world):
    engine, _ = world
    actor = as_user(engine, "discipline")
    form = {"source": "mailbox", "complaint_unit": "戴窑镇", "summary": "违规用车", "received_on": "2027-02-28",
            "informant_name": "孙八", "informant_contact": "sun@example.cn", "about_principal_conduct": "1"}
    with pytest.raises(InvalidData) as refused:
        intake(engine, actor, {**form, "summary": " "})
    assert "summary" in refused.value.details
    with pytest.raises(InvalidData) as refused:
        intake(engine, actor, {**form, "received_on": "2027-03-09"})  # after today
    assert "received_on" in refused.value.details
    with engine.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Complaint)) == 0
        assert s.scalar(select(func.count()).select_from(ComplaintInformant)) == 0
    case_id = intake(engine, actor, form)
    data = data_of(engine, case_id)
    assert data["must_investigate_reasons"] == "；".join([FOUR["real_name_or_contact"], FOUR["about_principal_conduct"]])
    assert "孙八" not in json.dumps(engine.case(case_id), ensure_ascii=False, default=str)


# --- complaints from the joint audit's pre-audit notice -------------------------------------------
NOTICES = {"joint_audit_xinghua": "pre_audit_publicity", "joint_audit_suzhou": "pre_audit_notice"}


@pytest.mark.parametrize("key", NOTICES)
def test_complaints_received_during_the_pre_audit_notice_become_complaint_cases(world, key):
    engine, _ = world
    audit = engine.start_case(key, dict(CASE_FACTS), as_user(engine, "organization"))
    step = NOTICES[key]
    walk(engine, audit, until=step)
    complaints = [{"summary": "超职数配备干部", "received_by": "letter", "informant_identified": True},
                  {"summary": "违规报销招待费", "subject_name": "刘某", "clues": "2026年11月"}]
    complete_step(engine, audit, step, public_complaints=complaints)
    opened = data_of(engine, audit)["public_complaint_case_ids"]
    assert len(opened) == 2
    with engine.db.reading() as s:
        rows = s.scalars(select(Complaint).where(Complaint.case_id.in_(opened)).order_by(Complaint.id)).all()
        assert [(r.source, r.unit, r.origin_case_id, r.subject_name) for r in rows] == [
            ("pre_audit_notice", "戴窑镇", audit, "张伟"), ("pre_audit_notice", "戴窑镇", audit, "刘某")]
        assert rows[0].clues == "收到方式：来信" and rows[0].anonymous is False and rows[1].anonymous is True
    assert [engine.case(c)["process_key"] for c in opened] == ["complaint", "complaint"]
    assert data_of(engine, opened[0])["must_investigate_reasons"] == FOUR["real_name_or_contact"]
    assert data_of(engine, opened[1])["must_investigate_reasons"] == FOUR["has_specific_clues"]


@pytest.mark.parametrize("key", NOTICES)
def test_a_notice_without_complaints_opens_nothing(world, key):
    engine, _ = world
    audit = engine.start_case(key, dict(CASE_FACTS), as_user(engine, "organization"))
    walk(engine, audit, until=NOTICES[key])
    complete_step(engine, audit, NOTICES[key])
    assert "public_complaint_case_ids" not in data_of(engine, audit)
    with engine.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Complaint)) == 0


def test_an_assignment_opened_by_hand_for_a_complaint_not_assigned_is_refused(world):
    engine, _ = world
    case_id = start(engine, has_specific_clues=True)
    with pytest.raises(InvalidData) as refused:
        engine.start_case("complaint_assignment", {"unit": "戴窑镇", "complaint_case_id": case_id, "summary": "x",
                                                   "investigation_deadline": "2027-03-20"}, as_user(engine, "discipline"))
    assert "complaint_case_id" in refused.value.details
    with engine.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Case).where(Case.process_key == "complaint_assignment")) == 0


def test_no_start_of_a_complaint_can_carry_the_informant_into_case_data(world):
    engine, _ = world
    with pytest.raises(InvalidData) as refused:  # the API and the generic start page use the same start form
        start(engine, informant_name="钱七", informant_contact="13900000000")
    assert "informant_name" in refused.value.one_line()
    with engine.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 0


def test_the_leaders_inquiry_names_the_units_principal_from_the_unit_register(world):
    from handlers import units

    engine, _ = world
    with engine.db.transaction() as s:
        units.ensure(s, "戴窑镇", kind="town", principal="李强")
    case_id = start(engine, has_specific_clues=True, against_unit=True)
    _to_decision(engine, case_id, severity="minor")
    complete_step(engine, case_id, "decide_accountability", accountability_outcome="admonition_talk",
                  cadre_id_number=ID_A, **DECISION)
    inquiry = engine.case(data_of(engine, case_id)["inquiry_case_id"])
    assert inquiry["data"]["cadre_name"] == "李强" and inquiry["title"].startswith("李强")
    assert inquiry["data"]["original_finding"] == "信访约谈（张伟）"
