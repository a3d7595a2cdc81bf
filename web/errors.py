"""Domain errors and HTTP errors as pages (browser) or JSON (API), in one place."""
from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from engine.errors import DubanError, InvalidData

MESSAGES = {400: "请求无效", 401: "请先登录", 403: "无权访问", 404: "页面不存在", 405: "不支持的请求方法",
            409: "数据已被他人更新", 413: "上传的文件过大", 429: "请求过于频繁", 500: "服务器内部错误"}


def wants_json() -> bool:
    return request.path.startswith("/api/")


def error_response(status: int, code: str, message: str, fields: dict | None = None):
    if wants_json():
        body = {"code": code, "message": message}
        if fields:
            body["fields"] = fields
        return jsonify(body), status
    return render_template("error.html", status=status, message=message, fields=fields or {}), status


def register_error_pages(app: Flask) -> None:
    @app.errorhandler(DubanError)
    def _domain(err: DubanError):
        fields = err.details if isinstance(err, InvalidData) else None
        return error_response(err.http_status, err.code, err.message, fields)

    @app.errorhandler(CSRFError)
    def _csrf(err: CSRFError):
        return error_response(400, "csrf", "页面已过期或缺少安全令牌, 请刷新后重试")

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException):
        status = err.code or 500
        return error_response(status, {401: "unauthorized", 403: "forbidden", 404: "not_found",
                                       405: "method_not_allowed", 413: "too_large", 429: "rate_limited"}
                              .get(status, "http_error"), MESSAGES.get(status, err.description or ""))

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        app.logger.exception("unhandled error")
        return error_response(500, "internal", MESSAGES[500])
