"""The integrity file (廉政档案): keyed by ID number, not name; demerit points per year and the consequence the
decision table gives; sanctions and their ban periods; filed by the handlers the processes call."""
from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select

from engine.errors import InvalidData
from engine.models import Case
from handlers import HandlerContext, registered
from handlers.cadres import CadreCase, ensure_person
from handlers.demerits import DemeritEntry, add_entry, demerit_years
from handlers.integrity_file import IntegrityRecord, Sanction, cadre_file, record_sanction, search_people
from handlers.records import RectificationItem
from tests.conftest import CASE_FACTS, Clock, as_user, complete_step, ready_steps

NOW = datetime(2026, 12, 2, 2, 0)
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number(body17: str) -> str:
    """A valid 18-digit ID number from its first 17 digits (the check digit computed)."""
    return body17 + "10X98765432"[sum(int(d) * w for d, w in zip(body17, _WEIGHTS)) % 11]


ZHANG_A = id_number("32128119750101001")
ZHANG_B = id_number("32128119820615002")


def ctx(session, case_id: int, data: dict, actor: str = "organization", now: datetime = NOW) -> HandlerContext:
    return HandlerContext(session, case_id, data.get("unit", "戴窑镇"), data, {}, actor, now)


def _case(engine, **facts) -> int:
    return engine.start_case("joint_audit_xinghua", dict(CASE_FACTS, **facts), as_user(engine, "organization"))


def test_two_cadres_with_the_same_name_keep_separate_files(engine):
    first = _case(engine, cadre_id_number=ZHANG_A, unit="戴窑镇")
    second = _case(engine, cadre_id_number=ZHANG_B, unit="沙沟镇", post="镇长")
    archive = registered()["integrity_file.archive"]
    with engine.db.transaction() as s:
        archive(ctx(s, first, dict(CASE_FACTS, cadre_id_number=ZHANG_A, personnel_score=90, evaluation_grade="好",
                                   findings=[{"item_no": 1, "duty": "finance", "severity": "major", "description": "账外账"}])))
        archive(ctx(s, second, dict(CASE_FACTS, cadre_id_number=ZHANG_B, unit="沙沟镇", evaluation_grade="一般", findings=[])))
    with engine.db.reading() as s:
        people = search_people(s, "张伟")
        assert sorted(p.id_number for p in people) == sorted([ZHANG_A, ZHANG_B])
        a = next(p for p in people if p.id_number == ZHANG_A)
        b = next(p for p in people if p.id_number == ZHANG_B)
        file_a, file_b = cadre_file(s, a.id, NOW), cadre_file(s, b.id, NOW)
        assert [c.case_id for c in file_a.cases] == [first]
        assert [c.case_id for c in file_b.cases] == [second]
        assert (file_a.cases[0].grade, file_a.cases[0].scores["personnel"], file_a.cases[0].findings[0]["description"]) \
            == ("好", 90.0, "账外账")
        assert file_b.cases[0].grade == "一般" and file_b.cases[0].findings == []
        # searching by ID number or unit finds exactly one of them
        assert [p.id for p in search_people(s, ZHANG_B[-6:])] == [b.id]
        assert [p.id for p in search_people(s, "沙沟")] == [b.id]
        # a supervisor limited to 戴窑镇 sees only that 张伟
        assert [p.id for p in search_people(s, "张伟", frozenset({"戴窑镇"}))] == [a.id]


def _points(session, person_id: int, year: int, *points: float) -> None:
    for p in points:
        add_entry(session, person_id, year, p, "direct", f"{year} 年违规", "organization", NOW)


@pytest.mark.parametrize("years, expected", [
    ({2026: (2, 2)}, {2026: ("no_awards", "年度累计扣分4分以上")}),
    ({2025: (2, 2, 2), 2026: (2, 2, 2)},
     {2025: ("bonus_withheld", "年度累计扣分6分以上"), 2026: ("demotion", "连续两年累计扣分12分以上")}),
    ({2024: (2, 2, 1), 2025: (2, 2), 2026: (2, 2, 1)},
     {2024: ("no_awards", "年度累计扣分4分以上"), 2025: ("no_awards", "年度累计扣分4分以上"),
      2026: ("demotion", "连续三年累计扣分14分以上")}),
    ({2024: (2, 1.5), 2026: (2, 1.5)},  # 3.5 + 0 + 3.5: under 4 every year
     {2024: ("none", "年度累计扣分不足4分"), 2025: ("none", "年度累计扣分不足4分"), 2026: ("none", "年度累计扣分不足4分")}),
])
def test_demerit_points_per_year_give_the_consequence_of_that_year(engine, years, expected):
    with engine.db.transaction() as s:
        person = ensure_person(s, ZHANG_A, "张伟", NOW)
        for year, points in years.items():
            _points(s, person.id, year, *points)
        got = {y.year: (y.consequence, y.reason) for y in demerit_years(s, person.id, 2026)}
    assert got == expected


@pytest.mark.parametrize("points, why", [(2.5, "每项违规扣 0.5 至 2 分"), (0.25, "每项违规扣 0.5 至 2 分"),
                                         (None, "扣分应为数字"), ("2", "扣分应为数字")])
def test_points_outside_half_to_two_per_violation_are_refused(engine, points, why):
    with engine.db.transaction() as s:
        person = ensure_person(s, ZHANG_A, "张伟", NOW)
        with pytest.raises(InvalidData) as err:
            add_entry(s, person.id, 2026, points, "leadership", "违规", "organization", NOW)
        assert err.value.details["points"] == [why]
        with pytest.raises(InvalidData) as err:
            add_entry(s, person.id, 2027, 1, "", "", "organization", NOW)
        assert set(err.value.details) == {"year", "responsibility_type", "reason"}
        assert s.scalars(select(DemeritEntry)).all() == []


def test_demerits_record_files_the_finance_findings_for_the_cases_cadre_once(engine):
    case_id = _case(engine, cadre_id_number=ZHANG_A)
    data = dict(CASE_FACTS, cadre_id_number=ZHANG_A, findings=[
        {"item_no": 1, "duty": "personnel", "severity": "major", "description": "超职数配备"},
        {"item_no": 2, "duty": "finance", "severity": "major", "description": "账外账", "demerit_points": 2,
         "responsibility_type": "direct"},
        {"item_no": 3, "duty": "finance", "severity": "general", "description": "白条入账", "demerit_points": 2,
         "responsibility_type": "leadership"}])
    record = registered()["demerits.record"]
    with engine.db.transaction() as s:
        person = ensure_person(s, ZHANG_A, "张伟", NOW)
        _points(s, person.id, 2025, 2, 2, 2, 2)  # 8 last year: with 4 this year, 12 over two years
        record(ctx(s, case_id, data, actor="audit"))
        record(ctx(s, case_id, data, actor="audit"))  # a retried step does not count the points twice
        entries = s.scalars(select(DemeritEntry).where(DemeritEntry.case_id == case_id)).all()
        assert sorted((e.year, e.points, e.item_no, e.responsibility_type) for e in entries) == [
            (2026, 2.0, 2, "direct"), (2026, 2.0, 3, "leadership")]
        assert s.scalar(select(CadreCase.person_id).where(CadreCase.case_id == case_id)) == person.id
    assert (data["demerit_total"], data["demerit_consequence"]) == (4.0, "demotion")
    assert data["demerit_consequence_name"] == "降职、免职或责令辞职"

    bad = dict(data, findings=[{"item_no": 1, "duty": "finance", "description": "账外账", "demerit_points": 3}])
    with engine.db.transaction() as s, pytest.raises(InvalidData, match="账外账"):
        record(ctx(s, case_id, bad))


def test_a_demotion_bans_promotion_for_two_years_and_a_dismissal_an_equivalent_post_for_one(engine):
    with engine.db.transaction() as s:
        person = ensure_person(s, ZHANG_A, "张伟", NOW)
        demoted = record_sanction(s, person, "demoted", "连续两年扣分12分", "", date(2026, 3, 1), "organization", NOW)
        dismissed = record_sanction(s, person, "dismissed", "整改弄虚作假", "false_report", date(2026, 3, 1),
                                    "organization", NOW)
        talk = record_sanction(s, person, "warning_talk", "整改报告逾期", "late_report", date(2026, 3, 1), "organization", NOW)
        assert demoted.ban_text() == "2028-03-01 前不得提拔"
        assert dismissed.ban_text() == "2027-03-01 前不得担任与原任职务相当的领导职务"
        assert talk.ban_text() == "" and talk.ground_name == "整改报告逾期未报"
        assert demoted.ban_running(date(2028, 2, 29)) and not demoted.ban_running(date(2028, 3, 1))
        assert dismissed.ban_running(date(2027, 2, 28)) and not dismissed.ban_running(date(2027, 3, 1))
        file = cadre_file(s, person.id, datetime(2027, 6, 1, 2, 0))
        assert [x.outcome for x in file.running_bans] == ["demoted"]  # the dismissal's year is over
        with pytest.raises(InvalidData) as err:
            record_sanction(s, person, "fired", "x", "", date(2026, 3, 1), "organization", NOW)
        assert "outcome" in err.value.details


def test_record_accountability_files_the_discipline_bodys_outcome_against_the_cases_cadre(engine):
    case_id = _case(engine, cadre_id_number=ZHANG_A)
    handler = registered()["integrity_file.record_accountability"]
    data = dict(CASE_FACTS, cadre_id_number=ZHANG_A, accountability_outcome="ordered_resign",
                accountability_reason="第2轮整改报告逾期", accountability_ground="late_report",
                accountability_decision="责令辞职")
    with engine.db.transaction() as s:
        out = handler(ctx(s, case_id, data, actor="discipline", now=datetime(2026, 3, 1, 2, 0)))
        sanction = s.get(Sanction, out["sanction_id"])
        assert (sanction.outcome, sanction.ground, sanction.case_id, sanction.recorded_by) == (
            "ordered_resign", "late_report", case_id, "discipline")
        assert sanction.reason == "第2轮整改报告逾期；处理意见：责令辞职"
        file = cadre_file(s, sanction.person_id, NOW)
        assert file.person.id_number == ZHANG_A and [x.id for x in file.sanctions] == [sanction.id]
    assert data["sanction_ban"] == "2027-03-01 前不得担任与原任职务相当的领导职务"
    with engine.db.transaction() as s:
        assert handler(ctx(s, case_id, dict(data, accountability_outcome=""))) == {"sanction_id": None}
        with pytest.raises(InvalidData) as err:
            handler(ctx(s, case_id, dict(data, accountability_outcome="sacked")))
        assert "accountability_outcome" in err.value.details


def test_archive_keeps_scores_grade_findings_and_the_rectification_result(engine):
    case_id = _case(engine, cadre_id_number=ZHANG_A)
    findings = [{"item_no": 1, "duty": "establishment", "severity": "general", "description": "混编混岗", "repeated": True},
                {"item_no": 2, "duty": "finance", "severity": "major", "description": "账外账"}]
    with engine.db.transaction() as s:
        for no, status, listed in ((1, "closed", True), (2, "open", False)):
            s.add(RectificationItem(case_id=case_id, item_no=no, duty="finance", description="x", severity="major",
                                    unit="戴窑镇", contact_role="principal", contact_name="李强", status=status,
                                    listed_supervision=listed, repeated=(no == 1), opened_at=NOW))
        registered()["integrity_file.archive"](ctx(s, case_id, dict(
            CASE_FACTS, cadre_id_number=ZHANG_A, findings=findings, personnel_score=88, establishment_score=75.5,
            finance_score=60, overall_score=74.5, evaluation_grade="一般", rectification_round=2,
            report_conclusion="基本履职")))
        record = s.scalar(select(IntegrityRecord).where(IntegrityRecord.case_id == case_id))
        assert (record.overall_score, record.grade, record.rectification_rounds, record.items_closed, record.items_open,
                record.repeated_count, record.listed_count, record.major_count) == (74.5, "一般", 2, 1, 1, 1, 1, 1)
        entry = cadre_file(s, record.person_id, NOW).cases[0]
        assert entry.archived and [(f["description"], f["status"], f["listed"], f["repeated"]) for f in entry.findings] \
            == [("混编混岗", "closed", True, True), ("账外账", "open", False, False)]


def _walk(engine, case_id: int, given: dict[str, dict], until=lambda: False, steps: int = 40) -> None:
    """Complete whatever step is ready with its form's example data (and `given` per step) until `until()`."""
    for _ in range(steps):
        ready = ready_steps(engine, case_id)
        if not ready or until():
            return
        complete_step(engine, case_id, ready[0], **given.get(ready[0], {}))


def test_a_case_walked_to_its_report_lands_in_its_cadres_file(engine):
    engine.clock = Clock(NOW)
    case_id = _case(engine, cadre_id_number=ZHANG_B)
    scores = {"review_personnel": {"personnel_score": 92}, "review_establishment": {"establishment_score": 85},
              "review_finance": {"finance_score": 80}, "issue_report": {"report_conclusion": "履职良好"}}
    _walk(engine, case_id, scores)  # every step with its form's example data, the reviews with scores, no findings
    assert engine.case(case_id)["status"] == "completed"
    with engine.db.reading() as s:
        record = s.scalar(select(IntegrityRecord).where(IntegrityRecord.case_id == case_id))
        file = cadre_file(s, record.person_id, NOW)
        assert file.person.id_number == ZHANG_B
        assert [(c.case_id, c.scores["personnel"], c.conclusion) for c in file.cases] == [(case_id, 92.0, "履职良好")]
        assert s.get(Case, case_id).status == "completed"


def test_a_case_with_finance_findings_files_their_points_for_its_cadre(engine):
    engine.clock = Clock(NOW)
    with engine.db.transaction() as s:
        person = ensure_person(s, ZHANG_A, "张伟", NOW)
        _points(s, person.id, 2025, 2, 2, 2, 2)  # 8 last year
    case_id = _case(engine, cadre_id_number=ZHANG_A)
    finding = {"description": "私设小金库", "severity": "major", "problem_category": "slush_fund",
               "responsibility_type": "direct", "demerit_points": 2}
    given = {"review_finance": {"finance_findings": [finding, dict(finding, description="白条入账",
                                                                   problem_category="white_slips")]}}

    def filed() -> bool:
        with engine.db.reading() as s:
            return bool(s.scalars(select(DemeritEntry).where(DemeritEntry.case_id == case_id)).all())

    _walk(engine, case_id, given, filed)
    assert filed(), ready_steps(engine, case_id)
    data = engine.case(case_id)["data"]
    assert (data["demerit_total"], data["demerit_consequence"]) == (4.0, "demotion")  # 8 + 4: 12 over two years
    with engine.db.reading() as s:
        years = {y.year: y.reason for y in cadre_file(s, person.id, NOW).demerits}
    assert years == {2026: "连续两年累计扣分12分以上", 2025: "年度累计扣分6分以上"}


def test_a_late_rectification_report_ends_in_a_sanction_in_the_cadres_file(engine):
    clock = engine.clock = Clock(NOW)
    case_id = _case(engine, cadre_id_number=ZHANG_A)
    finding = {"description": "私设小金库", "severity": "major", "problem_category": "slush_fund",
               "responsibility_type": "direct", "demerit_points": 1}
    given = {"review_finance": {"finance_findings": [finding]}, "consolidate": {"rectification_deadline": "2026-12-31"}, "feedback": {"feedback_date": "2026-12-02"},
             "hold_accountable": {"accountability_outcome": "demoted", "accountability_decision": "降职处理",
                                  "accountability_decided_on": "2027-02-01"}}

    def sanctioned() -> bool:
        if "report_rectification" in ready_steps(engine, case_id):
            clock.now = datetime(2027, 2, 1, 2, 0)  # the unit reports a month after the deadline
        with engine.db.reading() as s:
            return bool(s.scalars(select(Sanction).where(Sanction.case_id == case_id)).all())

    _walk(engine, case_id, given, sanctioned)
    with engine.db.reading() as s:
        sanction = s.scalars(select(Sanction).where(Sanction.case_id == case_id)).one()
        assert (sanction.outcome, sanction.ground, sanction.ban_text()) == ("demoted", "late_report", "2029-02-01 前不得提拔")
        assert "降职处理" in sanction.reason
        assert cadre_file(s, sanction.person_id, clock.now).running_bans == [sanction]


def test_suzhou_grade_codes_read_as_their_chinese_names_in_the_file(engine):
    # Suzhou's 情况汇总 form stores the grade's code; the file shows 较好, never "fairly_good".
    case_id = _case(engine, cadre_id_number=ZHANG_A)
    with engine.db.transaction() as s:
        registered()["integrity_file.archive"](ctx(s, case_id, dict(CASE_FACTS, cadre_id_number=ZHANG_A,
                                                                    evaluation_grade="fairly_good", findings=[])))
    with engine.db.reading() as s:
        person = search_people(s, "张伟")[0]
        assert cadre_file(s, person.id, NOW).cases[0].grade == "较好"
        assert s.scalar(select(IntegrityRecord.grade)) == "较好"
