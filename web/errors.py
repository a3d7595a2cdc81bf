"""Domain errors and HTTP errors as pages (browser) or JSON (API), in one place.

Messages reach the page already translated and are shown escaped: runtime text is never a msgid.
A database that cannot be reached answers 503 with Retry-After, from a page that needs no database.
"""
from __future__ import annotations

from flask import Flask, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from engine.errors import DubanError, InvalidData

from .i18n import N_

MESSAGES = {400: N_("请求无效"), 401: N_("请先登录"), 403: N_("无权访问"), 404: N_("页面不存在"),
            405: N_("不支持的请求方法"), 409: N_("数据已被他人更新"), 413: N_("上传的文件过大"),
            429: N_("请求过于频繁"), 500: N_("服务器内部错误")}
RETRY_AFTER = 30  # seconds: a PostgreSQL restart or fail-over
# SQLite reports a stale schema as OperationalError too; that is a bug to fix, not a database to wait for.
_SCHEMA_PROBLEMS = ("no such table", "no such column", "has no column")


def wants_json() -> bool:
    return request.path.startswith("/api/")


def database_unavailable(err: BaseException) -> bool:
    """Whether `err` means the database cannot be reached right now (down, restarting, pool exhausted)."""
    if isinstance(err, (PoolTimeout, InterfaceError)):
        return True
    if isinstance(err, DBAPIError) and err.connection_invalidated:
        return True
    if isinstance(err, OperationalError):
        return not any(problem in str(err.orig or err) for problem in _SCHEMA_PROBLEMS)
    return False


def unavailable_response():
    """503 with Retry-After; the page is rendered without context processors (no user, no notifications)."""
    message = _("数据库暂时无法连接，请稍后重试。")
    if wants_json():
        response = jsonify({"code": "unavailable", "message": message})
    else:
        html = current_app.jinja_env.get_template("unavailable.html").render(message=message)
        response = current_app.response_class(html, mimetype="text/html")
    response.status_code = 503
    response.headers["Retry-After"] = str(RETRY_AFTER)
    return response


def error_response(status: int, code: str, message: str, fields: dict | None = None):
    if wants_json():
        body = {"code": code, "message": message}
        if fields:
            body["fields"] = fields
        return jsonify(body), status
    try:
        return render_template("error.html", status=status, message=message, fields=fields or {}), status
    except Exception as err:  # the header needs the signed-in user: with the database gone, say so instead
        if database_unavailable(err):
            return unavailable_response()
        raise


def register_error_pages(app: Flask) -> None:
    @app.errorhandler(DubanError)
    def _domain(err: DubanError):
        fields = err.details if isinstance(err, InvalidData) else None
        return error_response(err.http_status, err.code, err.message, fields)

    @app.errorhandler(CSRFError)
    def _csrf(err: CSRFError):
        return error_response(400, "csrf", _("页面已过期或缺少安全令牌，请刷新后重试"))

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException):
        status = err.code or 500
        message = _(MESSAGES[status]) if status in MESSAGES else (err.description or "")
        return error_response(status, {401: "unauthorized", 403: "forbidden", 404: "not_found",
                                       405: "method_not_allowed", 413: "too_large", 429: "rate_limited"}
                              .get(status, "http_error"), message)

    @app.errorhandler(DBAPIError)
    @app.errorhandler(PoolTimeout)
    def _database(err: Exception):
        if database_unavailable(err):
            app.logger.warning("database unavailable: %s", err)
            return unavailable_response()
        return _unexpected(err)

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        app.logger.exception("unhandled error")
        return error_response(500, "internal", _(MESSAGES[500]))
