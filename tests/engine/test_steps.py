"""One step, one transaction: failures write nothing, conflicts are clear, versions stay with their cases."""
from __future__ import annotations

import json
import threading

import pytest
from sqlalchemy import func, select

from engine.errors import Conflict, Forbidden, InvalidData, StepFailed
from engine.forms import example_data
from engine.models import Case, Event, WorkItem
from handlers import REGISTRY
from handlers.records import RectificationItem
from tests.conftest import CASE_FACTS, as_user, ready_steps

COUNTERSIGN_NOTICE = ["countersign_notice_audit", "countersign_notice_organization", "countersign_notice_staffing"]

MINI = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs" targetNamespace="x">
  <bpmn:process id="mini" name="{name}" isExecutable="true">
    <bpmn:laneSet id="lanes"><bpmn:lane id="organization" name="组织部">
      <bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>fill</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>svc</bpmn:flowNodeRef><bpmn:flowNodeRef>end</bpmn:flowNodeRef>
    </bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start"/>
    <bpmn:userTask id="fill" name="{step}">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="mini.json"/>
      </spiffworkflow:properties></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:serviceTask id="svc" name="处理">
      <bpmn:extensionElements><spiffworkflow:serviceTaskOperator id="{handler}"/></bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="fill"/>
    <bpmn:sequenceFlow id="f2" sourceRef="fill" targetRef="svc"/>
    <bpmn:sequenceFlow id="f3" sourceRef="svc" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>
"""
FORM = {"type": "object", "properties": {"amount": {"type": "integer", "title": "金额", "minimum": 0}},
        "required": ["amount"], "additionalProperties": False}


def _mini(tmp_path, engine, handler="findings.merge", step="填写", name="小流程"):
    (tmp_path / "forms").mkdir(exist_ok=True)
    (tmp_path / "forms" / "mini.json").write_text(json.dumps(FORM))
    path = tmp_path / "mini.bpmn"
    path.write_text(MINI.format(handler=handler, step=step, name=name), encoding="utf-8")
    return engine.deploy([str(path)])[0]


def _snapshot(engine, case_id):
    with engine.db.reading() as s:
        case = s.get(Case, case_id)
        return (case.lock_version, case.state_json, case.status,
                s.scalar(select(func.count()).select_from(Event).where(Event.case_id == case_id)),
                s.scalars(select(WorkItem.status).where(WorkItem.case_id == case_id)).all(),
                s.scalar(select(func.count()).select_from(RectificationItem)))


def test_a_failing_handler_puts_the_case_in_error_and_a_retry_finishes_the_step(engine, tmp_path):
    from engine import incidents
    from engine.models import Incident

    def boom(ctx):
        ctx.session.add(RectificationItem(case_id=ctx.case_id, item_no=1, duty="finance", description="x",
                                          severity="major", unit="u", contact_role="principal", contact_name="n",
                                          opened_at=ctx.now))
        ctx.session.flush()
        raise RuntimeError("账务系统无响应")

    REGISTRY["test.boom"] = boom
    try:
        _mini(tmp_path, engine, handler="test.boom")
        case_id = engine.start_case("mini", {}, as_user(engine, "organization"))
        lock, state, _, events, items, rows = _snapshot(engine, case_id)
        (item,) = engine.tasks(case_id=case_id)
        with pytest.raises(StepFailed, match="账务系统无响应"):
            engine.complete(item["id"], {"amount": 5}, as_user(engine, "organization"))
        # The case waits in error with an incident; its state, work and domain rows are as before.
        assert _snapshot(engine, case_id) == (lock, state, "error", events + 1, items, rows)
        (incident,) = incidents.open_incidents(engine, case_id)
        assert (incident.step_id, incident.action["data"]) == ("svc", {"amount": 5})
        assert "RuntimeError: 账务系统无响应" in incident.trace and "账务系统无响应" in incident.message
        with pytest.raises(Conflict, match="系统异常"):
            engine.complete(item["id"], {"amount": 5}, as_user(engine, "organization"))
        with pytest.raises(Forbidden):
            incidents.retry(engine, case_id, as_user(engine, "organization"))
        # Fixed: the supervisor retries and the clerk's completion goes through as submitted.
        REGISTRY["test.boom"] = lambda ctx: {"ok": True}
        assert incidents.retry(engine, case_id, as_user(engine, "supervisor")) == "completed"
        view = engine.case(case_id)
        assert view["status"] == "completed"
        kinds = [e["kind"] for e in view["history"]]
        assert kinds.index("incident") < kinds.index("case_retried") < kinds.index("task_completed")
        with engine.db.reading() as s:
            assert s.scalar(select(Incident.status).where(Incident.id == incident.id)) == "resolved"
    finally:
        REGISTRY.pop("test.boom", None)


def test_supervisor_suspends_resumes_and_terminates(engine):
    from engine import incidents

    case_id = engine.start_case("joint_audit_xinghua", dict(CASE_FACTS), as_user(engine, "organization"))
    supervisor = as_user(engine, "supervisor")
    (item,) = engine.tasks(case_id=case_id)
    incidents.suspend(engine, case_id, supervisor, "等待纪委意见")
    with pytest.raises(Conflict, match="已暂停"):
        engine.complete(item["id"], example_data(item["form"]), as_user(engine, "organization"))
    incidents.resume(engine, case_id, supervisor)
    engine.complete(item["id"], example_data(item["form"]), as_user(engine, "organization"))
    incidents.terminate(engine, case_id, supervisor, "干部已调离，终止联审")
    view = engine.case(case_id)
    assert view["status"] == "terminated" and view["work_items"] == [] and engine.tasks(case_id=case_id) == []
    kinds = [(e["kind"], e["actor"]) for e in view["history"]]
    assert ("case_suspended", "supervisor") in kinds and ("case_terminated", "supervisor") in kinds
    with pytest.raises(Conflict):
        incidents.resume(engine, case_id, supervisor)


def test_invalid_form_data_names_the_field_and_changes_nothing(engine, tmp_path):
    _mini(tmp_path, engine)
    case_id = engine.start_case("mini", {}, as_user(engine, "organization"))
    before = _snapshot(engine, case_id)
    (item,) = engine.tasks(case_id=case_id)
    with pytest.raises(InvalidData) as err:
        engine.complete(item["id"], {"amount": -1, "extra": 1}, as_user(engine, "organization"))
    assert err.value.details == {"amount": ["不能小于 0"], "(表单)": ["不允许的字段：extra"]}
    with pytest.raises(InvalidData) as err:
        engine.complete(item["id"], {}, as_user(engine, "organization"))
    assert err.value.details == {"amount": ["必填项"]}
    assert _snapshot(engine, case_id) == before


def test_a_stale_completion_is_a_conflict(engine):
    case_id = engine.start_case("joint_audit_xinghua", dict(CASE_FACTS), as_user(engine, "organization"))
    seen = engine.case(case_id)["lock_version"]
    (item,) = engine.tasks(case_id=case_id)
    engine.complete(item["id"], example_data(item["form"]), as_user(engine, "organization"), expected_version=seen)
    (nxt,) = [i for i in engine.tasks(case_id=case_id) if i["step_id"] == "countersign_notice_organization"]
    with pytest.raises(Conflict, match="已被他人更新"):
        engine.complete(nxt["id"], example_data(nxt["form"]), as_user(engine, "organization"), expected_version=seen)
    with pytest.raises(Conflict, match="已办结"):
        engine.complete(item["id"], example_data(item["form"]), as_user(engine, "organization"))


def test_threads_racing_for_one_item_on_sqlite_one_wins(engine):
    case_ids = [engine.start_case("joint_audit_xinghua", dict(CASE_FACTS), as_user(engine, "organization"))
                for _ in range(10)]
    for case_id in case_ids:
        (item,) = engine.tasks(case_id=case_id)
        outcomes, barrier = [], threading.Barrier(2)

        def race():
            barrier.wait()
            try:
                engine.complete(item["id"], example_data(item["form"]), as_user(engine, "organization"))
                outcomes.append("won")
            except Conflict:
                outcomes.append("conflict")

        threads = [threading.Thread(target=race) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(outcomes) == ["conflict", "won"]
        assert ready_steps(engine, case_id) == COUNTERSIGN_NOTICE  # issue_notice completed once


def test_running_cases_keep_their_version_new_cases_take_the_latest(engine, tmp_path):
    first = _mini(tmp_path, engine, step="填写")
    old_case = engine.start_case("mini", {}, as_user(engine, "organization"))
    second = _mini(tmp_path, engine, step="填写金额")
    assert (first.version, second.version, second.new) == (1, 2, True)
    assert _mini(tmp_path, engine, step="填写金额").new is False
    new_case = engine.start_case("mini", {}, as_user(engine, "organization"))
    names = {i["case_id"]: i["step_name"] for i in engine.tasks() if i["case_id"] in (old_case, new_case)}
    assert names == {old_case: "填写", new_case: "填写金额"}
    assert (engine.case(old_case)["version"], engine.case(new_case)["version"]) == (1, 2)
    for case_id in (old_case, new_case):
        (item,) = engine.tasks(case_id=case_id)
        engine.complete(item["id"], {"amount": 1}, as_user(engine, "organization"))
        assert engine.case(case_id)["status"] == "completed"


def test_role_and_unit_scope_guard_every_completion(engine):
    from engine.accounts import add_user
    from engine.errors import Forbidden

    with engine.db.transaction() as s:
        add_user(s, "clerk_other_town", "correct horse battery", ["organization"], ["沙沟镇"])
    case_id = engine.start_case("joint_audit_xinghua", dict(CASE_FACTS), as_user(engine, "organization"))
    (item,) = engine.tasks(case_id=case_id)
    data = example_data(item["form"])
    assert engine.tasks(as_user(engine, "clerk_other_town"), case_id) == []
    with pytest.raises(Forbidden, match="无权办理此事项"):  # says whose it is not, not whose it is
        engine.complete(item["id"], data, as_user(engine, "clerk_other_town"))
    with pytest.raises(Forbidden, match="角色"):
        engine.complete(item["id"], data, as_user(engine, "unit"))
    with pytest.raises(Forbidden):
        engine.case(case_id, as_user(engine, "clerk_other_town"))
    with pytest.raises(Forbidden):
        engine.start_case("joint_audit_xinghua", dict(CASE_FACTS), as_user(engine, "audit"))
    assert engine.case(case_id, as_user(engine, "supervisor"))["status"] == "running"
