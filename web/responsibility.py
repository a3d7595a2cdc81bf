"""The responsibility platform pages (五式履责, seed 004): every unit's four responsibility lists and key tasks with
their lights, milestones and progress, open to everyone signed in (全市各单位均可通过平台进行浏览); a page of the
tasks lit red. Only the unit (and its discipline body) edits its lists; progress is reported and lights are given
on the task's work items, which only the unit's clerk and the discipline body can work."""
from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select

from engine import casefile
from engine.accounts import display_names
from engine.errors import Forbidden, InvalidData
from engine.models import Attachment, WorkItem
from engine.timers import office_date
from handlers import key_tasks, units as org_units
from handlers.key_tasks import KeyTask, ProgressUpdate, SUBJECTS

from .auth import current_actor, engine

bp = Blueprint("responsibility", __name__, url_prefix="/responsibility")


def _year() -> int:
    this = office_date(engine().clock()).year
    try:
        year = int(request.args.get("year") or this)
    except ValueError:
        return this
    return year if 2000 <= year <= 2100 else this


def may_edit_lists(actor, unit: str) -> bool:
    """The unit's own clerk, or the discipline body over it."""
    return actor.operator or (bool(actor.roles & {"unit", "discipline"}) and actor.in_scope(unit))


@bp.route("/")
@login_required
def index():
    year = _year()
    with engine().db.reading() as session:
        counts = key_tasks.light_counts(session, None, year)
        names = key_tasks.reporting_units(session)
        reports = {r.unit: r for r in key_tasks.reports(session, year)}
    everyone = sorted(set(names) | set(counts))
    empty = {"red": 0, "yellow": 0, "green": 0, "unrated": 0, "closed": 0, "total": 0}
    # Units with key tasks or a report this year are rows; the rest are named once below (a city has hundreds).
    rows = [(u, counts.get(u, empty), reports.get(u)) for u in everyone if counts.get(u, empty)["total"] or u in reports]
    idle = [u for u in everyone if not counts.get(u, empty)["total"] and u not in reports]
    return render_template("responsibility/index.html", year=year, rows=rows, idle=idle)


@bp.route("/red")
@login_required
def red():
    year = _year()
    with engine().db.reading() as session:
        rows = key_tasks.tasks(session, None, year, light="red")
    return render_template("responsibility/red.html", year=year, rows=rows)


@bp.route("/units/<path:unit>")
@login_required
def unit(unit: str):
    year = _year()
    with engine().db.reading() as session:
        known = org_units.by_name(session, unit)
        rows = key_tasks.tasks(session, [unit], year)
        if known is None and not rows:
            abort(404)
        lists = key_tasks.responsibility_lists(session, unit, year)
        latest = {t.id: (key_tasks.progress(session, t.id) or [None])[0] for t, _r in rows}
    return render_template("responsibility/unit.html", unit=unit, year=year, rows=rows, lists=lists, subjects=SUBJECTS,
                           latest=latest, may_edit=may_edit_lists(current_actor(), unit), now=engine().clock(),
                           overdue=key_tasks.overdue)


@bp.route("/units/<path:unit>/lists", methods=["GET", "POST"])
@login_required
def edit_lists(unit: str):
    actor, year = current_actor(), _year()
    if not may_edit_lists(actor, unit):
        raise Forbidden(_("只有本单位和本单位纪检组织可以编辑责任清单"))
    with engine().db.reading() as session:
        if org_units.by_name(session, unit) is None:
            abort(404)
        lists = key_tasks.responsibility_lists(session, unit, year)
    errors: dict = {}
    if request.method == "POST":
        lists = {s: [request.form.get(f"{s}_{n}", "") for n in range(1, key_tasks.ITEMS_PER_LIST + 1)] for s in SUBJECTS}
        try:
            with engine().db.transaction() as session:
                changed = key_tasks.save_lists(session, unit, year, lists, actor.username, engine().clock())
        except InvalidData as err:
            flash(_("责任清单有误，请按提示修改后再保存。"), "error")
            errors = err.details or {}
        else:
            flash(_("责任清单已保存（%(n)s 项有改动）", n=changed))
            return redirect(url_for("responsibility.unit", unit=unit, year=year))
    return render_template("responsibility/lists.html", unit=unit, year=year, lists=lists, subjects=SUBJECTS,
                           errors=errors), 400 if errors else 200


@bp.route("/tasks/<int:task_id>")
@login_required
def task(task_id: int):
    actor = current_actor()
    with engine().db.reading() as session:
        row = session.get(KeyTask, task_id)
        if row is None:
            abort(404)
        updates = key_tasks.progress(session, task_id)
        rated = key_tasks.ratings(session, task_id)
        files = {a.id: a for a in session.scalars(select(Attachment).where(
            Attachment.id.in_([i for u in updates for i in (u.attachment_ids or [])] or [0])))}
        work = [w for w in session.scalars(select(WorkItem).where(WorkItem.case_id == row.case_id,
                                                                   WorkItem.status == "ready")) if actor.may_work(w)]
        people = display_names(session)
    return render_template("responsibility/task.html", task=row, updates=updates, ratings=rated, files=files, work=work,
                           people=people, lights=key_tasks.LIGHTS, overdue=key_tasks.overdue(row, engine().clock()),
                           day=lambda moment: office_date(moment).isoformat())


@bp.route("/attachments/<int:attachment_id>")
@login_required
def attachment(attachment_id: int):
    """A file reported with a key task's progress: public on the platform like the progress itself."""
    with engine().db.reading() as session:
        row = session.get(Attachment, attachment_id)
        published = row is not None and any(
            attachment_id in (u.attachment_ids or []) for u in session.scalars(
                select(ProgressUpdate).join(KeyTask, KeyTask.id == ProgressUpdate.task_id)
                .where(KeyTask.case_id == row.case_id)))
        if not published:
            abort(404)
        row, path = casefile.attachment_file(session, attachment_id)
    name = casefile.clean_filename(row.filename) or f"attachment-{row.id}"
    response = send_file(path, mimetype=row.content_type, as_attachment=True, download_name=name)
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return response

