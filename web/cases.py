"""Case pages: the case list, one case (header, open work, diagram, timeline, findings, visit ledger, case file),
uploads, downloads, comments, and the bpmn-js assets the diagram needs.

Views call engine.caselist, handlers.ledger, engine.casefile and the Engine; no SQL lives here.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, send_file, send_from_directory, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine import casefile, caselist
from engine.accounts import people
from engine.errors import InvalidData
from engine.roles import ROLES
from engine.specs import english_diagram
from engine.vocabulary import AUDIT_TYPES, UNIT_LEVELS
from handlers import ledger

from . import timeline
from .auth import current_actor, engine, safe_next
from .deadlines import case_light, parse_utc
from .i18n import english_diagram_asked, process_name, step_name

bp = Blueprint("cases", __name__, url_prefix="/cases")

NODE_MODULES = Path(__file__).resolve().parents[1] / "node_modules"
BPMN_DIST = NODE_MODULES / "bpmn-js" / "dist"
VIEWER_JS = "bpmn-navigated-viewer.production.min.js"  # drag to move, wheel or buttons to zoom
ASSET_SUFFIXES = {".css", ".woff", ".woff2", ".ttf", ".eot", ".svg"}
DIAGRAM_CSS = ("diagram-js.css", "bpmn-js.css", "bpmn-font/css/bpmn-embedded.css")



# --- the list ------------------------------------------------------------------------------
@bp.route("/")
@login_required
def index():
    query = caselist.CaseQuery.parse(request.args)
    actor = current_actor()
    with engine().db.reading() as session:
        page = caselist.list_cases(session, actor, query)
        processes = caselist.process_choices(session)
        units = caselist.unit_choices(session, actor)
    return render_template("cases/index.html", page=page, query=query, processes=processes, units=units,
                           statuses=caselist.STATUS_NAMES)


# --- one case --------------------------------------------------------------------------------
@bp.route("/<int:case_id>")
@login_required
def view(case_id: int):
    case = engine().case(case_id, current_actor())  # NotFound -> 404, Forbidden -> 403
    data = case["data"] or {}
    with engine().db.reading() as session:
        attachments, comments = casefile.case_file(session, case_id)
        findings = ledger.findings(session, case_id, data.get("findings"))
        visits = ledger.visit_ledger(session, case_id)
        version = engine().versions.get(session, case["process_version_id"])
        who = people(session, timeline.actors(case["history"]))
    work_items = [_work_item(item, version.catalogue) for item in case["work_items"]]
    current_ids = sorted({item["step_id"] for item in case["work_items"]})
    done_ids = sorted({e["step_id"] for e in case["history"] if e["kind"] in timeline.FINISHED_KINDS and e["step_id"]}
                      - set(current_ids))
    header = {
        "cadre_name": data.get("cadre_name") or "", "post": data.get("post") or "",
        "unit": data.get("unit") or case["unit"],
        "unit_level": UNIT_LEVELS.get(data.get("unit_level"), data.get("unit_level") or ""),
        "audit_type": AUDIT_TYPES.get(data.get("audit_type"), data.get("audit_type") or ""),
    }
    return render_template(
        "cases/view.html", case=case, case_id=case_id, header=header, status_name=caselist.STATUS_NAMES.get(case["status"], case["status"]),
        started_at=parse_utc(case["started_at"]), last_activity_at=parse_utc(case["last_activity_at"]),
        completed_at=parse_utc(case["completed_at"]),
        work_items=work_items, light=case_light(case["status"], [(i["due"], i["step_name"]) for i in work_items]),
        timeline=timeline.timeline(case["history"], version.catalogue, who, case["process_key"]),
        process_label=process_name(case["process_key"], case["process_name"], version.catalogue),
        findings=findings, visits=visits, attachments=attachments, comments=comments,
        done_ids=json.dumps(done_ids), current_ids=json.dumps(current_ids),
        viewer_available=(BPMN_DIST / VIEWER_JS).is_file(), diagram_css=DIAGRAM_CSS,
        next=url_for("cases.view", case_id=case_id), allowed_types=" ".join(sorted(casefile.ALLOWED_TYPES)),
    )


@bp.route("/<int:case_id>/diagram.bpmn")
@login_required
def diagram(case_id: int):
    with engine().db.reading() as session:
        xml = caselist.case_bpmn(session, case_id, current_actor())
    return Response(english_diagram(xml) if english_diagram_asked() else xml, mimetype="application/xml",
                    headers={"Cache-Control": "private, max-age=3600"})


# --- the case file ---------------------------------------------------------------------------
@bp.route("/<int:case_id>/attachments", methods=["POST"])
@login_required
def upload(case_id: int):
    actor = current_actor()
    back = _back(case_id, "attachments")
    with engine().db.reading() as session:
        caselist.seen_case(session, case_id, actor)
    file = request.files.get("file")
    if file is None or not file.filename:
        flash(_("请选择要上传的文件"), "error")
        return redirect(back)
    upload_ = casefile.Upload(file.filename, file.read())
    try:
        with engine().db.transaction() as session:
            caselist.seen_case(session, case_id, actor)
            work_item_id = _work_item_id(session, case_id)
            casefile.add_attachment(session, case_id, upload_, current_user.username, engine().clock(), work_item_id)
    except InvalidData as err:
        flash(err.one_line(), "error")
        return redirect(back)
    flash(_("已上传"))
    return redirect(back)


@bp.route("/attachments/<int:attachment_id>")
@login_required
def download(attachment_id: int):
    with engine().db.reading() as session:
        caselist.attachment_case(session, attachment_id, current_actor())  # access before the file is touched
        row, path = casefile.attachment_file(session, attachment_id)
    # Names stored before uploads were cleaned may hold CR/LF, which no header may carry.
    response = send_file(path, mimetype=row.content_type, as_attachment=True, conditional=True, etag=row.sha256,
                         download_name=casefile.clean_filename(row.filename) or f"attachment-{row.id}")
    response.headers["Cache-Control"] = "private, no-store"  # case files on shared office PCs
    return response


@bp.route("/<int:case_id>/comments", methods=["POST"])
@login_required
def comment(case_id: int):
    actor = current_actor()
    back = _back(case_id, "comments")
    try:
        with engine().db.transaction() as session:
            caselist.seen_case(session, case_id, actor)
            work_item_id = _work_item_id(session, case_id)
            casefile.add_comment(session, case_id, request.form.get("body", ""), current_user.username,
                                 engine().clock(), work_item_id)
    except InvalidData as err:
        flash(err.one_line(), "error")
        return redirect(back)
    flash(_("意见已提交"))
    return redirect(back)


# --- diagram assets (bpmn-js from node_modules) ------------------------------------------------
@bp.route("/assets/bpmn-viewer.js")
@login_required
def asset_viewer():
    if not (BPMN_DIST / VIEWER_JS).is_file():
        abort(404)
    return send_from_directory(BPMN_DIST, VIEWER_JS, mimetype="text/javascript", max_age=86400)


@bp.route("/assets/<path:name>")
@login_required
def asset(name: str):
    if Path(name).suffix.lower() not in ASSET_SUFFIXES:
        abort(404)
    return send_from_directory(BPMN_DIST / "assets", name, max_age=86400)  # safe_join: 404 outside the folder


# --- helpers ---------------------------------------------------------------------------------
@bp.app_template_filter("filesize")
def _filesize(size: int | None) -> str:
    size = int(size or 0)
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def _back(case_id: int, anchor: str) -> str:
    return safe_next(request.form.get("next")) or url_for("cases.view", case_id=case_id, _anchor=anchor)


def _work_item_id(session, case_id: int) -> int | None:
    raw = (request.form.get("work_item_id") or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or not caselist.work_item_in_case(session, int(raw), case_id):
        raise InvalidData(_("待办事项不属于此项目"), details={"work_item_id": [raw[:20]]})
    return int(raw)


def _work_item(item: dict[str, Any], catalogue: dict[str, Any]) -> dict[str, Any]:
    return {**item, "role_name": ROLES.get(item["role"], item["role"]), "due": parse_utc(item.get("due_at")),
            "step_name": step_name(item["process_key"], item["step_id"], item["step_name"], catalogue)}


@bp.get("/<int:case_id>/archive.zip")
@login_required
def archive(case_id: int):
    """The case as one checked archive (归档: history, work, attachments with their files, documents, records),
    for the case's supervisors; the same file `duban export` writes and `duban import` reads, audited."""
    import tempfile

    from engine.archive import export_case

    with tempfile.TemporaryDirectory(prefix="duban-archive-") as folder:
        path = Path(folder) / "case.zip"
        export_case(engine(), case_id, path, current_actor())
        body = path.read_bytes()
    name = f"项目{case_id}-归档.zip"
    return Response(body, mimetype="application/zip", headers={
        "Content-Disposition": f"attachment; filename=\"duban-case-{case_id}.zip\"; filename*=UTF-8''{quote(name)}",
        "Cache-Control": "no-store"})
