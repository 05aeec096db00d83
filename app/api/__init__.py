"""The mini-program REST API under /api/v1 (JSON; OpenAPI document at /api/v1/openapi.json).

Feature modules add their routes to ``bp`` with ``route`` (which also records
the OpenAPI description) and are imported by ``register``.
"""
from __future__ import annotations

import importlib

from flask import Blueprint, Flask

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# Modules that define routes on ``bp``; each feature adds itself here.
ROUTE_MODULES = [
    "app.api.meta",
    "app.api.auth",
    "app.api.profile",
    "app.api.sla",
    "app.api.requests",
    "app.api.requests_form",
    "app.api.events",
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
