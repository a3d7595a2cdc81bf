"""Rectification pages: "my rectification items" (我的整改事项) for the contact person, and the rectification
ledger (整改台账) and visit ledger (回访台账) of a case as Excel in the layout an office prints.

Views call handlers.rectification and handlers.ledger; no SQL lives here.
"""
from __future__ import annotations

import io
from datetime import timezone
from urllib.parse import quote

from flask import Blueprint, Response, render_template
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine import caselist
from engine.timers import OFFICE_TZ
from handlers import ledger
from handlers.rectification import my_items

from .auth import current_actor, engine

bp = Blueprint("rectification", __name__, url_prefix="/rectification")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.route("/mine")
@login_required
def mine():
    """The items whose rectification contact person is the signed-in account, open ones first."""
    with engine().db.reading() as session:
        items = my_items(session, current_user.username)
        titles = {}
        for item in items:
            if item.case_id not in titles:
                titles[item.case_id] = caselist.get_case(session, item.case_id).title
        rows = [ledger._with_item(ledger.FindingRow(i.item_no, i.duty, i.severity, i.description), i) for i in items]
    pairs = list(zip(items, rows))
    open_count = sum(1 for i in items if i.status == "open")
    return render_template("rectification/mine.html", pairs=pairs, titles=titles, open_count=open_count,
                           today=engine().clock().replace(tzinfo=timezone.utc).astimezone(OFFICE_TZ).date())


def _workbook(title: str, columns: list[str], rows: list[list], subtitle: str) -> bytes:
    """helper D's office layout when it is there (handlers.office_sheets), else a plain sheet with the same cells."""
    try:
        from handlers.office_sheets import workbook_bytes
    except ImportError:
        workbook_bytes = None
    if workbook_bytes is not None:
        return workbook_bytes(title, columns, rows, sheet_name=title, subtitle=subtitle)
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = title
    sheet.append([title])
    sheet.append([subtitle])
    sheet.append(columns)
    for row in rows:
        sheet.append(row)
    sheet.freeze_panes = "A4"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _download(case_id: int, kind: str) -> Response:
    actor = current_actor()
    with engine().db.reading() as session:
        case = caselist.seen_case(session, case_id, actor)  # NotFound -> 404, Forbidden -> 403
        data = engine().case(case_id, actor)["data"] or {}
        if kind == "ledger":
            rows = ledger.ledger_rows(ledger.findings(session, case_id, data.get("findings")))
            title, columns, ascii_kind = "整改台账", ledger.LEDGER_COLUMNS, "rectification-ledger"
        else:
            rows = ledger.visit_rows(ledger.visit_ledger(session, case_id))
            title, columns, ascii_kind = "回访台账", ledger.VISIT_COLUMNS, "visit-ledger"
        subtitle = f"{case.title}　项目编号 {case_id}"
    today = engine().clock().replace(tzinfo=timezone.utc).astimezone(OFFICE_TZ).date().isoformat()
    body = _workbook(title, columns, rows, subtitle)
    name = f"{title}-{data.get('unit') or case_id}-{today}.xlsx"
    return Response(body, mimetype=XLSX, headers={
        "Content-Disposition": f"attachment; filename=\"{ascii_kind}-{case_id}-{today}.xlsx\"; filename*=UTF-8''{quote(name)}",
        "Cache-Control": "no-store"})


@bp.route("/<int:case_id>/ledger.xlsx")
@login_required
def ledger_export(case_id: int):
    return _download(case_id, "ledger")


@bp.route("/<int:case_id>/visits.xlsx")
@login_required
def visits_export(case_id: int):
    return _download(case_id, "visits")
