"""The mini-program REST API under /api/v1 (JSON; OpenAPI document at /api/v1/openapi.json).

Feature modules add their routes to ``bp`` with ``route`` (which also records
the OpenAPI description) and are imported by ``register``.
"""
from __future__ import annotations

import importlib
import logging

import redis
from flask import Blueprint, Flask, jsonify
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

bp = Blueprint("api", __name__, url_prefix="/api/v1")
log = logging.getLogger(__name__)

# Modules that define routes on ``bp``; each feature adds itself here.
ROUTE_MODULES = [
    "app.api.meta",
    "app.api.auth",
    "app.api.profile",
    "app.api.uploads",
    "app.api.sla",
    "app.api.requests",
    "app.api.requests_form",
    "app.api.events",
    "app.api.events_mine",
    "app.api.volunteers",
    "app.api.proxy",
    "app.api.proxy_bookings",
    "app.api.calendar",
    "app.api.governance",
]


def register(app: Flask) -> None:
    for module in ROUTE_MODULES:
        importlib.import_module(module)
    app.register_blueprint(bp)


@bp.errorhandler(OperationalError)
@bp.errorhandler(InterfaceError)
@bp.errorhandler(PoolTimeout)
@bp.errorhandler(DBAPIError)
@bp.errorhandler(redis.ConnectionError)
@bp.errorhandler(redis.TimeoutError)
def _unavailable(exc: Exception):
    """The database or Redis cannot be reached: 503 (try again), not 500 (a bug). Other DB errors stay 500."""
    if isinstance(exc, DBAPIError) and not isinstance(exc, (OperationalError, InterfaceError)) \
            and not exc.connection_invalidated:
        log.exception("unhandled database error")
        return jsonify({"error": {"code": "internal_error", "message": "服务暂时出错，请稍后再试 (internal error)",
                                  "field": None}}), 500
    log.warning("API unavailable: %s", exc.__class__.__name__, exc_info=True)
    response = jsonify({"error": {"code": "unavailable", "message": "服务暂时不可用，请稍后再试 (service unavailable)",
                                  "field": None}})
    response.headers["Retry-After"] = "5"
    return response, 503
