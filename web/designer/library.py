"""The process library: processes and decision tables with their versions (placeholder until built)."""
from __future__ import annotations

from flask import render_template

from . import bp


@bp.route("/")
def index():
    return render_template("designer/index.html")
