"""The process library: every process and decision table with its versions, the diagram and forms of each, and its
files downloaded exactly as deployed."""
from __future__ import annotations

from urllib.parse import quote

from flask import Response, abort, render_template, request
from sqlalchemy import func, select

from engine import audit, drafts
from engine.models import Case, DecisionVersion, ProcessVersion
from engine.specs import english_diagram

from ..auth import engine
from ..cases import BPMN_DIST, DIAGRAM_CSS, VIEWER_JS
from ..i18n import english_diagram_asked, process_name
from . import bp


def _running(session) -> dict[int, int]:
    """Running (or waiting in error, or suspended) projects per version id."""
    return dict(session.execute(select(Case.process_version_id, func.count()).where(
        Case.status.in_(("running", "error", "suspended"))).group_by(Case.process_version_id)).all())


def _version(session, key: str, version: int) -> ProcessVersion:
    row = session.scalars(select(ProcessVersion).where(ProcessVersion.process_key == key,
                                                       ProcessVersion.version == version)).first()
    if row is None:
        abort(404)
    return row


@bp.route("/")
def index():
    with engine().db.reading() as session:
        running = _running(session)
        rows = session.execute(select(ProcessVersion.id, ProcessVersion.process_key, ProcessVersion.version,
                                      ProcessVersion.name, ProcessVersion.deployed_at)
                               .order_by(ProcessVersion.process_key, ProcessVersion.version)).all()
        processes: dict[str, dict] = {}
        for row in rows:
            entry = processes.setdefault(row.process_key, {"key": row.process_key, "versions": 0, "running": 0})
            entry.update(name=process_name(row.process_key, row.name), newest=row.version, deployed_at=row.deployed_at)
            entry["versions"] += 1
            entry["running"] += running.get(row.id, 0)
        tables: dict[str, dict] = {}
        for row in session.execute(select(DecisionVersion.decision_id, DecisionVersion.version, DecisionVersion.name)
                                   .order_by(DecisionVersion.decision_id, DecisionVersion.version)).all():
            tables[row.decision_id] = {"id": row.decision_id, "name": row.name, "newest": row.version}
        open_drafts = [{"id": d.id, "process_key": d.process_key, "updated_by": d.updated_by,
                        "updated_at": d.updated_at, "problems": len(d.problems or [])}
                       for d in drafts.drafts(session)]
    return render_template("designer/index.html", processes=sorted(processes.values(), key=lambda p: p["name"]),
                           tables=sorted(tables.values(), key=lambda t: t["name"]), drafts=open_drafts)


@bp.route("/processes/<key>")
def process(key: str):
    with engine().db.reading() as session:
        running = _running(session)
        versions = session.scalars(select(ProcessVersion).where(ProcessVersion.process_key == key)
                                   .order_by(ProcessVersion.version.desc())).all()
        if not versions:
            abort(404)
        rows = [{"version": v.version, "deployed_by": v.deployed_by, "deployed_at": v.deployed_at,
                 "hash": v.content_hash, "filename": v.filename, "running": running.get(v.id, 0)} for v in versions]
        newest = versions[0]
        asked = request.args.get("v", type=int)
        shown = next((v for v in versions if v.version == asked), newest)
        forms = _forms(shown)
        log = audit.entries(session, subject_prefix=f"process:{key}", limit=30)
        open_drafts = drafts.drafts(session, process_key=key)
        name = process_name(key, newest.name, newest.catalogue)
    return render_template("designer/process.html", key=key, name=name, versions=rows, newest=newest.version,
                           shown=shown.version,
                           forms=forms, log=log, drafts=open_drafts, diagram_css=DIAGRAM_CSS,
                           viewer_available=(BPMN_DIST / VIEWER_JS).is_file())


def _forms(version: ProcessVersion) -> list[dict]:
    """Each form of the version with the steps that use it, drawn as the clerk's task page draws it."""
    from .forms import initial_values, placeholder_options

    found: dict[str, dict] = {}
    for step in (version.catalogue or {}).get("steps", {}).values():
        if step.get("form_file") and isinstance(step.get("form"), dict):
            entry = found.setdefault(step["form_file"], {"name": step["form_file"], "steps": [], "html": ""})
            entry["steps"].append(step.get("name") or "")
            if not entry["html"]:
                schema = placeholder_options(step["form"])
                entry["html"] = render_template("designer/form_preview.html", schema=schema,
                                                values=initial_values(schema))
    return sorted(found.values(), key=lambda f: f["name"])


@bp.route("/processes/<key>/versions/<int:version>/diagram.bpmn")
def version_diagram(key: str, version: int):
    with engine().db.reading() as session:
        xml = _version(session, key, version).bpmn_xml
    return Response(english_diagram(xml) if english_diagram_asked() else xml, mimetype="application/xml")


@bp.route("/processes/<key>/versions/<int:version>/download.bpmn")
def download_bpmn(key: str, version: int):
    """The BPMN file byte for byte as deployed, under its own name."""
    with engine().db.reading() as session:
        row = _version(session, key, version)
        body, filename = row.bpmn_xml.encode("utf-8"), row.filename
    return Response(body, mimetype="application/xml", headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"})


@bp.route("/processes/<key>/versions/<int:version>/download.zip")
def download_zip(key: str, version: int):
    """The BPMN with its forms and decision tables as deployed: unzipped, a folder `duban deploy` accepts."""
    with engine().db.reading() as session:
        row = _version(session, key, version)
        body = drafts.version_archive(session, row.id)
    return Response(body, mimetype="application/zip", headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(f'{key}-v{version}.zip')}"})
