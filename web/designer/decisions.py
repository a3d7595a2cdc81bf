"""Decision tables in the designer: a deployed version as the table the offices read (engine.decisions.table_view,
as on 决策规则) and as dmn-js draws it, its .dmn exactly as deployed, and a draft's table edited in the dmn-js
modeler and saved into the draft (engine.drafts.save_draft validates it on the server).

dmn-js comes from node_modules (package.json) and is served from here, like bpmn-js in web/cases.py: its CSS
files are ours to serve, so the page needs no inline style under the Content-Security-Policy.
"""
from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Response, abort, jsonify, render_template, request, send_from_directory, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from engine.errors import InvalidData, NotFound
from engine.models import DecisionVersion

from ..auth import current_actor, engine
from ..rules import readable
from . import bp, require_designer

NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"
DMN_DIST = NODE_MODULES / "dmn-js" / "dist"
SCRIPTS = {"viewer": "dmn-viewer.production.min.js", "modeler": "dmn-modeler.production.min.js"}
ASSET_SUFFIXES = {".css", ".woff", ".woff2", ".ttf", ".eot", ".svg"}
# What the viewer needs, and what the modeler adds (its editing controls); the font is the embedded (data:) one.
VIEWER_CSS = ("diagram-js.css", "dmn-js-shared.css", "dmn-js-drd.css", "dmn-js-decision-table.css",
              "dmn-js-literal-expression.css", "dmn-js-boxed-expression.css", "dmn-font/css/dmn-embedded.css")
MODELER_CSS = VIEWER_CSS + ("dmn-js-decision-table-controls.css", "dmn-js-boxed-expression-controls.css")
DECISION_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,150}\.dmn")


# --- dmn-js from node_modules ------------------------------------------------------------------------
# What style-src 'self' refuses in dmn-js, and how it is served instead (nothing else of the file changes):
# - a few bits of HTML with style="" attributes (the bpmn.io logo, its lightbox, the modeler's drag image): renamed
#   data-csp-style, and web/static/designer_dmn.js applies them through CSSOM (element.style), which the policy
#   allows — as bpmn-js does by itself;
# - the FEEL editor (CodeMirror's style-mod) writes its theme into a <style> element unless the root is a shadow
#   root: it is told to use a constructed stylesheet (document.adoptedStyleSheets, CSSOM too) for the document.
INLINE_STYLE = re.compile(r'(<[a-zA-Z][^<>"]*?(?:"[^"]*"[^<>"]*?)*?) style=(\\?")')
STYLE_TAG = re.compile(r"if\(!(\w+)\.head&&\1\.adoptedStyleSheets&&")


def csp_safe(script: str) -> str:
    script = STYLE_TAG.sub(r"if(\1.adoptedStyleSheets&&", script)
    return INLINE_STYLE.sub(r"\1 data-csp-style=\2", script)


@lru_cache(maxsize=4)
def _script(path: Path, mtime: float) -> tuple[bytes, str]:
    body = csp_safe(path.read_text(encoding="utf-8")).encode("utf-8")
    return body, hashlib.sha256(body).hexdigest()[:32]


@bp.route("/assets/dmn-<kind>.js")
def dmn_script(kind: str):
    script = SCRIPTS.get(kind)
    path = DMN_DIST / script if script else None
    if path is None or not path.is_file():
        abort(404)
    body, etag = _script(path, path.stat().st_mtime)
    response = Response(body, mimetype="text/javascript")
    response.set_etag(etag)
    response.cache_control.max_age = 86400
    return response.make_conditional(request)


@bp.route("/assets/dmn/<path:name>")
def dmn_asset(name: str):
    if Path(name).suffix.lower() not in ASSET_SUFFIXES:
        abort(404)
    return send_from_directory(DMN_DIST / "assets", name, max_age=86400)  # safe_join: 404 outside the folder


def dmn_available() -> bool:
    return all((DMN_DIST / script).is_file() for script in SCRIPTS.values())


# --- a deployed version ---------------------------------------------------------------------------------
def _version(session, decision_id: str, version: int) -> DecisionVersion:
    found = session.scalar(select(DecisionVersion).where(DecisionVersion.decision_id == decision_id,
                                                         DecisionVersion.version == version))
    if found is None:
        raise NotFound(_("决策表 %(id)s 没有第 %(n)s 版", id=decision_id, n=version))
    return found


@bp.route("/decisions/<decision_id>/versions/<int:version>")
def decision_version(decision_id: str, version: int):
    from engine.decisions import table_view

    with engine().db.reading() as session:
        found = _version(session, decision_id, version)
        versions = list(session.scalars(select(DecisionVersion).where(DecisionVersion.decision_id == decision_id)
                                        .order_by(DecisionVersion.version.desc())).all())
        table = table_view(found.dmn_xml)
        session.expunge_all()
    return render_template("designer/decision_version.html", version=found, versions=versions, table=table,
                           readable=readable, dmn_css=VIEWER_CSS, dmn_ready=dmn_available(),
                           download=url_for("designer.decision_download", decision_id=decision_id, version=version))


@bp.route("/decisions/<decision_id>/versions/<int:version>/download")
def decision_download(decision_id: str, version: int):
    """The .dmn as deployed, byte for byte (the stored text is the file's text); opens in Camunda Modeler."""
    with engine().db.reading() as session:
        found = _version(session, decision_id, version)
        body, name = found.dmn_xml.encode("utf-8"), found.filename
    response = Response(body, mimetype="application/xml")
    response.headers["Content-Disposition"] = f"attachment; filename={name}"
    return response


# --- a draft's table in the modeler -------------------------------------------------------------------
def _draft_file(draft_id: int, name: str) -> tuple[Any, str]:
    from engine import drafts

    if not DECISION_NAME.fullmatch(name):
        raise NotFound(_("决策表文件名无效：%(name)s", name=name))
    with engine().db.reading() as session:
        draft = drafts.get_draft(session, draft_id)
        session.expunge(draft)
    text = (draft.files or {}).get(f"decisions/{name}")
    if text is None:
        raise NotFound(_("草稿中没有决策表 %(name)s", name=name))
    return draft, text


def problem_dicts(problems) -> list[dict[str, Any]]:
    """Problems as the page lists them: the `FILE:LINE: ID: message` line `duban validate` prints, and its parts."""
    out = []
    for p in problems or []:
        if isinstance(p, dict):
            file, line, element, message = p.get("file"), p.get("line"), p.get("element_id"), p.get("message")
            text = f"{file}:{line}: {element}: {message}"
        else:
            file, line, element, message, text = p.file, p.line, p.element_id, p.message, str(p)
        out.append({"file": file, "line": line, "element_id": element, "message": message, "text": text})
    return out


def draft_url(draft_id: int) -> str | None:
    """The draft editor of the web helper's pages, when it is there."""
    try:
        return url_for("designer.draft", draft_id=draft_id)
    except Exception:  # werkzeug BuildError: that page is not registered (yet)
        return None


@bp.route("/drafts/<int:draft_id>/decisions/<name>")
def decision_edit(draft_id: int, name: str):
    require_designer()
    draft, _text = _draft_file(draft_id, name)
    mine = [p for p in problem_dicts(draft.problems) if p["file"] == f"decisions/{name}"]
    return render_template("designer/decision_edit.html", draft=draft, name=name, problems=mine,
                           dmn_css=MODELER_CSS, dmn_ready=dmn_available(), back=draft_url(draft_id),
                           xml_url=url_for("designer.decision_xml", draft_id=draft_id, name=name),
                           save_url=url_for("designer.decision_save", draft_id=draft_id, name=name))


@bp.route("/drafts/<int:draft_id>/decisions/<name>/xml")
def decision_xml(draft_id: int, name: str):
    require_designer()
    _draft, text = _draft_file(draft_id, name)
    return Response(text.encode("utf-8"), mimetype="application/xml")


@bp.route("/drafts/<int:draft_id>/decisions/<name>", methods=["POST"])
def decision_save(draft_id: int, name: str):
    """The modeler's XML into the draft (fetch, body = the XML); answers the draft's problems of this file."""
    require_designer()
    from engine import drafts

    _draft_file(draft_id, name)  # 404 for a table the draft does not have
    xml = request.get_data(as_text=True)
    if not xml.strip():
        raise InvalidData(_("决策表内容为空，未保存"))
    eng = engine()
    with eng.db.transaction() as session:
        problems = drafts.save_draft(session, draft_id, {f"decisions/{name}": xml}, current_actor(), eng.clock())
    listed = problem_dicts(problems)
    return jsonify({"saved": True, "problems": listed,
                    "mine": [p for p in listed if p["file"] == f"decisions/{name}"]})
