"""The supervisor's dashboard (督办): figures, the lists behind them, their Excel export, where work piles up
in each process diagram, and the case actions (retry, suspend, resume, terminate).

Every route needs a signed-in user who oversees (supervisors; a supervisor limited to units sees those units
only). Views call engine.supervision and engine.incidents; no SQL lives here.
"""
from __future__ import annotations

import io
import json
from datetime import datetime, timezone
from urllib.parse import quote

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, ngettext
from flask_login import current_user, login_required

from engine import incidents, supervision
from engine.errors import Forbidden, NotFound, StepFailed
from engine.roles import ROLES
from engine.specs import english_diagram
from engine.timers import OFFICE_TZ

from .auth import current_actor, engine
from .cases import BPMN_DIST, DIAGRAM_CSS, VIEWER_JS
from .i18n import english_diagram_asked, label, listing, process_name, step_name, step_names

bp = Blueprint("supervise", __name__, url_prefix="/supervise")

BEIJING = OFFICE_TZ  # the office time zone the engine uses for deadlines
ACTIONS = ("retry", "suspend", "resume", "terminate")
NOTE_CHARS = 500


@bp.before_request
def _oversight_only():
    """Sign-in first (the login page for a browser), then 403 for anyone who does not oversee."""
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    if not current_actor().oversees:
        raise Forbidden(_("只有督办人员（领导小组）可以查看督办情况"))
    return None


def settings() -> supervision.Settings:
    return supervision.Settings.from_config(current_app.config)


# --- the dashboard -----------------------------------------------------------------------------
@bp.route("/")
@login_required
def index():
    actor, now, conf = current_actor(), engine().clock(), settings()
    with engine().db.reading() as session:
        summary = supervision.summary(session, actor, now, conf)
    diagrams = [{
        "key": load.process_key, "name": load.process_name, "total": load.total, "steps": load.steps,
        "counts": json.dumps(load.counts(), ensure_ascii=False),
        "peak": max((g.count for g in load.steps), default=0),
    } for load in summary.processes]
    return render_template("supervise/index.html", summary=summary, settings=conf, diagrams=diagrams,
                           viewer_available=(BPMN_DIST / VIEWER_JS).is_file(), diagram_css=DIAGRAM_CSS,
                           units_scope=sorted(actor.units) if actor.units is not None and not actor.operator else None)


@bp.route("/processes/<key>/diagram.bpmn")
@login_required
def diagram(key: str):
    with engine().db.reading() as session:
        xml = supervision.process_bpmn(session, current_actor(), key)
    return Response(english_diagram(xml) if english_diagram_asked() else xml, mimetype="application/xml",
                    headers={"Cache-Control": "private, max-age=300"})


# --- the lists behind the figures --------------------------------------------------------------
def _page(per_page: int | None = None) -> supervision.ListPage:
    flt = supervision.ListFilter.parse(request.args)
    if per_page:  # the export holds the whole list, from its first row
        flt.page = 1
    with engine().db.reading() as session:
        return supervision.list_page(session, current_actor(), engine().clock(), flt, settings(), per_page)


@bp.route("/list", endpoint="list")
@login_required
def list_view():
    page = _page()
    return render_template("supervise/list.html", page=page, flt=page.filter, settings=settings(),
                           title=list_title(page, settings()), now=engine().clock())


def list_title(page: supervision.ListPage, conf: supervision.Settings) -> str:
    """The list's title, translated here from its parts: the units and step names in it stay data."""
    flt = page.filter
    if flt.kind == "light":
        return _("%(light)s项目", light=label(supervision.LIGHT_NAMES[flt.light or "red"]))
    if flt.kind == "stalled":
        return _("停滞项目（超过 %(days)s 天无办理）", days=conf.stalled_days)
    if flt.kind == "step_stalled":
        return _("环节滞留待办（超过 %(days)s 天）", days=conf.step_days)
    if flt.kind == "error":
        return _("系统异常项目")
    if flt.kind == "suspended":
        return _("已暂停办理项目")
    if flt.kind == "listed":
        return _("挂牌督办项目")
    if flt.kind == "overdue":
        parts = [p for p in (label(ROLES.get(flt.role, flt.role)) if flt.role else None, flt.unit) if p]
        return _("超期待办（%(scope)s）", scope=" · ".join(parts)) if parts else _("超期待办")
    if flt.kind == "age":
        bucket = next(b[1] for b in supervision.AGE_BUCKETS if b[0] == flt.bucket)
        return _("待办时长 %(bucket)s", bucket=label(bucket))
    return _("%(step)s 待办", step=step_name(flt.process or "", flt.step, page.step_name or flt.step or ""))


@bp.route("/list.xlsx")
@login_required
def export():
    page = _page(supervision.EXPORT_LIMIT)
    today = _beijing(engine().clock()).date().isoformat()
    name = f"督办-{page.filter.short_name()}-{today}.xlsx"
    ascii_name = f"duban-{page.filter.kind}{'-' + page.filter.light if page.filter.light else ''}-{today}.xlsx"
    body = _workbook(page)
    return Response(body, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", headers={
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}",
        "Cache-Control": "no-store"})


def _beijing(value: datetime | None) -> datetime | None:
    """Naive UTC from the database as naive Beijing time (Excel cells carry no zone)."""
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc).astimezone(BEIJING).replace(tzinfo=None)


def case_columns() -> list[tuple[str, int]]:
    return [(_("状态灯"), 8), (_("原因"), 30), (_("项目编号"), 10), (_("项目"), 34), (_("单位"), 16), (_("流程"), 18),
            (_("状态"), 10), (_("当前环节"), 30), (_("最近办理"), 18), (_("最早期限"), 18), (_("挂牌督办"), 10)]


def work_columns() -> list[tuple[str, int]]:
    return [(_("待办编号"), 10), (_("项目编号"), 10), (_("项目"), 34), (_("环节"), 26), (_("部门"), 14), (_("单位"), 16),
            (_("办理人"), 14), (_("到达时间"), 18), (_("办理期限"), 18), (_("已等待（天）"), 12), (_("逾期（天）"), 10),
            (_("已催办"), 18), (_("已督办"), 18)]


def why(row: supervision.CaseItem) -> str:
    """Why a case has its light, in words (the Excel's second column)."""
    if row.status == "error" and row.incident_message:
        (step,) = step_names(row.process_key, [row.incident_step or ""])
        return _("系统异常：%(step)s %(message)s", step=step, message=row.incident_message)
    (step,) = step_names(row.process_key, [row.due_step or ""])
    if row.light == "red":
        return ngettext("逾期 %(days)s 天：%(step)s", "逾期 %(days)s 天：%(step)s", row.overdue_days,
                        days=row.overdue_days, step=step)
    if row.light == "yellow":
        return ngettext("%(days)s 天内到期：%(step)s", "%(days)s 天内到期：%(step)s", row.due_in_days,
                        days=row.due_in_days, step=step)
    if row.due_in_days is not None:
        return ngettext("%(days)s 天后到期：%(step)s", "%(days)s 天后到期：%(step)s", row.due_in_days,
                        days=row.due_in_days, step=step)
    return _("无办理期限")


def _workbook(page: supervision.ListPage) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    book = Workbook()
    sheet = book.active
    sheet.title = page.filter.short_name()[:31]
    columns = case_columns() if page.filter.of_cases else work_columns()
    sheet.append([title for title, _width in columns])
    for n, (_title, width) in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=n)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="F2F2F2")
        cell.alignment = Alignment(vertical="center")
        sheet.column_dimensions[cell.column_letter].width = width
    sheet.freeze_panes = "A2"
    date_columns: set[int] = set()
    if page.filter.of_cases:
        for row in page.cases:
            sheet.append([label(row.light_name), why(row), row.id, row.title, row.unit,
                          process_name(row.process_key, row.process_name), label(row.status_name),
                          listing(step_names(row.process_key, row.current_steps)), _beijing(row.last_activity_at),
                          _beijing(row.next_due_at),
                          _("是") if row.listed else ""])
        date_columns = {9, 10}
    else:
        for item in page.items:
            sheet.append([item.id, item.case_id, item.case_title, step_name(item.process_key, item.step_id, item.step_name),
                          label(item.role_name), item.unit,
                          item.assignee or "", _beijing(item.created_at), _beijing(item.due_at), item.age_days,
                          item.overdue_days if item.overdue_days is not None else "",
                          _beijing(item.reminded_at), _beijing(item.escalated_at)])
        date_columns = {8, 9, 12, 13}
    for cells in sheet.iter_rows(min_row=2):
        for cell in cells:
            _as_text_if_formula_like(cell)
    for column in date_columns:
        for (cell,) in sheet.iter_rows(min_row=2, min_col=column, max_col=column):
            cell.number_format = "yyyy-mm-dd hh:mm"
    sheet.auto_filter.ref = sheet.dimensions
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# Excel (and LibreOffice, and CSV importers) run a cell typed as =… as a formula, and +… -… @… once edited:
# a case title like =HYPERLINK(…) would run on the supervisor's PC. Such text is stored as text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _as_text_if_formula_like(cell) -> None:
    if isinstance(cell.value, str) and cell.value.startswith(FORMULA_STARTS):
        cell.data_type = "s"  # openpyxl made it a formula ('f') when the value began with =
        cell.quotePrefix = True  # Excel shows the text as typed and keeps it text when the cell is edited


# --- case actions ------------------------------------------------------------------------------
@bp.route("/cases/<int:case_id>/<action>", methods=["POST"])
@login_required
def act(case_id: int, action: str):
    """Retry, suspend, resume or terminate a case; Conflict and NotFound are rendered as error pages."""
    if action not in ACTIONS:
        raise NotFound(_("未知的操作：%(action)s", action=action[:20]))
    actor = current_actor()
    eng = engine()
    with eng.db.reading() as session:
        context = supervision.case_actions_context(session, case_id)  # NotFound for unknown cases
    supervision.require_in_scope(actor, context["unit"])
    note = (request.form.get("note") or "").strip()[:NOTE_CHARS]
    back = url_for("cases.view", case_id=case_id)
    if action == "retry":
        try:
            outcome = incidents.retry(eng, case_id, actor)
        except StepFailed as err:
            flash(_("重新执行失败，已再次记录系统异常：%(message)s", message=err.message), "error")
            return redirect(back)
        flash(_("已重试：项目已恢复办理") if outcome == "completed"
              else _("已重试：项目已恢复办理，定时任务将在下次运行时执行"))
    elif action == "suspend":
        incidents.suspend(eng, case_id, actor, note)
        flash(_("已暂停办理项目 #%(id)s", id=case_id))
    elif action == "resume":
        incidents.resume(eng, case_id, actor)
        flash(_("已恢复办理 #%(id)s", id=case_id))
    else:
        incidents.terminate(eng, case_id, actor, note)
        flash(_("已终止项目 #%(id)s", id=case_id))
    return redirect(back)


@bp.app_template_global("supervise_case_actions")
def supervise_case_actions(case_id: int) -> dict | None:
    """For the case page: the context of supervise/_case_actions.html, or None unless the viewer oversees."""
    if not current_user.is_authenticated or not current_actor().oversees:
        return None
    with engine().db.reading() as session:
        context = supervision.case_actions_context(session, case_id)
    return context if supervision.in_scope(current_actor(), context["unit"]) else None
