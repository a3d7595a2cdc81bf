"""The task page: case header, instructions, the step's form; completing it returns to the inbox."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext as _
from flask_login import login_required

from engine.casefile import case_file
from engine.errors import DubanError, InvalidData
from engine.roles import ROLES
from engine.vocabulary import AUDIT_TYPES, UNIT_LEVELS
from handlers import ledger

from .auth import current_actor, engine
from .deadlines import parse_utc
from .formrender import initial_values, parse_submission
from .i18n import listing, process_name, step_instructions, step_name, step_names

bp = Blueprint("tasks", __name__, url_prefix="/tasks")



def _page(item: dict, values: dict, errors: dict, status: int = 200, kept: bool = False):
    with engine().db.reading() as session:
        attachments, comments = case_file(session, item["case_id"])
        # Once rectification has begun, every step of it is done with the ledger in view.
        findings = ledger.findings(session, item["case_id"], item["case"]["data"].get("findings"))
        rectifying = any(f.status is not None for f in findings)  # items were opened on the ledger
        visits = ledger.visit_ledger(session, item["case_id"]) if rectifying else []
    names = {"step": step_name(item["process_key"], item["step_id"], item["step_name"]),
             "process": process_name(item["process_key"], item["process_name"]),
             "instructions": step_instructions(item["process_key"], item["step_id"], item["instructions"])}
    return render_template("tasks/task.html", item=item, names=names, case=item["case"], values=values, errors=errors,
                           due_at=parse_utc(item["due_at"]), findings=findings, visits=visits, rectifying=rectifying,
                           roles=ROLES, audit_types=AUDIT_TYPES, unit_levels=UNIT_LEVELS, kept=kept,
                           attachments=attachments, comments=comments), status


@bp.route("/<int:item_id>")
@login_required
def view(item_id: int):
    item = engine().work_item(item_id, current_actor())
    return _page(item, initial_values(item["form"] or {}), {})


@bp.route("/<int:item_id>", methods=["POST"])
@login_required
def complete(item_id: int):
    """Complete the item with the posted form; on any refusal the page comes back with what was typed."""
    actor = current_actor()
    item = engine().work_item(item_id, actor)
    data = parse_submission(item["form"] or {"type": "object"}, request.form)
    try:
        case = engine().complete(item_id, data, actor)
    except InvalidData as err:
        flash(_("表单有误，请按提示修改后再提交。"), "error")
        return _page(item, data, err.details_in(str(get_locale())), 400)
    except DubanError as err:  # done or cancelled meanwhile, claimed by another, the case paused or failing
        flash(_("未能办理：%(reason)s。您填写的内容保留在下方。", reason=err.message.rstrip("。")), "error")
        return _page(_fresh(item, actor), data, {}, err.http_status, kept=True)
    flash(_completed_message(item, case))
    return redirect(url_for("inbox.index"))


def _fresh(item: dict, actor) -> dict:
    """The item as it is now, for the page that shows why it could not be completed."""
    try:
        return engine().work_item(item["id"], actor)
    except DubanError:
        return {**item, "may_work": False}


def _completed_message(item: dict, case) -> str:
    """What happened, and what comes next from this step: not another department's parallel work."""
    key = item["process_key"]
    step = step_name(key, item["step_id"], item["step_name"])
    if case.status == "completed":
        return _("已办理：%(step)s；项目已办结。", step=step)
    if case.opened:
        return _("已办理：%(step)s；下一步：%(next)s。", step=step, next=listing(step_names(key, case.opened)))
    if case.current_steps:
        others = listing(step_names(key, case.current_steps.split("、")))
        return _("已办理：%(step)s；其他环节仍在办理中：%(others)s。", step=step, others=others)
    return _("已办理：%(step)s。", step=step)
