"""三员分立 on the web: the security administrator changes permissions, the audit administrator reads the log,
the system administrator checks the projections, and none of them can do another's work. Every sign-in, failed
sign-in and permission change is in the log, with who and from where."""
from __future__ import annotations

import re
from html import unescape

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from engine import audit
from engine.accounts import add_user, issue_token
from engine.cli import main
from engine.models import Case
from tests.conftest import CASE_FACTS, as_user
from tests.web.test_designer_forms import login, world  # noqa: F401 - the fixture

CLERK = "clerk_shagou"
PASSWORD = "correct horse battery"


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", unescape(response.get_data(as_text=True))))


@pytest.fixture
def office(world):
    with world["engine"].db.transaction() as s:
        clerk = add_user(s, CLERK, PASSWORD, ["organization"], ["沙沟镇"], "沙沟镇组织委员")
        world["token"] = issue_token(s, clerk, "clerk")
    return world


def _log(world, **filters):
    with world["engine"].db.reading() as s:
        return audit.entries(s, **filters)


@pytest.mark.parametrize("who, mine, others", [
    ("secadmin", "/admin/users", ["/admin/audit", "/admin/audit.xlsx", "/admin/system"]),
    ("auditadmin", "/admin/audit", ["/admin/users", f"/admin/users/{CLERK}", "/admin/system"]),
    ("sysadmin", "/admin/system", ["/admin/users", "/admin/audit", "/admin/audit.xlsx"]),
    ("organization", None, ["/admin/users", "/admin/audit", "/admin/system", "/admin/"]),
    ("supervisor", None, ["/admin/users", "/admin/audit", "/admin/system"]),
])
def test_each_administrator_sees_only_their_own_page(office, who, mine, others):
    client = login(office, who)
    if mine:
        assert client.get(mine).status_code == 200
        assert client.get("/admin/").headers["Location"].endswith(mine)
    for path in others:
        assert client.get(path).status_code == 403, path
    assert client.post(f"/admin/users/{CLERK}", data={"roles": ["supervisor"]}).status_code == (200 if who == "secadmin" else 403) or who == "secadmin"


def test_the_security_administrator_changes_a_clerks_roles_and_the_clerks_session_ends(office):
    clerk = office["app"].test_client()
    assert clerk.post("/login", data={"username": CLERK, "password": PASSWORD}).status_code == 302
    assert clerk.get("/").status_code == 200
    sec = login(office, "secadmin")
    page = _text(sec.get("/admin/users"))
    assert "沙沟镇组织委员" in page and "组织部" in page and "沙沟镇" in page
    saved = sec.post(f"/admin/users/{CLERK}", data={"roles": ["organization", "discipline"], "units": "沙沟镇\n戴窑镇"})
    assert saved.status_code == 302
    assert clerk.get("/").status_code == 302  # signed out: the new rights apply from the next sign-in
    (entry,) = _log(office, action="roles_changed")
    assert entry.actor == "secadmin" and entry.subject == f"user:{CLERK}"
    assert entry.detail == {"before": {"roles": ["organization"], "units": ["沙沟镇"]},
                            "after": {"roles": ["organization", "discipline"], "units": ["戴窑镇", "沙沟镇"]}}
    raw = sec.get(f"/admin/users/{CLERK}").get_data(as_text=True)
    edited = _text(sec.get(f"/admin/users/{CLERK}"))
    assert "由安全审计员查阅" in edited and 'id="history"' not in raw and "修改权限" not in edited
    assert "127.0.0.1" not in edited  # nothing of the audit log reaches the security administrator
    logged = _text(login(office, "auditadmin").get("/admin/audit?action=roles_changed"))
    assert "原：角色 组织部，单位 沙沟镇；新：角色 组织部、纪委监委，单位 戴窑镇、沙沟镇" in logged


def test_no_one_on_the_web_grants_an_administrator_role_or_edits_an_administrator_or_themselves(office):
    sec = login(office, "secadmin")
    assert sec.post(f"/admin/users/{CLERK}", data={"roles": ["auditadmin"]}).status_code == 403
    assert sec.post(f"/admin/users/{CLERK}", data={"roles": ["organization", "secadmin"]}).status_code == 400
    assert sec.post("/admin/users/auditadmin", data={"roles": ["organization"]}).status_code == 403
    assert sec.post("/admin/users/secadmin", data={"roles": ["supervisor"]}).status_code == 403
    assert sec.post("/admin/users/auditadmin/disabled", data={"disable": "1"}).status_code == 403
    assert "三员账号和您自己的账号只能由服务器上的运维人员" in _text(sec.get("/admin/users/auditadmin"))
    missing = sec.post(f"/admin/users/{CLERK}", data={"units": "沙沟镇"})
    assert missing.status_code == 400 and "请至少选择一个角色" in _text(missing)
    assert not _log(office, action="roles_changed")


def test_one_account_cannot_hold_two_administrator_roles_even_from_the_shell(office, monkeypatch):
    monkeypatch.setenv("DUBAN_DATABASE_URL", office["engine"].db.engine.url.render_as_string(hide_password=False))
    both = CliRunner().invoke(main, ["user", "role", "secadmin", "--role", "secadmin", "--role", "auditadmin"])
    assert both.exit_code == 2 and "三员分立" in both.output
    mixed = CliRunner().invoke(main, ["user", "role", "auditadmin", "--role", "auditadmin", "--role", "supervisor"])
    assert mixed.exit_code == 2
    ok = CliRunner().invoke(main, ["user", "role", CLERK, "--role", "supervisor"])
    assert ok.exit_code == 0, ok.output
    assert _log(office, action="roles_changed")[0].actor == "cli"


def test_a_disabled_account_cannot_sign_in_or_use_its_token(office):
    sec = login(office, "secadmin")
    assert sec.post(f"/admin/users/{CLERK}/disabled", data={"disable": "1"}).status_code == 302
    clerk = office["app"].test_client()
    assert clerk.post("/login", data={"username": CLERK, "password": PASSWORD}).status_code == 401
    assert clerk.get("/api/v1/tasks", headers={"Authorization": f"Bearer {office['token']}"}).status_code == 401
    assert sec.post(f"/admin/users/{CLERK}/disabled", data={"disable": "0"}).status_code == 302
    assert clerk.post("/login", data={"username": CLERK, "password": PASSWORD}).status_code == 302
    assert [e.action for e in _log(office, subject_prefix=f"user:{CLERK}")][:4] == [
        "sign_in", "account_enabled", "sign_in_failed", "account_disabled"]


def test_sign_ins_failures_and_sign_outs_are_in_the_log_with_the_address(office):
    client = office["app"].test_client()
    assert client.post("/login", data={"username": CLERK, "password": "wrong"}).status_code == 401
    assert client.post("/login", data={"username": "nobody", "password": "x"}).status_code == 401
    assert client.post("/login", data={"username": CLERK, "password": PASSWORD}).status_code == 302
    client.post("/logout")
    entries = _log(office, subject_prefix="user:")[:4]
    assert [(e.action, e.subject) for e in entries] == [
        ("sign_out", f"user:{CLERK}"), ("sign_in", f"user:{CLERK}"), ("sign_in_failed", "user:nobody"),
        ("sign_in_failed", f"user:{CLERK}")]
    assert all(e.detail["address"] == "127.0.0.1" for e in entries)
    assert {e.actor for e in entries if e.action == "sign_in_failed"} == {"-"}  # a typed name is no actor
    for _ in range(20):
        last = client.post("/login", data={"username": CLERK, "password": "wrong"})
    assert last.status_code == 429
    refused = _log(office, action="sign_in_refused")
    assert len(refused) == 1 and refused[0].detail["retry_after"] > 0  # a guesser cannot grow the log at will
    failed = _log(office, action="sign_in_failed", limit=1000)
    assert len(failed) <= 12


def test_the_audit_administrator_filters_verifies_and_exports_the_log(office):
    login(office, "secadmin").post(f"/admin/users/{CLERK}", data={"roles": ["discipline"]})
    auditor = login(office, "auditadmin")
    page = _text(auditor.get("/admin/audit?action=roles_changed"))
    assert "修改权限" in page and f"账号 沙沟镇组织委员（{CLERK}）" in page and "登录失败" not in page.split("序号")[1]
    ok = auditor.post("/admin/audit/verify", follow_redirects=True)
    assert "审计日志完整" in _text(ok)
    sheet = auditor.get("/admin/audit.xlsx?action=roles_changed")
    assert sheet.status_code == 200 and sheet.mimetype.endswith("spreadsheetml.sheet")
    actions = [e.action for e in _log(office)[:2]]
    assert actions == ["audit_exported", "audit_verified"]

    with office["engine"].db.engine.begin() as conn:  # by hand, past the triggers
        conn.exec_driver_sql("DROP TRIGGER audit_log_no_update")
        target = _log(office, action="roles_changed")[0].id
        conn.exec_driver_sql(f"UPDATE audit_log SET actor = 'someone' WHERE id = {target}")
    broken = _text(auditor.post("/admin/audit/verify", follow_redirects=True))
    assert f"审计日志被篡改：第 {target} 条起哈希链断开" in broken


def test_odd_filters_and_ids_are_ignored_not_a_500(office):
    auditor = login(office, "auditadmin")
    for query in ("from=0001-01-01&to=9999-12-31", "before=99999999999999999999", "before=-3", "action=%3Cb%3E",
                  "from=2026-13-40", "actor=" + "x" * 500):
        assert auditor.get(f"/admin/audit?{query}").status_code == 200, query
        assert auditor.get(f"/admin/audit.xlsx?{query}").status_code == 200, query
    admin = login(office, "sysadmin")
    assert admin.post("/admin/system/repair", data={"case": ["²", "9" * 40]}).status_code == 302
    assert admin.post("/admin/system/repair", data={"case": ["99999"]}).status_code == 200  # no such case: nothing


def test_the_system_administrator_finds_and_repairs_drift(office):
    engine = office["engine"]
    case_id = engine.start_case("joint_audit_xinghua", dict(CASE_FACTS), as_user(engine, "organization"))
    with engine.db.transaction() as s:
        s.execute(update(Case).where(Case.id == case_id).values(current_steps="乱写的环节"))
    admin = login(office, "sysadmin")
    found = admin.post("/admin/system/check")
    page = _text(found)
    assert "1 个项目不一致" in page and "当前环节为“乱写的环节”" in page
    fixed = _text(admin.post("/admin/system/repair", data={"case": [str(case_id)]}))
    assert "已修复 1 个项目的投影" in fixed
    assert "投影与流程状态一致" in _text(admin.post("/admin/system/check"))
    assert _log(office, action="projections_repaired")[0].actor == "sysadmin"


def test_a_supervisor_downloads_a_case_archive_that_imports_elsewhere_and_a_clerk_cannot(office, tmp_path):
    import zipfile

    from engine.archive import import_case
    from engine.access import OPERATOR
    from tests.conftest import make_engine

    engine = office["engine"]
    case_id = engine.start_case("joint_audit_xinghua", dict(CASE_FACTS), as_user(engine, "organization"))
    supervisor = login(office, "supervisor")
    page = supervisor.get(f"/cases/{case_id}").get_data(as_text=True)
    assert f"/cases/{case_id}/archive.zip" in page
    got = supervisor.get(f"/cases/{case_id}/archive.zip")
    assert got.status_code == 200 and got.mimetype == "application/zip"
    (tmp_path / "a.zip").write_bytes(got.data)
    assert "manifest.json" in zipfile.ZipFile(tmp_path / "a.zip").namelist()
    assert _log(office, action="case_exported")[0].actor == "supervisor"
    other = make_engine(f"sqlite:///{tmp_path / 'other.db'}")
    new_id = import_case(other, tmp_path / "a.zip", OPERATOR)
    assert other.case(new_id)["title"] == engine.case(case_id)["title"]

    clerk = login(office, "organization")
    assert f"/cases/{case_id}/archive.zip" not in clerk.get(f"/cases/{case_id}").get_data(as_text=True)
    assert clerk.get(f"/cases/{case_id}/archive.zip").status_code == 403


def test_the_security_administrator_creates_an_account_and_resets_its_password(office):
    sec = login(office, "secadmin")
    form = {"username": "clerk_daiyao", "display_name": "戴窑镇组织委员", "roles": ["organization"], "units": "戴窑镇",
            "password": "first password 1", "password2": "first password 1"}
    bad = sec.post("/admin/users/new", data={**form, "username": "1 bad", "password2": "other password"})
    assert bad.status_code == 400 and "两次输入的密码不一致" in _text(bad)
    short = sec.post("/admin/users/new", data={**form, "password": "short", "password2": "short"})
    assert short.status_code == 400 and "密码太短：至少 10 个字符" in _text(short)
    assert sec.post("/admin/users/new", data={**form, "roles": ["auditadmin"]}).status_code == 403
    made = sec.post("/admin/users/new", data=form)
    assert made.status_code == 302 and made.headers["Location"].endswith("/admin/users/clerk_daiyao")
    again = sec.post("/admin/users/new", data=form)
    assert again.status_code == 400 and "用户名已存在" in _text(again)

    clerk = office["app"].test_client()
    assert clerk.post("/login", data={"username": "clerk_daiyao", "password": "first password 1"}).status_code == 302
    reset = sec.post("/admin/users/clerk_daiyao/password", data={"password": "second password 2", "password2": "second password 2"})
    assert reset.status_code == 302
    assert clerk.get("/").status_code == 302  # signed out
    assert clerk.post("/login", data={"username": "clerk_daiyao", "password": "first password 1"}).status_code == 401
    assert clerk.post("/login", data={"username": "clerk_daiyao", "password": "second password 2"}).status_code == 302
    assert sec.post("/admin/users/auditadmin/password", data={"password": "x" * 12, "password2": "x" * 12}).status_code == 403
    created, = _log(office, action="user_created", subject_prefix="user:clerk_daiyao")
    assert created.actor == "secadmin" and created.detail["roles"] == ["organization"]
    changed, = _log(office, action="password_changed")
    assert changed.actor == "secadmin" and "second" not in str(changed.detail)
