"""Element ids are unique; a handler's name is not an id: many service tasks may call one handler."""
from __future__ import annotations

from pathlib import Path

from engine.validation import check_paths

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "refusal"


def test_two_service_tasks_may_call_the_same_handler(tmp_path, engine):
    xml = (FIXTURE / "check_then_sign.bpmn").read_text()
    second = '''    <bpmn:serviceTask id="check_again" name="再次核对">
      <bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="integrity_file.archive" resultVariable="again"/>
      </bpmn:extensionElements>
    </bpmn:serviceTask>
'''
    xml = xml.replace('tests.refuse_empty_note', 'integrity_file.archive')
    xml = xml.replace('    <bpmn:userTask id="sign"', second + '    <bpmn:userTask id="sign"')
    xml = xml.replace('<bpmn:flowNodeRef>sign</bpmn:flowNodeRef>',
                      '<bpmn:flowNodeRef>check_again</bpmn:flowNodeRef><bpmn:flowNodeRef>sign</bpmn:flowNodeRef>')
    xml = xml.replace('<bpmn:sequenceFlow id="f3" sourceRef="check" targetRef="sign"/>',
                      '<bpmn:sequenceFlow id="f3" sourceRef="check" targetRef="check_again"/>'
                      '<bpmn:sequenceFlow id="f3b" sourceRef="check_again" targetRef="sign"/>')
    (tmp_path / "forms").mkdir()
    (tmp_path / "forms" / "note.json").write_text((FIXTURE / "forms" / "note.json").read_text())
    (tmp_path / "twice.bpmn").write_text(xml)
    problems, parsed = check_paths([str(tmp_path)])
    assert problems == [] and parsed

    duplicated = xml.replace('id="check_again"', 'id="check"')
    (tmp_path / "twice.bpmn").write_text(duplicated)
    problems, _ = check_paths([str(tmp_path)])
    assert [p.code for p in problems if p.code == "id.duplicate"] == ["id.duplicate"]
