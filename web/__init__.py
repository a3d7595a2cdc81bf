"""The web app: one factory, blueprints per audience (auth, inbox, tasks, cases, api)."""
from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask, request
from werkzeug.routing import IntegerConverter, ValidationError

from engine.db import Database
from engine.runtime import Engine
from engine.timers import OFFICE_TZ


def _secret_key(instance: Path) -> str:
    """DUBAN_SECRET_KEY, else a random key kept in the instance folder (so restarts keep sessions)."""
    if os.environ.get("DUBAN_SECRET_KEY"):
        return os.environ["DUBAN_SECRET_KEY"]
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


# Only this site's own files: no inline script or style, nothing from another host. bpmn-js draws with SVG
# attributes and CSSOM (element.style), which style-src does not govern; its embedded icon font is a data: URI.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; "
                           "form-action 'self'; frame-ancestors 'none'")
HSTS = "max-age=31536000"
MAX_ID = 2**31 - 1  # the database's integer ids


class IdConverter(IntegerConverter):
    """`<int:…>` in every route: only ids the database can hold (1..2**31-1); anything else is a 404, not a 500."""

    def __init__(self, map, fixed_digits=0, min=1, max=MAX_ID, signed=False) -> None:  # noqa: A002 (werkzeug's names)
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)

    def to_python(self, value: str) -> int:
        if len(value) > len(str(MAX_ID)):  # int() refuses 4,300+ digits with a ValueError
            raise ValidationError()
        return super().to_python(value)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_path=str(Path.cwd() / "instance"))
    config = test_config or {}
    app.config.update(
        SECRET_KEY=config.get("SECRET_KEY") or _secret_key(Path(app.instance_path)),
        DATABASE_URL=config.get("DATABASE_URL"),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=os.environ.get("DUBAN_SECURE_COOKIES", "0") == "1",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=8 * 3600,
        MAX_CONTENT_LENGTH=25 * 1024 * 1024,
        WTF_CSRF_TIME_LIMIT=8 * 3600,
        BABEL_DEFAULT_LOCALE="zh_CN",
        BABEL_DEFAULT_TIMEZONE=str(OFFICE_TZ),  # DUBAN_TIMEZONE, the zone deadlines are computed in
        DUBAN_LANGUAGES=("zh_CN", "en"),
    )
    app.config.update({k: v for k, v in config.items() if k.isupper()})

    app.url_map.converters["int"] = IdConverter  # before any blueprint adds its rules
    engine = Engine(Database(app.config["DATABASE_URL"]))
    app.extensions["duban"] = engine

    from . import admin, api, auth, campaign, cases, complaints, designer, documents, i18n, inbox, integrity, planning, rectification, responsibility, rules, start, supervise, tasks, units
    from .errors import register_error_pages

    auth.init_app(app)
    i18n.init_app(app)
    register_error_pages(app)
    for module in (auth, inbox, tasks, start, cases, documents, supervise, rules, rectification, planning, integrity, units, responsibility, complaints, campaign, designer, admin, api):
        app.register_blueprint(module.bp)
    from .deadlines import due_state
    from .formrender import errors_for

    app.jinja_env.globals["errors_for"] = errors_for
    app.jinja_env.globals["due_state"] = due_state

    @app.get("/favicon.ico")
    def _favicon():
        return app.send_static_file("favicon.ico")

    @app.after_request
    def _security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        if response.mimetype in ("text/html", "application/json"):
            response.headers["Cache-Control"] = "no-store"  # case data must not stay on a shared office PC
        if request.is_secure or app.config["SESSION_COOKIE_SECURE"]:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response

    return app
