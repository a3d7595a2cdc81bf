"""A designer's drafts and the files of a version: downloads byte-identical to what was deployed, a draft saved with
the problems `duban validate` prints, deploy refused whole when invalid, and the diff a designer checks before."""
from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine import drafts
from engine.access import Actor
from engine.audit import entries
from engine.errors import Conflict, Forbidden, InvalidData, ValidationFailed
from engine.models import ProcessDraft, ProcessVersion
from engine.validation import check_paths
from engine.version_diff import diff_files

PROCESSES = Path(__file__).resolve().parents[2] / "processes"
KEY = "joint_audit_xinghua"
BPMN = f"{KEY}.bpmn"
DESIGNER = Actor("designer", frozenset({"designer"}))
NOW = datetime(2026, 12, 3, 9, 0)


def _version(engine, key=KEY, version=None):
    with engine.db.reading() as session:
        query = select(ProcessVersion.id).where(ProcessVersion.process_key == key)
        if version:
            query = query.where(ProcessVersion.version == version)
        return session.scalar(query.order_by(ProcessVersion.version.desc()).limit(1))


def _count(engine, key=KEY):
    with engine.db.reading() as session:
        return session.scalar(select(func.count()).select_from(ProcessVersion).where(ProcessVersion.process_key == key))


def _draft(engine):
    with engine.db.transaction() as session:
        return drafts.create_draft(session, KEY, DESIGNER, NOW).id


def _save(engine, draft_id, files):
    with engine.db.transaction() as session:
        return drafts.save_draft(session, draft_id, files, DESIGNER, NOW)


def _files(engine, draft_id):
    with engine.db.reading() as session:
        return dict(drafts.get_draft(session, draft_id).files)


def test_every_file_of_every_version_downloads_byte_identical_and_the_archive_redeploys_as_the_same_version(engine, tmp_path):
    with engine.db.reading() as session:
        ids = session.scalars(select(ProcessVersion.id)).all()
        assert ids
        for version_id in ids:
            files = drafts.version_files(session, version_id)
            for path, text in files.items():
                assert text.encode("utf-8") == (PROCESSES / path).read_bytes(), path
        archive = drafts.version_archive(session, _version(engine))
    with zipfile.ZipFile(io.BytesIO(archive)) as unzipped:
        names = unzipped.namelist()
        assert BPMN in names and any(n.startswith("forms/") for n in names)
        unzipped.extractall(tmp_path)
    assert (tmp_path / BPMN).read_bytes() == (PROCESSES / BPMN).read_bytes()
    problems, _ = check_paths([str(tmp_path)])
    assert problems == []
    again = engine.deploy([str(tmp_path)], "designer")
    assert {d.process_key: d.new for d in again}[KEY] is False  # same content: the same version, not a new one


def test_a_task_moved_out_of_its_lane_is_saved_with_its_problem_on_that_element(engine):
    draft_id = _draft(engine)
    text = _files(engine, draft_id)[BPMN]
    task = "pre_audit_publicity"
    edited, count = re.subn(rf"\s*<bpmn:flowNodeRef>{task}</bpmn:flowNodeRef>", "", text)
    assert count == 1
    problems = _save(engine, draft_id, {BPMN: edited})
    assert [(p.element_id, p.code) for p in problems] == [(task, "lane.missing")]
    line = next(i for i, row in enumerate(edited.splitlines(), 1) if f'id="{task}"' in row)
    assert problems[0].file == BPMN and problems[0].line == line
    assert str(problems[0]).startswith(f"{BPMN}:{line}: {task}: ")
    assert _files(engine, draft_id)[BPMN] == edited  # saved although invalid: the designer sees and fixes it
    with engine.db.reading() as session:
        assert drafts.get_draft(session, draft_id).problems[0]["element_id"] == task
    before = _count(engine)
    with pytest.raises(ValidationFailed) as refused:
        drafts.deploy_draft(engine, draft_id, DESIGNER)
    assert any(p.element_id == task for p in refused.value.details)
    assert _count(engine) == before
    assert _save(engine, draft_id, {BPMN: text}) == []


def test_a_form_edited_in_a_draft_deploys_as_the_next_version_with_the_diff_in_the_audit_log(engine):
    draft_id = _draft(engine)
    form_path = "forms/approve_report.json"
    schema = json.loads(_files(engine, draft_id)[form_path])
    schema["properties"]["extra_note"] = {"type": "string", "title": "补充说明"}
    text = _files(engine, draft_id)[BPMN].replace('name="审前公示"', 'name="审前公开公示"', 1)
    assert _save(engine, draft_id, {form_path: json.dumps(schema, ensure_ascii=False, indent=2), BPMN: text}) == []
    with engine.db.reading() as session:
        diff = drafts.draft_diff(session, draft_id).as_dict()
    changed = {e["element_id"]: e["details"] for e in diff["elements"]}
    assert changed["pre_audit_publicity"] == ["名称：审前公示 → 审前公开公示"]
    assert changed["approve_report"] == ["表单 approve_report.json：新增字段“补充说明”"]
    before = _count(engine)
    outcome = drafts.deploy_draft(engine, draft_id, DESIGNER)
    assert outcome["version"] == before + 1 and outcome["new"] is True
    with engine.db.reading() as session:
        assert drafts.get_draft(session, draft_id).status == "deployed"
        new_id = _version(engine)
        assert drafts.version_files(session, new_id)[form_path] == json.dumps(schema, ensure_ascii=False, indent=2)
        deployed = entries(session, action="deployed", subject_prefix=f"process:{KEY}")[0]
        assert deployed.actor == "designer" and deployed.detail["version"] == before + 1
        assert deployed.detail["diff"]["elements"] == diff["elements"]
        assert [e.action for e in entries(session, subject_prefix=f"draft:{draft_id}")] == ["draft_saved", "draft_created"]
    with pytest.raises(Conflict):
        drafts.deploy_draft(engine, draft_id, DESIGNER)


def test_only_designers_edit_and_only_a_draft_s_own_files(engine):
    clerk = Actor("organization", frozenset({"organization"}))
    supervisor = Actor("supervisor", frozenset({"supervisor"}))
    for actor in (clerk, supervisor):
        with pytest.raises(Forbidden), engine.db.transaction() as session:
            drafts.create_draft(session, KEY, actor, NOW)
    draft_id = _draft(engine)
    with pytest.raises(Forbidden):
        _save_as(engine, draft_id, supervisor)
    for bad in ("../x.bpmn", "forms/../../etc.json", "other.bpmn", "forms/.hidden.json", "scripts/a.py"):
        with pytest.raises(InvalidData):
            _save(engine, draft_id, {bad: "<x/>"})
    with pytest.raises(InvalidData):
        _save(engine, draft_id, {BPMN: None})
    with engine.db.reading() as session:
        assert session.scalar(select(ProcessDraft.status).where(ProcessDraft.id == draft_id)) == "open"


def _save_as(engine, draft_id, actor):
    with engine.db.transaction() as session:
        drafts.save_draft(session, draft_id, {}, actor, NOW)


def test_hostile_text_in_a_draft_is_a_problem_not_a_crash(engine):
    draft_id = _draft(engine)
    original = _files(engine, draft_id)[BPMN]
    for text in ("not xml at all", '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'):
        problems = _save(engine, draft_id, {BPMN: text})
        assert problems and all(p.file == BPMN for p in problems)
        assert not any("/tmp" in p.message for p in problems)
    assert any(p.code == "form.invalid" for p in _save(engine, draft_id, {BPMN: original,
                                                                     "forms/approve_report.json": "{oops"}))


def test_the_diff_names_each_change_a_designer_makes():
    old = (PROCESSES / BPMN).read_text(encoding="utf-8")
    new = old.replace('name="审前公示"', 'name="审前公开公示"', 1)
    new = re.sub(r'(<bpmn:userTask id="issue_notice".*?dueIn" value=")P5D', r"\g<1>P7D", new, count=1, flags=re.S)
    diff = diff_files({BPMN: old}, {BPMN: new}, KEY)
    assert {e.element_id: (e.change, e.details) for e in diff.elements} == {
        "pre_audit_publicity": ("changed", ["名称：审前公示 → 审前公开公示"]),
        "issue_notice": ("changed", ["期限：P5D → P7D"])}
    assert diff_files({BPMN: old}, {BPMN: old}, KEY).empty
