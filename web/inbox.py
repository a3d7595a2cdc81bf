"""The clerk's inbox: my work and my roles' unclaimed work, filtered and paged; claim, release, reassign."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from engine.inbox import COUNT_CAP, InboxQuery, filter_choices, inbox
from engine.models import User
from engine.notifications import mark_read, recent, unread_count, work_items_of
from engine.roles import ROLES

from .auth import current_actor, engine, safe_next
from .i18n import english, person


bp = Blueprint("inbox", __name__)


@bp.route("/")
@login_required
def index():
    query = InboxQuery.parse(request.args)
    now = engine().clock()
    with engine().db.reading() as session:
        page = inbox(session, current_actor(), query, now)
        choices = filter_choices(session, current_actor(), str(get_locale()))
        clerks = _clerks(session) if "supervisor" in current_actor().roles else []
    return render_template("inbox/index.html", page=page, query=query, choices=choices, now=now,
                           roles=ROLES, clerks=clerks, args=request.args, count_cap=COUNT_CAP)


def _clerks(session) -> list[tuple[str, str, list[str]]]:
    users = session.scalars(select(User).order_by(User.username)).all()
    return [(u.username, u.display_name, list(u.roles or [])) for u in users]


@bp.app_context_processor
def _unread_notifications():
    """The bell in the header: unread 催办/督办 messages of the signed-in user."""
    if not current_user.is_authenticated:
        return {}
    with engine().db.reading() as session:
        return {"unread_notifications": unread_count(session, current_user.username)}


@bp.route("/notifications")
@login_required
def notifications():
    with engine().db.reading() as session:
        count, rows = unread_count(session, current_user.username), recent(session, current_user.username)
        items = work_items_of(session, rows) if english() else {}
    if count:
        with engine().db.transaction() as session:
            mark_read(session, current_user.username, engine().clock())
    return render_template("inbox/notifications.html", rows=rows, unread_count=count, items=items)


def _back():
    return redirect(safe_next(request.form.get("next")) or url_for("inbox.index"))


@bp.route("/work-items/<int:item_id>/claim", methods=["POST"])
@login_required
def claim(item_id: int):
    engine().claim(item_id, current_actor())
    flash(_("已签收，该事项只在您的待办中显示"))
    return _back()


@bp.route("/work-items/<int:item_id>/release", methods=["POST"])
@login_required
def release(item_id: int):
    engine().release(item_id, current_actor())
    flash(_("已取消签收，同角色的人员都可以签收"))
    return _back()


@bp.route("/work-items/<int:item_id>/reassign", methods=["POST"])
@login_required
def reassign(item_id: int):
    target = (request.form.get("username") or "").strip()[:100]
    engine().reassign(item_id, target, current_actor())
    flash(_("已改派给 %(name)s", name=person(target)))
    return _back()
