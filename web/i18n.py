"""Chinese first, English available: the locale comes from ?lang=, then a cookie, then zh_CN."""
from __future__ import annotations

from datetime import datetime

from flask import Flask, request
from flask_babel import Babel, format_datetime, get_locale

LANGUAGE_COOKIE = "duban_lang"


def select_locale() -> str:
    from flask import current_app

    languages = current_app.config["DUBAN_LANGUAGES"]
    for candidate in (request.args.get("lang"), request.cookies.get(LANGUAGE_COOKIE)):
        if candidate in languages:
            return candidate
    return languages[0]


def init_app(app: Flask) -> None:
    Babel(app, locale_selector=select_locale)
    app.jinja_env.globals["get_locale"] = get_locale

    @app.after_request
    def _remember_language(response):
        lang = request.args.get("lang")
        if lang in app.config["DUBAN_LANGUAGES"]:
            response.set_cookie(LANGUAGE_COOKIE, lang, max_age=365 * 86400, samesite="Lax", httponly=True)
        return response

    @app.template_filter("local")
    def _local(value: datetime | None, fmt: str = "yyyy-MM-dd HH:mm") -> str:
        """UTC from the database, shown in the office's local time (Asia/Shanghai)."""
        return format_datetime(value, fmt) if value else ""

    @app.template_filter("localdate")
    def _localdate(value: datetime | None) -> str:
        return format_datetime(value, "yyyy-MM-dd") if value else ""
