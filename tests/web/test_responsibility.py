"""The responsibility pages (五式履责): every signed-in clerk browses every unit's lists, key tasks, lights and
progress (全市各单位均可通过平台进行浏览) read-only; only the unit's clerk reports progress and edits its lists
(another unit's clerk gets 403); the page of red tasks lists what the discipline bodies lit red."""
from __future__ import annotations

from datetime import datetime
from html import unescape

import pytest
from sqlalchemy import select

from engine.accounts import add_user
from engine.casefile import Upload, add_attachment
from engine.worker import TimerRunner
from handlers import units
from handlers.key_tasks import KeyTask
from tests.conftest import Clock, as_user, make_engine

NOW = datetime(2027, 1, 5, 2, 0)
TASK = {"unit": "戴窑镇", "year": 2027, "title": "规范农村集体“三资”管理", "leader": "王芳", "lead_office": "农经站",
        "target": "村级集体资产全部纳入平台管理", "measures": "清产核资；专项审计", "deadline": "2027-12-20",
        "milestones": [{"name": "完成清产核资", "due": "2027-06-30"}]}


@pytest.fixture
def world(tmp_path, monkeypatch):
    monkeypatch.setenv("DUBAN_ATTACHMENTS", str(tmp_path / "files"))
    url = f"sqlite:///{tmp_path}/r.db"
    eng = make_engine(url)
    eng.clock = Clock(NOW)
    with eng.db.transaction() as s:
        units.ensure(s, "兴化市", kind="city")
        for name in ("戴窑镇", "沙沟镇"):
            units.ensure(s, name, parent="兴化市", kind="town")
        add_user(s, "clerk_shagou", "correct horse battery", ["unit"], ["沙沟镇"], display_name="沙沟镇党政办")
        add_user(s, "jjz_daiyao", "correct horse battery", ["discipline"], ["戴窑镇"], display_name="戴窑镇纪委")
    case_id = eng.start_case("key_task", TASK, as_user(eng, "unit"))
    [item] = eng.tasks(case_id=case_id)
    with eng.db.transaction() as s:
        add_attachment(s, case_id, Upload("清产核资进度表.pdf", b"%PDF-1.4 progress"), "unit", NOW, item["id"])
    eng.complete(item["id"], {"action": "progress", "progress_text": "已完成5个村清产核资", "percent": 30},
                 as_user(eng, "unit"))
    eng.clock.now = datetime(2027, 3, 31, 16, 0, 1)
    TimerRunner(eng, "w").run_due()
    rate = [i for i in eng.tasks(case_id=case_id) if i["step_id"] == "rate_quarter"][0]
    eng.complete(rate["id"], {"light": "red", "reason": "专项审计未启动"}, as_user(eng, "jjz_daiyao"))
    with eng.db.reading() as s:
        task_id = s.scalars(select(KeyTask.id)).one()
    from web import create_app

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "t", "TESTING": True, "WTF_CSRF_ENABLED": False})
    app.extensions["duban"].clock = Clock(datetime(2027, 4, 2, 2, 0))
    return {"engine": eng, "app": app, "case": case_id, "task": task_id}


def login(app, username, password="demo"):
    client = app.test_client()
    assert client.post("/login", data={"username": username, "password": password}).status_code == 302
    return client


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def test_another_units_clerk_browses_the_task_its_light_and_progress_read_only(world):
    shagou = login(world["app"], "clerk_shagou", "correct horse battery")
    overview = text(shagou.get("/responsibility/?year=2027"))
    assert "戴窑镇" in overview and "沙沟镇" in overview and "兴化市" not in overview.split("<table")[1]
    unit_page = text(shagou.get("/responsibility/units/戴窑镇?year=2027"))
    assert "规范农村集体“三资”管理" in unit_page and "王芳" in unit_page and "红灯" in unit_page
    assert "2027-06-30 完成清产核资" in unit_page and "已完成5个村清产核资" in unit_page
    assert "编辑责任清单" not in unit_page
    page = text(shagou.get(f"/responsibility/tasks/{world['task']}"))
    assert "专项审计未启动" in page and "戴窑镇纪委" in page and "清产核资进度表.pdf" in page
    assert "办理：" not in page  # no work for him here
    download = shagou.get(page.split('href="')[[i for i, p in enumerate(page.split('href="')) if p.startswith("/responsibility/attachments/")][0]].split('"')[0])
    assert download.status_code == 200 and download.data == b"%PDF-1.4 progress"
    # but he cannot report the other unit's progress, nor open its case or edit its lists
    [item] = [i for i in world["engine"].tasks(case_id=world["case"]) if i["step_id"] == "update_progress"]
    refused = shagou.post(f"/tasks/{item['id']}", data={"action": "progress", "progress_text": "冒名报送"})
    assert refused.status_code == 403
    assert shagou.get(f"/cases/{world['case']}").status_code == 403
    assert shagou.get("/responsibility/units/戴窑镇/lists").status_code == 403
    assert shagou.post("/responsibility/units/戴窑镇/lists", data={"party_committee_1": "x"}).status_code == 403
    with world["engine"].db.reading() as s:
        from handlers.key_tasks import progress
        assert [u.text for u in progress(s, world["task"])] == ["已完成5个村清产核资"]


def test_the_units_clerk_reports_from_the_task_page_and_edits_its_four_lists(world):
    daiyao = login(world["app"], "unit")
    page = text(daiyao.get(f"/responsibility/tasks/{world['task']}"))
    assert "办理：报送任务进展" in page
    form = {"party_committee_1": "加强对党风廉政建设的领导", "principal_2": "管好班子、带好队伍、管好自己",
            "discipline_1": "协助党委加强党风廉政建设和组织协调反腐败工作"}
    saved = daiyao.post("/responsibility/units/戴窑镇/lists?year=2027", data=form)
    assert saved.status_code == 302
    unit_page = text(daiyao.get("/responsibility/units/戴窑镇?year=2027"))
    for value in form.values():
        assert value in unit_page
    assert "编辑责任清单" in unit_page
    too_long = daiyao.post("/responsibility/units/戴窑镇/lists?year=2027", data={"members_3": "长" * 2001})
    assert too_long.status_code == 400 and "第 3 项不超过 2000 字" in text(too_long)
    assert "管好班子、带好队伍、管好自己" in text(daiyao.get("/responsibility/units/戴窑镇?year=2027"))  # kept
    shagou = login(world["app"], "clerk_shagou", "correct horse battery")
    assert "加强对党风廉政建设的领导" in text(shagou.get("/responsibility/units/戴窑镇?year=2027"))  # open to all


def test_the_red_page_lists_tasks_whose_latest_light_is_red(world):
    client = login(world["app"], "supervisor")
    page = text(client.get("/responsibility/red?year=2027"))
    assert "规范农村集体“三资”管理" in page and "专项审计未启动" in page
    assert "规范农村集体“三资”管理" not in text(client.get("/responsibility/red?year=2026"))
    assert client.get("/responsibility/units/不存在的单位").status_code == 404
    assert client.get("/responsibility/tasks/99999").status_code == 404
    assert client.get("/responsibility/attachments/99999").status_code == 404
    assert world["app"].test_client().get("/responsibility/").status_code == 302  # signed in only
