"""The integrity file (廉政档案) pages: find a cadre by name, ID number or unit, read their file, export it.

For the organization department and supervisors (a supervisor limited to units sees the cadres of those units);
everyone else gets 403. Only the organization department records demerit points and sanctions by hand.
"""
from __future__ import annotations

from datetime import date
from urllib.parse import quote

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine.errors import Forbidden, InvalidData
from engine.timers import office_date
from handlers import demerits
from handlers.findings import DUTY_NAMES
from handlers.integrity_export import docx_bytes, sanction_result, xlsx_bytes
from handlers.integrity_file import GROUNDS, OUTCOMES, cadre_file, person_or_404, record_sanction, search_people
from handlers.ledger import SEVERITY_NAMES

from .auth import current_actor, engine
from .i18n import english

bp = Blueprint("integrity", __name__, url_prefix="/integrity")

READERS = {"organization", "supervisor"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def may_read(actor) -> bool:
    return actor.operator or bool(actor.roles & READERS)


def may_record(actor) -> bool:
    return actor.operator or "organization" in actor.roles


def _units(actor):
    return None if actor.operator else actor.units


@bp.before_request
def _readers_only():
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    if not may_read(current_actor()):
        raise Forbidden(_("只有组织部和督办人员可以查看廉政档案"))
    return None


@bp.route("/")
@login_required
def index():
    query = request.args.get("q", "").strip()[:100]
    with engine().db.reading() as session:
        people = search_people(session, query, _units(current_actor()))
    return render_template("integrity/index.html", people=people, query=query)


@bp.route("/<int:person_id>")
@login_required
def view(person_id: int):
    return _page(person_id)


def _page(person_id: int, form=None, errors: dict | None = None, failed: str = "", status: int = 200):
    """The cadre's file; after a refused entry, with the entry's form as typed and its field errors."""
    with engine().db.reading() as session:
        file = cadre_file(session, person_id, engine().clock(), _units(current_actor()))
        html = render_template("integrity/view.html", file=file, outcomes=OUTCOMES, grounds=GROUNDS,
                               responsibility_types=demerits.RESPONSIBILITY_TYPES, may_record=may_record(current_actor()),
                               sanction_result=sanction_result, this_year=file.today.year, form=form or {},
                               errors=errors or {}, failed=failed, en=english(), duty_names=DUTY_NAMES,
                               severity_names=SEVERITY_NAMES)
    return html, status


def _recorder_only():
    if not may_record(current_actor()):
        raise Forbidden(_("只有组织部可以记录扣分和问责"))


def _failed(person_id: int, err: InvalidData, which: str):
    flash(err.message, "error")
    return _page(person_id, request.form, err.details or {}, which, 400)


def _number(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text  # points_problem names it: 扣分应为数字


@bp.route("/<int:person_id>/demerits", methods=["POST"])
@login_required
def add_demerit(person_id: int):
    _recorder_only()
    form = request.form
    try:
        year = int(form.get("year", ""))
    except ValueError:
        year = -1
    try:
        with engine().db.transaction() as session:
            person_or_404(session, person_id, _units(current_actor()))
            demerits.add_entry(session, person_id, year, _number(form.get("points", "").strip()),
                               form.get("responsibility_type", ""), form.get("reason", ""),
                               current_user.username, engine().clock())
    except InvalidData as err:
        return _failed(person_id, err, "demerits")
    flash(_("扣分已记录"))
    return redirect(url_for("integrity.view", person_id=person_id, _anchor="demerits"))


@bp.route("/<int:person_id>/sanctions", methods=["POST"])
@login_required
def add_sanction(person_id: int):
    _recorder_only()
    form = request.form
    now = engine().clock()
    try:
        try:
            decided_on = date.fromisoformat(form.get("decided_on", "").strip())
        except ValueError:
            raise InvalidData("处理日期无效", details={"decided_on": ["请填写日期，如 2026-03-01"]}) from None
        if decided_on > office_date(now):
            raise InvalidData("处理日期无效", details={"decided_on": ["不能晚于今天"]})
        with engine().db.transaction() as session:
            person = person_or_404(session, person_id, _units(current_actor()))
            record_sanction(session, person, form.get("outcome", ""), form.get("reason", ""), form.get("ground", ""),
                            decided_on, current_user.username, now)
    except InvalidData as err:
        return _failed(person_id, err, "sanctions")
    flash(_("问责处理已记录"))
    return redirect(url_for("integrity.view", person_id=person_id, _anchor="sanctions"))


def _download(body: bytes, mimetype: str, filename: str) -> Response:
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f"attachment; filename=integrity.{filename.rsplit('.', 1)[1]}; "
                               f"filename*=UTF-8''{quote(filename)}",
        "Cache-Control": "private, no-store"})


EXPORTS = {"xlsx": (xlsx_bytes, XLSX), "docx": (docx_bytes, DOCX)}


@bp.route("/<int:person_id>/file.<any(xlsx, docx):kind>")
@login_required
def export(person_id: int, kind: str):
    make, mimetype = EXPORTS[kind]
    with engine().db.reading() as session:
        file = cadre_file(session, person_id, engine().clock(), _units(current_actor()))
        body = make(file)
    return _download(body, mimetype, f"廉政档案-{file.person.name}-{file.today.isoformat()}.{kind}")
