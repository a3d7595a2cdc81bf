"""The `duban` command end to end, as a script would drive it."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from engine.forms import example_data
from tests.conftest import CASE_FACTS, PROCESSES, REPO


@pytest.fixture
def duban(tmp_path):
    env = {**os.environ, "DUBAN_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}

    def run(*args: str, ok: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run([sys.executable, "-m", "engine.cli", *args], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=120)
        assert "Traceback" not in proc.stderr, proc.stderr
        if ok:
            assert proc.returncode == 0, proc.stderr
        return proc

    run("init", "--demo")
    return run


def test_a_case_from_start_to_the_parallel_reviews(duban):
    out = duban("deploy", str(PROCESSES)).stdout.splitlines()
    processes = [line.split() for line in out if not line.startswith("决策表 ")]
    tables = [line.split()[1:] for line in out if line.startswith("决策表 ")]
    library = sorted(re.findall(r'<bpmn:process id="([^"]+)"', "".join(f.read_text() for f in PROCESSES.glob("*.bpmn"))))
    assert {"joint_audit_suzhou", "joint_audit_xinghua", "accountability_campaign", "complaint"} <= set(library)
    assert sorted(p[:2] for p in processes) == [[key, "1"] for key in library]
    decisions = sorted(f.stem for f in (PROCESSES / "decisions").glob("*.dmn"))
    assert {"audit_required", "demerit_consequence", "evaluation_grade", "must_investigate"} <= set(decisions)
    assert sorted(t[:2] for t in tables) == [[d, "1"] for d in decisions]
    assert all(len(line[2]) == 64 for line in processes + tables)
    again = duban("deploy", str(PROCESSES)).stdout
    assert again.count("(unchanged)") == len(library) + len(decisions)  # identical files are a no-op

    case_id = int(duban("start", "joint_audit_xinghua", "--as", "organization", "--data", json.dumps(CASE_FACTS)).stdout)
    items = json.loads(duban("tasks", "--case", str(case_id), "--as", "organization", "--json").stdout)
    assert [i["step_id"] for i in items] == ["issue_notice"]
    item = items[0]
    assert {"id", "case_id", "step_id", "step_name", "role", "unit", "assignee", "due_at", "form"} <= set(item)
    assert item["step_name"] == "下发联审通知" and item["unit"] == "戴窑镇" and item["form"]["type"] == "object"
    assert duban("tasks", "--as", "unit", "--json").stdout.strip() == "[]"  # not the unit's lane

    bad = duban("complete", str(item["id"]), "--as", "organization", "--data", "{}", ok=False)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1 and "必填" in bad.stderr
    forbidden = duban("complete", str(item["id"]), "--as", "audit", "--data", "{}", ok=False)
    assert forbidden.returncode == 3 and "组织部" in forbidden.stderr and "organization" not in forbidden.stderr  # the role by its name

    data = json.dumps(example_data(item["form"]))
    done = duban("complete", str(item["id"]), "--as", "organization", "--data", data).stdout
    assert "当前步骤：组织部会签联审通知、编办会签联审通知、审计局会签联审通知" in done  # 会签 by the three, named
    stale = duban("complete", str(item["id"]), "--as", "organization", "--data", data, ok=False)
    assert stale.returncode == 5 and "已办结" in stale.stderr

    signs = json.loads(duban("tasks", "--case", str(case_id), "--json").stdout)
    assert sorted((i["step_id"], i["role"]) for i in signs) == [
        ("countersign_notice_audit", "audit"), ("countersign_notice_organization", "organization"),
        ("countersign_notice_staffing", "staffing")]
    outs = [duban("complete", str(i["id"]), "--as", i["role"], "--data", json.dumps(example_data(i["form"]))).stdout
            for i in signs]
    assert "审前公示" not in outs[0] + outs[1] and "当前步骤：审前公示" in outs[2]  # waits for all three
    for step in ("pre_audit_publicity", "implementation_plan", "entry_meeting"):
        (nxt,) = json.loads(duban("tasks", "--case", str(case_id), "--json").stdout)
        assert nxt["step_id"] == step
        duban("complete", str(nxt["id"]), "--as", "organization", "--data", json.dumps(example_data(nxt["form"])))
    steps = sorted(i["step_id"] for i in json.loads(duban("tasks", "--case", str(case_id), "--json").stdout))
    assert steps == ["review_establishment", "review_finance", "review_personnel"]

    view = json.loads(duban("case", str(case_id), "--json").stdout)
    assert view["status"] == "running" and len(view["current_steps"]) == 3
    completed = [e for e in view["history"] if e["kind"] == "task_completed"]
    assert [e["actor"] for e in completed] == ["organization", *(i["role"] for i in signs), "organization",
                                              "organization", "organization"]
    assert completed[0]["after"]["notice_no"] and completed[0]["before"]["notice_no"] is None
    assert "历史" in duban("case", str(case_id)).stdout


def test_validate_and_bad_arguments_give_one_line_not_a_traceback(duban, tmp_path):
    assert duban("validate", str(PROCESSES)).returncode == 0
    broken = tmp_path / "broken.bpmn"
    broken.write_text("<bpmn:definitions xmlns:bpmn='http://www.omg.org/spec/BPMN/20100524/MODEL'>\n<oops>")
    proc = duban("validate", str(broken), ok=False)
    assert proc.returncode == 1 and proc.stdout.startswith(f"{broken}:")
    assert duban("start", "no_such_process", ok=False).returncode == 4
    assert duban("start", "joint_audit_xinghua", "--data", "not json", ok=False).returncode == 2
    assert duban("case", "999", ok=False).returncode == 4
    assert duban("tasks", "--as", "nobody", ok=False).returncode == 4


def test_accounts_need_real_passwords_and_tokens_work_with_the_api(duban, tmp_path):
    weak = subprocess.run([sys.executable, "-m", "engine.cli", "user", "add", "zhou", "--role", "audit",
                           "--unit", "戴窑镇", "--password", "short"], cwd=REPO, capture_output=True, text=True,
                          env={**os.environ, "DUBAN_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"})
    assert weak.returncode == 2 and "至少 10 个字符" in weak.stderr
    made = duban("user", "add", "zhou", "--role", "audit", "--unit", "戴窑镇", "--password", "correct horse battery")
    assert "戴窑镇" in made.stdout
    token = duban("user", "token", "zhou").stdout.strip()
    assert len(token) > 30
    from web import create_app

    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "SECRET_KEY": "t"})
    response = app.test_client().get("/api/v1/tasks", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.get_json()["items"] == []
    assert duban("user", "token", "nobody", ok=False).returncode == 4
