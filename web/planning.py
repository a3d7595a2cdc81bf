"""年度联审计划: upload the cadre roster, see its bad rows, see who the rules require and why, confirm or
remove each person, and open the confirmed people's cases in bulk on the city's variant.

For the organization department and the leading group (supervisors); a clerk limited to units sees and
decides the people of those units only. Opening cases needs the start role (组织部), as 发起联审 does. The
bulk start runs in batches, one request each, so a plan of a thousand people never times a request out.
"""
from __future__ import annotations

from collections import Counter
from datetime import date

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from engine.errors import DubanError, Forbidden, InvalidData
from handlers.planning import plan, start
from handlers.planning.command import PROCESSES
from handlers.planning.records import STATUSES
from handlers.planning.roster import COLUMNS, read_roster, restrict_to_units

from .auth import current_actor, engine

bp = Blueprint("planning", __name__, url_prefix="/planning")

PLANNERS = frozenset({"organization", "supervisor"})
BATCH = 50  # cases per request: ~0.5 s of work, far from any proxy's timeout
MAX_ROSTER_BYTES = 10 * 1024 * 1024
FIRST_YEAR, LAST_YEAR = 2000, 2100


@bp.before_request
def _planners_only():
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    actor = current_actor()
    if not actor.operator and not (actor.roles & PLANNERS):
        raise Forbidden(_("年度联审计划由组织部和领导小组办理"))
    return None


def _year(year: int) -> int:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise InvalidData(_("年度应在 %(a)s 至 %(b)s 之间", a=FIRST_YEAR, b=LAST_YEAR))
    return year


def _variants() -> list[dict]:
    """The joint-audit processes this user may open cases on (none for a supervisor)."""
    return [p for p in engine().startable(current_actor()) if p["process_key"] in PROCESSES]


def _page(year: int, problems=None, roster=None, status: int = 200):
    actor = current_actor()
    with engine().db.reading() as session:
        entries = plan.year_plan(session, year, actor.in_scope)
        years = plan.plan_years(session)
    counts = Counter(entry.status for entry, _person in entries)
    variants = _variants()
    chosen = request.args.get("process") or (variants[0]["process_key"] if len(variants) == 1 else "")
    return render_template(
        "planning/index.html", year=year, entries=entries, counts=counts, statuses=STATUSES, years=years,
        variants=variants, chosen=chosen, problems=problems, roster=roster, columns=COLUMNS,
        level_name=plan.level_name, reason_name=plan.reason_name, continuing=request.args.get("continue") == "1",
        batch=BATCH), status


@bp.route("/")
def index():
    return redirect(url_for("planning.year", year=engine().clock().year))


@bp.route("/<int:year>")
def year(year: int):
    return _page(_year(year))


@bp.route("/<int:year>/roster", methods=["POST"])
def upload(year: int):
    _year(year)
    upload = request.files.get("roster")
    if upload is None or not upload.filename:
        flash(_("请选择花名册文件（.xlsx 或 .csv）。"), "error")
        return _page(year, status=400)
    content = upload.read(MAX_ROSTER_BYTES + 1)
    if len(content) > MAX_ROSTER_BYTES:
        flash(_("花名册文件过大（最多 10 MB）。"), "error")
        return _page(year, status=400)
    on = None
    if request.form.get("reference_date"):
        try:
            on = date.fromisoformat(request.form["reference_date"])
        except ValueError:
            flash(_("基准日格式不正确，请写成 2026-12-31。"), "error")
            return _page(year, status=400)
    actor, now = current_actor(), engine().clock()
    roster = read_roster(content, upload.filename, today=now.date())
    restrict_to_units(roster, actor.in_scope)
    skip = request.form.get("skip_bad_rows") == "1"
    if roster.file_problems or (roster.problems and not skip):
        flash(_("花名册有误，未导入任何数据：请按下表修改后重新上传，或勾选“跳过有误的行”。")
              if not roster.file_problems else _("无法导入此文件。"), "error")
        return _page(year, roster.problems, roster, 400)
    try:
        with engine().db.transaction() as session:
            batch = plan.import_roster(session, roster, year, actor.username, now, skip)
            entries = plan.plan_from_import(session, batch, roster.rows, plan.reference_date(year, on), now)
    except InvalidData as err:
        flash(err.message, "error")
        return _page(year, getattr(err, "problems", None), roster, 400)
    message = _("已导入 %(n)s 人，%(year)s 年度必审 %(m)s 人，请逐一确认或移出。", n=len(roster.rows), year=year,
                m=len(entries))
    if roster.problems:
        message += " " + _("已跳过有误的 %(k)s 行。", k=len(roster.bad_rows))
    flash(message)
    return redirect(url_for("planning.year", year=year))


@bp.route("/<int:year>/entries/<int:entry_id>", methods=["POST"])
def decide(year: int, entry_id: int):
    actor, now = current_actor(), engine().clock()
    action = request.form.get("action")
    try:
        with engine().db.transaction() as session:
            if action == "remove":
                entry = plan.remove(session, entry_id, request.form.get("removal_reason", ""), actor.username, now,
                                    actor.in_scope)
            elif action == "confirm":
                entry = plan.confirm(session, entry_id, actor.username, now, actor.in_scope,
                                     request.form.get("unit_principal"), request.form.get("unit_deputy"))
            else:
                raise InvalidData(_("未知的操作"))
            if entry.year != year:
                raise InvalidData(_("该条目不属于 %(year)s 年度计划", year=year))
    except InvalidData as err:
        flash(err.message, "error")
    return redirect(url_for("planning.year", year=year) + f"#entry-{entry_id}")


@bp.route("/<int:year>/confirm-all", methods=["POST"])
def confirm_all(year: int):
    actor = current_actor()
    with engine().db.transaction() as session:
        count = plan.confirm_all(session, _year(year), actor.username, engine().clock(), actor.in_scope)
    flash(_("已确认 %(n)s 人。", n=count))
    return redirect(url_for("planning.year", year=year))


@bp.route("/<int:year>/start", methods=["POST"])
def start_cases(year: int):
    """One batch of the bulk start; the page it lands on continues with the next batch until none is left."""
    _year(year)
    process_key = request.form.get("process_key", "")
    if process_key not in {v["process_key"] for v in _variants()}:
        flash(_("请选择本市的联审流程（兴化或苏州）。"), "error")
        return redirect(url_for("planning.year", year=year))
    continuing = request.form.get("continue") == "1"
    started = refused = 0
    try:
        for outcome in start.start_confirmed(engine(), year, process_key, current_actor(), limit=BATCH,
                                             retry_refused=not continuing):
            if outcome.case_id:
                started += 1
            else:
                refused += 1
    except DubanError as err:
        flash(_("批量立项中断：%(reason)s", reason=err.message), "error")
        return redirect(url_for("planning.year", year=year))
    waiting, not_started = start.pending(engine(), year, current_actor().in_scope)
    args = {"year": year, "process": process_key}
    if waiting:
        args["continue"] = "1"  # more to open: the page submits the next batch by itself (planning.js)
    else:
        flash(_("批量立项完成。") + (" " + _("%(n)s 人未能立项，原因见下表。", n=not_started) if not_started else ""),
              "error" if not_started else "message")
    return redirect(url_for("planning.year", **args) + "#start")
