"""决策规则: the deployed decision tables as people read them — which rule made a cadre a must-audit
subject, what a demerit total leads to, how the grade follows the score. Read-only, for everyone signed in:
the rules are the office's published policy."""
from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import login_required

import re

from flask_babel import gettext as _

from engine.decisions import deployed, table_view
from handlers import registered_code_names
from handlers.cadres import LEAVING_REASONS, UNIT_LEVELS

from .auth import engine
from .i18n import english

def _codes() -> dict[str, tuple[str, str]]:
    return {**registered_code_names(), **LEAVING_REASONS, **UNIT_LEVELS}
_OPERATORS = {">=": "≥", "<=": "≤", "!=": "≠", "==": "="}


def readable(cell: str) -> str:
    """A cell as an office reads it: coded values by their names, 是/否 for truth values, ≥ for >=."""
    if cell in ("True", "False"):
        return _("是") if cell == "True" else _("否")
    codes = _codes()
    names = lambda m: (lambda n: n[1] if english() else n[0])(codes[m.group(1)]) if m.group(1) in codes else m.group(1)  # noqa: E731
    text = re.sub(r'"([^"]*)"', names, cell)
    listed = re.fullmatch(r"in \((.*)\)", text)
    if listed:
        return "、".join(part.strip() for part in listed.group(1).split(","))
    for op, sign in _OPERATORS.items():
        if text.startswith(op):
            return sign + text[len(op):]
    return codes[text][1 if english() else 0] if text in codes else text

bp = Blueprint("rules", __name__, url_prefix="/rules")


@bp.route("/")
@login_required
def index():
    with engine().db.reading() as session:
        versions = deployed(session)
        tables = [(v, table_view(v.dmn_xml)) for v in versions]
    return render_template("rules/index.html", tables=tables)


@bp.route("/<decision_id>")
@login_required
def show(decision_id: str):
    with engine().db.reading() as session:
        found = next((v for v in deployed(session) if v.decision_id == decision_id), None)
        if found is None:
            abort(404)
        view = table_view(found.dmn_xml)
    return render_template("rules/show.html", version=found, table=view, readable=readable)
