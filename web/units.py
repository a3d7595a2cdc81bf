"""单位管理: the unit tree campaigns cascade down and responsibility reports go out to — seen by the offices
(users not limited to units), kept by the organization department and the leading office: add a unit, import
the tree from a sheet (nothing imported when a row is wrong), stop or resume a unit."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from engine import audit
from engine.errors import Forbidden, InvalidData
from handlers import units

from .auth import current_actor, engine

bp = Blueprint("units", __name__, url_prefix="/units")

KEEPERS = frozenset({"organization", "leading_office"})
MAX_SHEET_BYTES = 5 * 1024 * 1024


@bp.before_request
def _offices_only():
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    actor = current_actor()
    if not actor.operator and actor.units is not None:
        raise Forbidden(_("单位管理由组织部、领导小组办公室等机关办理"))
    return None


def _may_keep() -> bool:
    actor = current_actor()
    return actor.operator or bool(actor.roles & KEEPERS)


def _require_keeper() -> None:
    if not _may_keep():
        raise Forbidden(_("只有组织部和领导小组办公室可以维护单位"))


def _page(problems=None, status: int = 200):
    with engine().db.reading() as session:
        rows = units.tree(session)
    return render_template("units/index.html", rows=rows, kinds=units.KINDS, problems=problems or [],
                           may_keep=_may_keep(), columns=list(units.COLUMNS)), status


@bp.get("/")
def index():
    return _page()


@bp.post("/")
def add():
    _require_keeper()
    form = request.form
    try:
        with engine().db.transaction() as session:
            if units.by_name(session, form.get("name", "")):
                raise InvalidData(_("单位已存在"), details={"name": [_("已有同名单位")]})
            unit = units.ensure(session, form.get("name", ""), form.get("parent") or None,
                                form.get("kind") or "unit", form.get("principal", ""))
            name = unit.name
            audit.record(session, current_actor().username, "units_changed", f"unit:{name}",
                         {"change": "added", "parent": form.get("parent") or None, "kind": unit.kind}, engine().clock())
    except InvalidData as err:
        flash("；".join([err.message, *["；".join(v) for v in (err.details or {}).values()]]), "error")
        return _page(status=400)
    flash(_("已添加单位：%(name)s", name=name))
    return redirect(url_for("units.index"))


@bp.post("/import")
def import_sheet():
    _require_keeper()
    upload = request.files.get("sheet")
    if upload is None or not upload.filename:
        flash(_("请选择单位表文件（.xlsx 或 .csv）。"), "error")
        return _page(status=400)
    content = upload.read(MAX_SHEET_BYTES + 1)
    if len(content) > MAX_SHEET_BYTES:
        flash(_("文件过大（最多 5 MB）。"), "error")
        return _page(status=400)
    rows, problems = units.read_sheet(content, upload.filename)
    created = 0
    if rows:  # the good rows are tried too, so one upload names every wrong row
        with engine().db.transaction() as session:
            created, more = units.import_rows(session, rows)
            problems = sorted([*problems, *more], key=lambda p: p.row)
            if problems:
                session.rollback()
            else:
                audit.record(session, current_actor().username, "units_changed", f"units:{upload.filename[:200]}",
                             {"change": "imported", "rows": len(rows), "created": created}, engine().clock())
    if problems:
        flash(_("单位表有误，未导入任何单位：请按下表修改后重新上传。"), "error")
        return _page(problems, 400)
    flash(_("已导入 %(n)s 个单位（表中 %(m)s 行）。", n=created, m=len(rows)))
    return redirect(url_for("units.index"))


@bp.post("/<int:unit_id>/active")
def toggle(unit_id: int):
    _require_keeper()
    with engine().db.transaction() as session:
        unit = session.get(units.OrgUnit, unit_id)
        if unit is None:
            raise InvalidData(_("单位不存在"))
        unit.active = request.form.get("active") == "1"
        name, active = unit.name, unit.active
        audit.record(session, current_actor().username, "units_changed", f"unit:{name}",
                     {"change": "resumed" if active else "stopped"}, engine().clock())
    flash(_("已恢复单位：%(name)s", name=name) if active else _("已停用单位：%(name)s（不再列入新的活动和报告）", name=name))
    return redirect(url_for("units.index"))
