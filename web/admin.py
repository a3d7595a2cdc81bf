"""三员分立 (等保 2.0): the three administrators' pages, each for one role only.

- 账号权限 `/admin/users` — the security administrator (安全管理员) changes clerks' and offices' roles and units
  and disables accounts; administrator accounts and administrator roles are the local operator's (`duban user`).
- 审计日志 `/admin/audit` — the audit administrator (安全审计员) reads, filters, exports and verifies the log;
  nobody can change or clear it (the table refuses UPDATE and DELETE).
- 系统维护 `/admin/system` — the system administrator (系统管理员) checks the projections against the stored
  states and repairs drift.
Each role sees its own page only: no account both changes permissions and reads the audit log.
"""
from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta, timezone
from urllib.parse import quote

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from engine import audit, check
from engine.accounts import create_account, reset_password, set_access, set_disabled
from engine.errors import Forbidden, InvalidData, NotFound
from engine.models import Case, ProcessVersion, User, WorkItem
from engine.roles import ACCOUNT_ROLES, ADMIN_ROLES, ROLES
from engine.timers import OFFICE_TZ

from .auth import current_actor, engine
from .i18n import english, label, person, process_name

bp = Blueprint("admin", __name__, url_prefix="/admin")
PAGE = 100
CHECK_SECONDS = 20.0


@bp.before_request
def _signed_in():
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    return None


@bp.get("/")
def index():
    actor = current_actor()
    for allowed, endpoint in ((actor.manages_accounts, "admin.users"), (actor.reads_audit, "admin.audit_log"),
                              (actor.administers, "admin.system")):
        if allowed:
            return redirect(url_for(endpoint))
    raise Forbidden(_("只有系统管理员、安全管理员和安全审计员可以访问系统管理"))


# --- 账号权限 (security administrator) ----------------------------------------------------------------------
def _require_accounts() -> None:
    if not current_actor().manages_accounts:
        raise Forbidden(_("只有安全管理员可以修改账号和权限"))


@bp.get("/users")
def users():
    _require_accounts()
    query = (request.args.get("q") or "").strip()[:100]
    with engine().db.reading() as session:
        stmt = select(User).order_by(User.username)
        if query:
            like = f"%{query}%"
            stmt = stmt.where(User.username.ilike(like) | User.display_name.ilike(like))
        accounts = list(session.scalars(stmt.limit(500)))
    return render_template("admin/users.html", accounts=accounts, q=query, role_names=ACCOUNT_ROLES,
                           admin_roles=ADMIN_ROLES)


def _account(session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(_("账号不存在"))
    return user


def _editable(user: User) -> bool:
    return user.username != current_actor().username and not set(user.roles or []) & ADMIN_ROLES.keys()


@bp.get("/users/<username>")
def user(username: str, errors: dict | None = None, status: int = 200):
    _require_accounts()
    # Nothing here reads the audit log (sign-ins, past changes): that is the audit administrator's (三员分立).
    with engine().db.reading() as session:
        account = _account(session, username)
    form = request.form if request.method == "POST" else None
    chosen = form.getlist("roles") if form else list(account.roles or [])
    units_text = form.get("units", "") if form else "\n".join(account.units or [])
    return render_template("admin/user.html", account=account, business_roles=ROLES, role_names=ACCOUNT_ROLES,
                           chosen=chosen, units_text=units_text, errors=errors or {},
                           editable=_editable(account)), status


@bp.post("/users/<username>")
def save_user(username: str):
    _require_accounts()
    errors: dict[str, list[str]] = {}
    roles, units = _roles_and_units(errors)
    if not errors:
        try:
            with engine().db.transaction() as session:
                set_access(session, current_actor(), username, roles, units or None)
        except InvalidData as err:
            errors = _field_errors(err)
    if errors:
        return user(username, errors, 400)
    flash(_("已修改 %(name)s 的权限；该账号已登录的会话随即结束", name=username))
    return redirect(url_for("admin.user", username=username))


def _roles_and_units(errors: dict[str, list[str]]) -> tuple[list[str], list[str]]:
    roles = [r for r in request.form.getlist("roles") if r]
    units = [u.strip() for u in (request.form.get("units") or "").splitlines() if u.strip()]
    if not roles:
        errors["roles"] = [_("请至少选择一个角色")]
    if len(units) > 200 or any(len(u) > 200 for u in units):
        errors["units"] = [_("单位最多 200 个，每个不超过 200 字")]
    return roles, units


def _field_errors(err: InvalidData) -> dict[str, list[str]]:
    """An engine refusal at its fields; one without fields at the roles (where the choice was made)."""
    details = {k: [f"{err.message}：{m}" for m in v] for k, v in (err.details or {}).items()}
    return details if details and set(details) <= {"username", "display_name", "password"} else \
        {"roles": [err.message, *(m for v in (err.details or {}).values() for m in v)]}


@bp.route("/users/new", methods=["GET", "POST"])
def new_user():
    _require_accounts()
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        form = request.form
        roles, units = _roles_and_units(errors)
        if form.get("password", "") != form.get("password2", ""):
            errors["password"] = [_("两次输入的密码不一致")]
        if not errors:
            try:
                with engine().db.transaction() as session:
                    create_account(session, current_actor(), (form.get("username") or "").strip(),
                                   form.get("display_name") or "", form.get("password") or "", roles, units or None)
            except InvalidData as err:
                errors = _field_errors(err)
        if not errors:
            flash(_("已创建账号 %(name)s", name=form.get("username", "").strip()))
            return redirect(url_for("admin.user", username=form.get("username", "").strip()))
    chosen = request.form.getlist("roles") if request.method == "POST" else []
    return render_template("admin/new_user.html", business_roles=ROLES, chosen=chosen, errors=errors,
                           form=request.form), 400 if errors else 200


@bp.post("/users/<username>/password")
def set_password(username: str):
    _require_accounts()
    form = request.form
    errors: dict[str, list[str]] = {}
    if form.get("password", "") != form.get("password2", ""):
        errors["password"] = [_("两次输入的密码不一致")]
    else:
        try:
            with engine().db.transaction() as session:
                reset_password(session, current_actor(), username, form.get("password") or "")
        except InvalidData as err:
            errors = {"password": [m for v in (err.details or {}).values() for m in v] or [err.message]}
    if errors:
        return user(username, errors, 400)
    flash(_("已重置 %(name)s 的密码；该账号已登录的会话随即结束", name=username))
    return redirect(url_for("admin.user", username=username))


@bp.post("/users/<username>/disabled")
def toggle_user(username: str):
    _require_accounts()
    disable = request.form.get("disable") == "1"
    with engine().db.transaction() as session:
        set_disabled(session, current_actor(), username, disable)
    flash(_("已停用账号 %(name)s", name=username) if disable else _("已启用账号 %(name)s", name=username))
    return redirect(url_for("admin.user", username=username))


# --- 审计日志 (audit administrator) -------------------------------------------------------------------------
def _require_audit() -> None:
    if not current_actor().reads_audit:
        raise Forbidden(_("只有安全审计员可以查看审计日志"))


def _day(text: str | None) -> date | None:
    """A filter date; nothing outside 1900-9998 (UTC shifts and the day after must stay in the calendar)."""
    try:
        day = date.fromisoformat(text) if text else None
    except ValueError:
        return None
    return day if day is None or 1900 <= day.year <= 9998 else None


def _utc(day: date) -> datetime:
    """The start of an office day as naive UTC, as the log stores time."""
    return datetime.combine(day, time(0), OFFICE_TZ).astimezone(timezone.utc).replace(tzinfo=None)


def _filters() -> dict:
    args = request.args
    since, until = _day(args.get("from")), _day(args.get("to"))
    return {"action": args.get("action") if args.get("action") in audit.ACTIONS else None,
            "actor": (args.get("actor") or "").strip()[:200] or None,
            "since": _utc(since) if since else None, "until": _utc(until + timedelta(days=1)) if until else None,
            "from": since.isoformat() if since else "", "to": until.isoformat() if until else ""}


def _entries(session, flt: dict, limit: int, before_id: int | None = None):
    return audit.entries(session, action=flt["action"], actor=flt["actor"], since=flt["since"], until=flt["until"],
                         before_id=before_id, limit=limit)


@bp.get("/audit")
def audit_log():
    _require_audit()
    flt = _filters()
    before = request.args.get("before", type=int)
    before = before if before is not None and 0 < before < 2**63 else None
    with engine().db.reading() as session:
        rows = _entries(session, flt, PAGE + 1, before)
        total = session.scalar(select(func.count()).select_from(audit.AuditEntry))
        names = dict(session.execute(select(ProcessVersion.process_key, ProcessVersion.name)
                                     .order_by(ProcessVersion.version)).all())
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    subjects = {e.id: _subject(e.subject, names) for e in rows}
    query = {k: v for k, v in (("action", flt["action"]), ("actor", flt["actor"]), ("from", flt["from"]),
                               ("to", flt["to"])) if v}
    return render_template("admin/audit.html", rows=rows, subjects=subjects, flt=flt, actions=audit.ACTIONS,
                           total=total, query=query,
                           next_before=rows[-1].id if more and rows else None, verdict=None)


def _subject(subject: str, process_names: dict[str, str]) -> str:
    """`user:li` as 李某（li）, `process:KEY` by the process's name, `case:12` as 项目 12; others as stored."""
    kind, _sep, key = subject.partition(":")
    if kind == "user" and key and "*" not in key:
        shown = person(key)
        return _("账号 %(name)s", name=shown if shown == key else _("%(name)s（%(username)s）", name=shown, username=key))
    if kind == "process" and key in process_names:
        return process_name(key, process_names[key])
    if kind == "case" and key.isdigit():
        return _("项目 %(id)s", id=key)
    if kind == "draft" and key.isdigit():
        return _("草稿 %(id)s", id=key)
    if kind == "decision":
        return _("决策表 %(id)s", id=key)
    if kind in ("unit", "units"):
        return _("单位 %(name)s", name=key)
    return subject


@bp.post("/audit/verify")
def audit_verify():
    _require_audit()
    with engine().db.reading() as session:
        verdict = audit.verify(session)
    with engine().db.transaction() as session:
        audit.record(session, current_actor().username, "audit_verified", "audit_log",
                     {"checked": verdict.checked, "intact": verdict.intact, "broken_id": verdict.broken_id},
                     engine().clock())
    if verdict.intact:
        flash(_("审计日志完整：已校验 %(n)s 条，哈希链无断点", n=verdict.checked))
    else:
        flash(_("审计日志被篡改：第 %(id)s 条起哈希链断开（%(reason)s）", id=verdict.broken_id, reason=verdict.reason),
              "error")
    return redirect(url_for("admin.audit_log"))


@bp.get("/audit.xlsx")
def audit_export():
    _require_audit()
    from handlers.office_sheets import workbook_bytes

    flt = _filters()
    with engine().db.reading() as session:
        rows = _entries(session, flt, 50_000)
    with engine().db.transaction() as session:
        audit.record(session, current_actor().username, "audit_exported", "audit_log",
                     {"rows": len(rows), "action": flt["action"], "actor": flt["actor"], "from": flt["from"],
                      "to": flt["to"]}, engine().clock())
    local = [e.at.replace(tzinfo=timezone.utc).astimezone(OFFICE_TZ).replace(tzinfo=None) for e in rows]
    body = workbook_bytes(_("审计日志"), [_("序号"), _("时间"), _("操作人"), _("操作"), _("对象"), _("详情"), _("哈希")],
                          [[e.id, at, e.actor, audit.ACTIONS.get(e.action, e.action), e.subject,
                            _detail_text(e.detail), e.hash] for e, at in zip(rows, local)])
    today = engine().clock().date().isoformat()
    name = f"审计日志-{today}.xlsx"
    return Response(body, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", headers={
        "Content-Disposition": f"attachment; filename=\"duban-audit-{today}.xlsx\"; filename*=UTF-8''{quote(name)}",
        "Cache-Control": "no-store"})


def _detail_text(detail) -> str:
    return json.dumps(detail or {}, ensure_ascii=False, sort_keys=True)[:2000]


# --- 系统维护 (system administrator) ------------------------------------------------------------------------
def _require_admin() -> None:
    if not current_actor().administers:
        raise Forbidden(_("只有系统管理员可以执行此操作"))


def _system_page(report=None, status: int = 200):
    db = engine().db
    with db.reading() as session:
        counts = {
            "cases": session.scalar(select(func.count()).select_from(Case)),
            "open": session.scalar(select(func.count()).select_from(Case).where(Case.status.in_(("running", "error", "suspended")))),
            "work": session.scalar(select(func.count()).select_from(WorkItem).where(WorkItem.status == "ready")),
        }
    return render_template("admin/system.html", counts=counts, backend=db.engine.dialect.name, report=report,
                           budget=CHECK_SECONDS), status


@bp.get("/system")
def system():
    _require_admin()
    return _system_page()


@bp.post("/system/check")
def system_check():
    _require_admin()
    return _system_page(check.run(engine(), budget=CHECK_SECONDS))


@bp.post("/system/repair")
def system_repair():
    _require_admin()
    ids = [int(i) for i in request.form.getlist("case") if i.isascii() and i.isdigit() and len(i) < 12][:500]
    if not ids:
        flash(_("请选择要修复的项目"), "error")
        return redirect(url_for("admin.system"))
    report = check.run(engine(), repair=True, case_ids=ids, actor=current_actor().username, budget=CHECK_SECONDS)
    flash(_("已修复 %(n)s 个项目的投影", n=sum(1 for d in report.drifts if d.repaired)))
    return _system_page(report)


# --- how the log's codes read on the pages -------------------------------------------------------------------
@bp.app_template_filter("label_role")
def label_role(role: str) -> str:
    return label(ACCOUNT_ROLES.get(role, role))


@bp.app_template_filter("audit_action")
def audit_action(action: str) -> str:
    return label(audit.ACTIONS.get(action, action))


# What the detail's keys are called on the page (the log keeps the codes; unknown keys show as they are).
DETAIL_KEYS = {
    "address": "地址", "known_device": "常用设备", "retry_after": "限制秒数", "roles": "角色", "units": "单位",
    "before": "原", "after": "新", "version": "版本", "content_hash": "内容哈希", "process_key": "流程",
    "from": "原", "to": "新", "note": "说明", "checked": "已校验", "intact": "完整", "broken_id": "断点",
    "rows": "行数", "problems": "问题", "file": "文件", "size": "大小", "cases": "项目数", "change": "变更",
    "name": "名称", "demo": "演示", "usernames": "账号", "action": "操作", "actor": "操作人", "created": "新建",
}


def _value(key: str, value) -> str:
    if isinstance(value, bool):
        return label("是") if value else label("否")
    if key == "units" and value is None:
        return label("全部单位")
    if isinstance(value, list):
        shown = [label_role(v) if key == "roles" else str(v) for v in value[:20]]
        return "、".join(shown) + ("…" if len(value) > 20 else "")
    if isinstance(value, dict):
        return "，".join(f"{label(DETAIL_KEYS.get(k, k))} {_value(k, v)}" for k, v in value.items())
    return str(value)


@bp.app_template_filter("audit_detail")
def audit_detail(detail) -> str:
    """A detail as `键 值；…` in the page's words, short enough for a table cell."""
    if not isinstance(detail, dict):
        return str(detail or "")
    colon, semicolon = (": ", "; ") if english() else ("：", "；")
    parts = [f"{label(DETAIL_KEYS.get(k, k))}{colon}{_value(k, v)}" for k, v in detail.items()
             if v not in ("", [], {}) and not (v is None and k != "units")]
    text = semicolon.join(parts)
    return text if len(text) <= 300 else text[:300] + "…"
