"""The task page: case header, instructions, the step's form; completing it returns to the inbox."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from engine.casefile import case_file
from engine.errors import InvalidData
from engine.roles import ROLES
from engine.vocabulary import AUDIT_TYPES, UNIT_LEVELS

from .auth import current_actor, engine
from .formrender import initial_values, parse_submission

bp = Blueprint("tasks", __name__, url_prefix="/tasks")



def _page(item: dict, values: dict, errors: dict, status: int = 200):
    with engine().db.reading() as session:
        attachments, comments = case_file(session, item["case_id"])
    return render_template("tasks/task.html", item=item, case=item["case"], values=values, errors=errors,
                           roles=ROLES, audit_types=AUDIT_TYPES, unit_levels=UNIT_LEVELS,
                           attachments=attachments, comments=comments), status


@bp.route("/<int:item_id>")
@login_required
def view(item_id: int):
    item = engine().work_item(item_id, current_actor())
    return _page(item, initial_values(item["form"] or {}), {})


@bp.route("/<int:item_id>", methods=["POST"])
@login_required
def complete(item_id: int):
    actor = current_actor()
    item = engine().work_item(item_id, actor)
    data = parse_submission(item["form"] or {"type": "object"}, request.form)
    try:
        seen = int(request.form.get("lock_version", ""))
    except ValueError:
        seen = None
    try:
        case = engine().complete(item_id, data, actor, expected_version=seen)
    except InvalidData as err:
        flash(_("表单有误, 请按提示修改后再提交"), "error")
        return _page(item, data, err.details or {}, 400)
    if case.current_steps:
        flash(_("已办理: %(step)s; 下一步: %(next)s", step=item["step_name"], next=case.current_steps))
    else:
        flash(_("已办理: %(step)s; 案件已办结", step=item["step_name"]))
    return redirect(url_for("inbox.index"))
