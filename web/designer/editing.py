"""Drafts: opened from a version, edited in the bpmn-js modeler, saved and validated on the server (problems on their
elements), compared with the current version, deployed or discarded. Designers only."""
from __future__ import annotations

from flask import Response, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine import drafts
from engine.errors import InvalidData, ValidationFailed

from ..auth import current_actor, engine
from ..cases import DIAGRAM_CSS
from . import bp, require_designer
from .decisions import problem_dicts

MODELER_JS = "bpmn-modeler.production.min.js"


@bp.route("/assets/bpmn-modeler.js")
def asset_modeler():
    from flask import abort, send_from_directory

    from ..cases import BPMN_DIST

    if not (BPMN_DIST / MODELER_JS).is_file():
        abort(404)
    return send_from_directory(BPMN_DIST, MODELER_JS, mimetype="text/javascript", max_age=86400)


@bp.route("/processes/<key>/drafts", methods=["POST"])
def draft_new(key: str):
    require_designer()
    version = request.form.get("version", type=int)
    with engine().db.transaction() as session:
        draft_id = drafts.create_draft(session, key, current_actor(), engine().clock(), version).id
    flash(_("已建立草稿 #%(id)s", id=draft_id))
    return redirect(url_for("designer.draft", draft_id=draft_id))


@bp.route("/drafts/<int:draft_id>")
def draft(draft_id: int):
    require_designer()
    with engine().db.reading() as session:
        row = drafts.get_draft(session, draft_id)
        base = drafts.newest_version(session, row.process_key)
        view = {"id": row.id, "process_key": row.process_key, "filename": row.filename, "status": row.status,
                "updated_by": row.updated_by, "updated_at": row.updated_at,
                "forms": sorted(p[len("forms/"):] for p in row.files if p.startswith("forms/")),
                "decisions": sorted(p[len("decisions/"):] for p in row.files if p.startswith("decisions/")),
                "problems": problem_dicts(row.problems), "base": base.version if base else None}
    return render_template("designer/draft.html", draft=view, diagram_css=DIAGRAM_CSS)


@bp.route("/drafts/<int:draft_id>/draft.bpmn")
def draft_xml(draft_id: int):
    require_designer()
    with engine().db.reading() as session:
        row = drafts.get_draft(session, draft_id)
        return Response(row.files[row.filename], mimetype="application/xml")


@bp.route("/drafts/<int:draft_id>", methods=["POST"])
def draft_save(draft_id: int):
    """Save the modeler's XML (JSON {"xml": ...}); answers the problems of the whole draft."""
    require_designer()
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("xml"), str):
        raise InvalidData(_("请求内容应为 {\"xml\": \"…\"}"), details={"xml": [_("缺少流程图")]})
    with engine().db.transaction() as session:
        row = drafts.get_draft(session, draft_id)
        problems = drafts.save_draft(session, draft_id, {row.filename: body["xml"]}, current_actor(), engine().clock())
    return jsonify({"saved": True, "problems": problem_dicts(problems)})


@bp.route("/drafts/<int:draft_id>/discard", methods=["POST"])
def draft_discard(draft_id: int):
    require_designer()
    with engine().db.transaction() as session:
        key = drafts.get_draft(session, draft_id).process_key
        drafts.discard_draft(session, draft_id, current_actor(), engine().clock())
    flash(_("草稿 #%(id)s 已放弃", id=draft_id))
    return redirect(url_for("designer.process", key=key))


@bp.route("/drafts/<int:draft_id>/diff")
def draft_diff(draft_id: int):
    require_designer()
    with engine().db.reading() as session:
        row = drafts.get_draft(session, draft_id)
        diff = drafts.draft_diff(session, draft_id).as_dict()
        base = drafts.newest_version(session, row.process_key)
        view = {"id": row.id, "process_key": row.process_key, "status": row.status,
                "problems": problem_dicts(row.problems), "base": base.version if base else None}
    groups = [(kind, title, [e for e in diff["elements"] if e["change"] == kind])
              for kind, title in (("added", _("新增")), ("changed", _("修改")), ("removed", _("删除")))]
    return render_template("designer/diff.html", draft=view, diff=diff, groups=groups, diagram_css=DIAGRAM_CSS,
                           markers={e["element_id"]: e["change"] for e in diff["elements"]})


@bp.route("/drafts/<int:draft_id>/deploy", methods=["POST"])
def draft_deploy(draft_id: int):
    require_designer()
    try:
        outcome = drafts.deploy_draft(engine(), draft_id, current_actor())
    except ValidationFailed as err:
        flash(_("未部署：草稿有 %(n)s 个问题，请先修正", n=len(err.details or [])), "error")
        return redirect(url_for("designer.draft", draft_id=draft_id))
    with engine().db.reading() as session:
        key = drafts.get_draft(session, draft_id).process_key
    if not outcome.get("new"):
        flash(_("内容与已部署的第 %(v)s 版相同，未产生新版本", v=outcome["version"]))
        return redirect(url_for("designer.process", key=key))
    flash(_("已部署第 %(v)s 版", v=outcome["version"]))
    return redirect(url_for("designer.migrate", key=key, version=outcome["version"]))
