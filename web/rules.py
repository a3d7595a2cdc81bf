"""决策规则: the deployed decision tables as people read them — which rule made a cadre a must-audit
subject, what a demerit total leads to, how the grade follows the score. Read-only, for everyone signed in:
the rules are the office's published policy."""
from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import login_required

from engine.decisions import deployed, table_view

from .auth import engine

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
    return render_template("rules/show.html", version=found, table=view)
