"""Errors that reach a client: always JSON, never a traceback."""
from __future__ import annotations

import logging

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.exceptions import NotFound as RouteNotFound

log = logging.getLogger(__name__)

HTTP_PEOPLE_MESSAGES = {400: "请求有误", 404: "没有这个地址", 405: "不支持这种请求方法", 413: "提交的内容太大",
                        415: "不支持这种内容格式", 429: "操作太频繁，请稍后再试"}
MAX_ROW_ID = 2**63 - 1   # the database's 64-bit integers (the API's path ids are bounded by it)


class DomainError(ValueError):
    """A refusal by the domain rules: a machine code, a message for people, the HTTP status it
    maps to and optionally the field at fault. Handlers raise it (or a domain subclass); the
    API answers it as JSON, chat handlers answer its message, the CLI prints it in one line."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, field: str | None = None, status: int | None = None,
                 code: str | None = None, extra: dict | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code
        self.extra = extra or {}

    def body(self) -> dict:
        # "field" is always present (null when no field is at fault): clients read one shape.
        error = {"code": self.code, "message": self.message, "field": self.field or None}
        error.update(self.extra)
        return {"error": error}


class ApiError(DomainError):
    """An error raised by the API layer itself (bad parameters, authentication)."""


class ValidationError(ApiError):
    status = 400
    code = "invalid"


class NotFound(ApiError):
    status = 404
    code = "not_found"


class Forbidden(ApiError):
    status = 403
    code = "forbidden"


class Conflict(ApiError):
    status = 409
    code = "conflict"


def _id_past_64_bits(path: str) -> bool:
    return any(part.isdigit() and int(part) > MAX_ROW_ID for part in path.split("/"))


def http_error_json(exc: HTTPException):
    """An HTTP error (404, 405, 413 …) as the JSON error body."""
    if isinstance(exc, MethodNotAllowed) and _id_past_64_bits(request.path):
        # No row has such an id: 404 whatever the method. (Werkzeug checks a GET rule's method
        # before its id converter's bound, so PATCH /needs/<huge> looked like a wrong method.)
        exc = RouteNotFound()
    code = (exc.name or "error").lower().replace(" ", "_")
    # For people first (the mini-program shows it), as the API's own errors: 中文 (English).
    people = HTTP_PEOPLE_MESSAGES.get(exc.code or 0)
    message = f"{people} ({exc.name.lower()})" if people and exc.name else exc.description
    response = jsonify({"error": {"code": code, "message": message, "field": None}})
    # Its own headers stay (405's Allow, RFC 9110), all but the HTML content type.
    response.headers.extend((k, v) for k, v in exc.get_headers() if k.lower() != "content-type")
    return response, exc.code


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain_error(exc: DomainError):
        return jsonify(exc.body()), exc.status

    app.register_error_handler(HTTPException, http_error_json)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error")
        return jsonify({"error": {"code": "internal_error", "message": "服务暂时出错，请稍后再试 (internal error)",
                                  "field": None}}), 500
