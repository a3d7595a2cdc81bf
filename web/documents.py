"""公文 on the case page: generate a joint audit's official documents and download them.

Generating takes the next 发文字号 and files the .docx as the case's attachment (handlers.documents);
downloads follow the documents' own rule (a unit clerk downloads the documents of the unit's own case and issues none).
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine.errors import DubanError, InvalidData
from handlers import documents

from .auth import current_actor, engine

bp = Blueprint("documents", __name__, url_prefix="/cases")


@bp.route("/<int:case_id>/documents", methods=["POST"])
@login_required
def generate(case_id: int):
    back = url_for("cases.view", case_id=case_id, _anchor="documents")
    try:
        with engine().db.transaction() as session:
            row = documents.generate(session, case_id, request.form.get("kind", ""), current_actor(), engine().clock())
            number, kind_name = row.number, documents.KINDS[row.kind].name
    except InvalidData as err:  # not ready, unknown kind: back to the case with the reason; Forbidden → 403
        flash(err.one_line(), "error")
        return redirect(back)
    flash(_("已生成%(kind)s，发文字号 %(number)s", kind=kind_name, number=number))
    return redirect(back)


@bp.route("/<int:case_id>/documents/<int:document_id>")
@login_required
def download(case_id: int, document_id: int):
    with engine().db.reading() as session:
        row, attachment, path = documents.document_file(session, case_id, document_id, current_actor())
    response = send_file(path, mimetype=documents.DOCX, as_attachment=True, conditional=True, etag=attachment.sha256,
                         download_name=attachment.filename)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.app_template_global("case_documents")
def case_documents(case_id: int) -> dict | None:
    """For the case page: the context of documents/_section.html, or None when the viewer has nothing to see."""
    if not current_user.is_authenticated:
        return None
    try:
        with engine().db.reading() as session:
            rows, may_generate = documents.case_documents(session, case_id, current_actor())
    except DubanError:
        return None
    if not rows and not may_generate:
        return None
    return {"case_id": case_id, "rows": rows, "may_generate": may_generate,
            "kinds": [(code, kind.name) for code, kind in documents.KINDS.items()]}
