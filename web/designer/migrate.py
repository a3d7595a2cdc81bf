"""Moving running projects to a version: which can move and which cannot (and why), then moving the selected ones,
each in its own transaction, in batches the page posts with a progress bar (or in one plain form post)."""
from __future__ import annotations

from flask import abort, jsonify, render_template, request
from flask_babel import gettext as _

from engine import migration
from engine.errors import DubanError, InvalidData

from ..auth import current_actor, engine
from . import bp, require_designer

BATCH = 20  # case ids one request may move


def _move(key: str, case_id: int, version: int) -> dict:
    from engine.models import Case

    with engine().db.reading() as session:
        case = session.get(Case, case_id)
        if case is None or case.process_key != key:
            return {"case_id": case_id, "moved": False, "reasons": [_("不是此流程的项目")]}
    try:
        moved = migration.migrate_case(engine(), case_id, version, current_actor())
        return {"case_id": case_id, "moved": True, "reasons": [], "title": moved.title}
    except DubanError as err:
        reasons = (err.details or {}).get("reasons") if isinstance(err.details, dict) else None
        return {"case_id": case_id, "moved": False, "reasons": reasons or [err.message]}


@bp.route("/processes/<key>/versions/<int:version>/migrate", methods=["GET", "POST"])
def migrate(key: str, version: int):
    require_designer()
    results = None
    if request.method == "POST":
        ids = [int(v) for v in request.form.getlist("case") if v.isdigit()]
        results = {r["case_id"]: r for r in (_move(key, i, version) for i in ids)}
    try:
        plan = migration.migration_plan(engine(), key, version, current_actor())
    except DubanError as err:
        if err.code == "not_found":
            abort(404)
        raise
    movable = [m for m in plan if m.movable]
    refused = [m for m in plan if not m.movable]
    return render_template("designer/migrate.html", key=key, version=version, movable=movable, refused=refused,
                           results=results)


@bp.route("/processes/<key>/versions/<int:version>/migrate.json", methods=["POST"])
def migrate_batch(key: str, version: int):
    """{"cases": [ids]} → per case {case_id, moved, reasons}; each case its own transaction."""
    require_designer()
    body = request.get_json(silent=True)
    ids = body.get("cases") if isinstance(body, dict) else None
    if not isinstance(ids, list) or not ids or len(ids) > BATCH or not all(isinstance(i, int) for i in ids):
        raise InvalidData(_("请求内容应为 {\"cases\": [项目编号]}"), details={"cases": [_("每次 1 至 %(n)s 个", n=BATCH)]})
    return jsonify({"results": [_move(key, i, version) for i in ids]})
