"""Opening a joint-audit project (发起联审 / 新建立项) in the browser: pick the city's process, fill its start form.

Only users with the start event's role see a process here, and a clerk limited to units can open
projects of those units only (the unit field becomes a choice of them).
"""
from __future__ import annotations

import copy

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext as _
from flask_login import login_required

from engine.errors import DubanError, InvalidData
from engine.forms import check_form

from .auth import current_actor, engine
from .formrender import initial_values, parse_submission

bp = Blueprint("start", __name__, url_prefix="/cases/new")


def _startable() -> list[dict]:
    return engine().startable(current_actor())


@bp.route("/")
@login_required
def choose():
    processes = _startable()
    if len(processes) == 1:
        return redirect(url_for("start.form", process_key=processes[0]["process_key"]))
    return render_template("start/choose.html", processes=processes)


def _process(process_key: str) -> dict:
    found = next((p for p in _startable() if p["process_key"] == process_key), None)
    if found is None:
        abort(404)  # not deployed, or not one this user may open: the same answer either way
    return found


def _form(process: dict) -> dict:
    """The start form; for a clerk limited to units, the unit is one of theirs."""
    schema = process["start"].get("form") or {"type": "object", "properties": {}}
    units = current_actor().units
    if units is not None and "unit" in (schema.get("properties") or {}):
        schema = copy.deepcopy(schema)
        schema["properties"]["unit"]["oneOf"] = [{"const": u, "title": u} for u in sorted(units)]
    return schema


def _page(process: dict, values: dict, errors: dict, status: int = 200):
    return render_template("start/form.html", process=process, form=_form(process), values=values,
                           errors=errors), status


@bp.route("/<process_key>")
@login_required
def form(process_key: str):
    process = _process(process_key)
    return _page(process, initial_values(_form(process)), {})


@bp.route("/<process_key>", methods=["POST"])
@login_required
def start(process_key: str):
    process = _process(process_key)
    schema = _form(process)
    data = parse_submission(schema, request.form)
    try:
        check_form(schema, data, "立项")  # the units this clerk may choose, at the field
        case_id = engine().start_case(process_key, data, current_actor(), by_hand=True)
    except InvalidData as err:
        flash(_("表单有误，请按提示修改后再提交。"), "error")
        return _page(process, data, err.details_in(str(get_locale())), 400)
    except DubanError as err:
        flash(_("未能立项：%(reason)s。您填写的内容保留在下方。", reason=err.message.rstrip("。")), "error")
        return _page(process, data, {}, err.http_status)
    flash(_("已立项：项目编号 %(id)s。", id=case_id))
    return redirect(url_for("cases.view", case_id=case_id))
