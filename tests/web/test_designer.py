"""The designer's pages (test client): who may see and change what, downloads exactly as deployed, a draft saved
with its problems, deploy refused whole when invalid, and migration batches that say which projects could not move."""
from __future__ import annotations

import io
import re
import zipfile
from html import unescape
from pathlib import Path

from sqlalchemy import func, select

from engine.audit import entries
from engine.models import Case, ProcessVersion
from engine.validation import check_paths
from tests.conftest import PROCESSES, as_user
from tests.web.test_designer_forms import login, world  # noqa: F401  (the app on a fresh database; a signed-in client)

KEY = "joint_audit_xinghua"
MOVING = Path(__file__).resolve().parents[1] / "fixtures" / "migration"


def page(response) -> str:
    return re.sub(r"<[^>]+>", " ", unescape(response.get_data(as_text=True)))


def _new_draft(client, key=KEY):
    response = client.post(f"/designer/processes/{key}/drafts")
    assert response.status_code == 302
    return response.headers["Location"]


def test_clerks_see_nothing_supervisors_read_and_only_designers_change(world):
    clerk, supervisor, designer = (login(world, u) for u in ("organization", "supervisor", "designer"))
    for path in ("/designer/", f"/designer/processes/{KEY}", f"/designer/processes/{KEY}/versions/1/download.bpmn"):
        assert clerk.get(path).status_code == 403
        assert supervisor.get(path).status_code == 200
    assert "流程设计" not in page(clerk.get("/"))
    assert supervisor.post(f"/designer/processes/{KEY}/drafts").status_code == 403
    assert supervisor.get(f"/designer/processes/{KEY}/versions/1/migrate").status_code == 403
    draft = _new_draft(designer)
    assert supervisor.get(draft).status_code == 403
    assert supervisor.post(draft, json={"xml": "<x/>"}).status_code == 403
    assert supervisor.post(draft + "/deploy").status_code == 403
    assert supervisor.post(f"/designer/processes/{KEY}/versions/1/migrate.json", json={"cases": [1]}).status_code == 403


def test_the_library_names_versions_deployers_and_running_projects(world):
    eng = world["engine"]
    from tests.conftest import CASE_FACTS

    eng.start_case(KEY, dict(CASE_FACTS), as_user(eng, "organization"))
    shown = page(login(world, "supervisor").get(f"/designer/processes/{KEY}"))
    assert "第 1 版" in shown and "当前" in shown
    row = re.search(r"第 1 版\s+当前\s+(\S+)\s+\S+ \S+\s+(\w{12})\s+(\d+)", shown)
    assert row and row.group(3) == "1"
    library = page(login(world, "designer").get("/designer/"))
    assert "兴化" in library and "必审" in library  # processes and decision tables by their Chinese names


def test_downloads_are_the_files_as_deployed_and_redeploy_as_is(world, tmp_path):
    tmp_path = tmp_path / "unzipped"
    client = login(world, "designer")
    bpmn = client.get(f"/designer/processes/{KEY}/versions/1/download.bpmn")
    assert bpmn.data == (PROCESSES / f"{KEY}.bpmn").read_bytes()
    assert f"{KEY}.bpmn" in bpmn.headers["Content-Disposition"]
    archive = client.get(f"/designer/processes/{KEY}/versions/1/download.zip")
    with zipfile.ZipFile(io.BytesIO(archive.data)) as unzipped:
        unzipped.extractall(tmp_path)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert path.read_bytes() == (PROCESSES / path.relative_to(tmp_path)).read_bytes()
    assert check_paths([str(tmp_path)])[0] == []


def test_a_draft_with_a_problem_is_saved_but_not_deployed(world):
    client = login(world, "designer")
    draft = _new_draft(client)
    xml = client.get(draft + "/draft.bpmn").get_data(as_text=True)
    broken = re.sub(r"\s*<bpmn:flowNodeRef>pre_audit_publicity</bpmn:flowNodeRef>", "", xml, count=1)
    saved = client.post(draft, json={"xml": broken}).get_json()
    assert [(p["element_id"], p["text"].split(": ")[0].split(":")[0]) for p in saved["problems"]] == [
        ("pre_audit_publicity", f"{KEY}.bpmn")]
    assert "不在任何泳道" in saved["problems"][0]["message"]
    assert client.post(draft, json={"nope": 1}).status_code == 400
    refused = client.post(draft + "/deploy", follow_redirects=True)
    assert "未部署" in page(refused)
    with world["engine"].db.reading() as session:
        assert session.scalar(select(func.count()).select_from(ProcessVersion)
                              .where(ProcessVersion.process_key == KEY)) == 1
    assert client.post(draft, json={"xml": xml.replace('name="审前公示"', 'name="审前公开公示"', 1)}).get_json()["problems"] == []
    assert "名称：审前公示 → 审前公开公示" in page(client.get(draft + "/diff"))
    deployed = client.post(draft + "/deploy")
    assert deployed.headers["Location"].endswith(f"/designer/processes/{KEY}/versions/2/migrate")
    with world["engine"].db.reading() as session:
        assert entries(session, action="deployed", subject_prefix=f"process:{KEY}")[0].actor == "designer"


def test_a_migration_batch_moves_who_can_and_names_why_the_others_cannot(world):
    eng = world["engine"]
    eng.deploy([str(MOVING / "v1")], "designer")
    organization = as_user(eng, "organization")
    audit = as_user(eng, "audit")
    cases = [eng.start_case("migration_demo", {"unit": "兴化市"}, organization) for _ in range(3)]
    item = next(i for i in eng.tasks(case_id=cases[0]) if i["step_id"] == "check")
    eng.complete(item["id"], {"note": "好"}, audit)  # case 0 now waits at 确认, which v2 removes
    eng.deploy([str(MOVING / "v2")], "designer")
    client = login(world, "designer")
    plan = page(client.get("/designer/processes/migration_demo/versions/2/migrate"))
    assert "不能迁移（1）" in plan and "当前步骤“确认”在新版本中已删除" in plan and "可迁移（2）" in plan
    results = client.post("/designer/processes/migration_demo/versions/2/migrate.json",
                          json={"cases": cases}).get_json()["results"]
    assert [(r["case_id"], r["moved"]) for r in results] == [(cases[0], False), (cases[1], True), (cases[2], True)]
    assert "当前步骤“确认”在新版本中已删除" in results[0]["reasons"][0]
    assert client.post("/designer/processes/migration_demo/versions/2/migrate.json", json={"cases": "all"}).status_code == 400
    with eng.db.reading() as session:
        versions = dict(session.execute(select(Case.id, ProcessVersion.version).join(
            ProcessVersion, ProcessVersion.id == Case.process_version_id).where(Case.id.in_(cases))).all())
    assert versions == {cases[0]: 1, cases[1]: 2, cases[2]: 2}
