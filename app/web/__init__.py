"""Pages for people, rendered on the server: the start page, the public progress board (督办墙),
the staff console, the dashboard and the group simulator (see docs/web.md).

Thin views over app/handlers: the same handlers, scoping and roles as the API. Every POST of
these pages carries a CSRF token (Flask-WTF); the API and the channel callbacks are not
affected (they authenticate each request themselves).
"""
from __future__ import annotations

from flask import Flask

from app.web import filters, nav
from app.web.support import csrf


def init_app(app: Flask) -> None:
    # Checked by the web blueprints only (app.web.support.protect), never app-wide.
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # valid as long as the login session
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    csrf.init_app(app)
    filters.register(app)
    nav.register(app)
