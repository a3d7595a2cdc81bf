"""The process designer's pages (流程设计): the process library with every deployed version, its diagram, forms and
files as deployed; drafts edited in the browser (bpmn-js modeler, dmn-js, the form editor) and validated on the
server; the diff against the current version; deploy; and moving running cases to a new version.

Designers (`designer` role) may do everything here; supervisors read the library only. Every designer action is
authorized again in the engine and written to the audit log there (engine.drafts, engine.migration).
"""
from __future__ import annotations

from flask import Blueprint, current_app
from flask_babel import gettext as _
from flask_login import current_user

from engine.errors import Forbidden

from ..auth import current_actor

bp = Blueprint("designer", __name__, url_prefix="/designer")


@bp.before_request
def _designers_and_supervisors():
    """Sign-in first (the login page for a browser), then 403 for anyone who neither designs nor oversees."""
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    actor = current_actor()
    if not (actor.designs or actor.oversees):
        raise Forbidden(_("只有流程设计员和督办人员可以查看流程库"))
    return None


def require_designer() -> None:
    """For the routes that change something: supervisors may look, not edit."""
    if not current_actor().designs:
        raise Forbidden(_("只有流程设计员可以编辑、部署流程或迁移项目"))


# The pages, one module per concern; each adds its routes to `bp`.
from . import library  # noqa: E402,F401  (process library, versions, downloads)
from . import decisions, forms  # noqa: E402,F401  (decision tables with dmn-js; the form editor)
from . import editing, migrate  # noqa: E402,F401  (drafts in the modeler, diff, deploy; moving running cases)
