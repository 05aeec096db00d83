"""A small SQLAlchemy 2.0 extension: one engine per app, one session per app context.

Flask-SQLAlchemy would do the same, but its declarative-base handling does not
support SQLAlchemy 2.1's per-base type maps; this is all we use of it.
"""
from __future__ import annotations

from typing import Any

from flask import Flask, current_app
from flask.globals import app_ctx
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, scoped_session, sessionmaker

from app.models.base import Base

_KEY = "linli.db"


def _scope() -> int:
    # One session per pushed app context (request, CLI command, job, thread).
    return id(app_ctx._get_current_object())


class Database:
    Model = Base

    def __init__(self) -> None:
        self.session: scoped_session[Session] = scoped_session(make_session_factory(), scopefunc=_scope)

    def init_app(self, app: Flask) -> None:
        engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"],
                               **app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}))
        app.extensions[_KEY] = engine
        app.teardown_appcontext(self._remove_session)

    def _remove_session(self, _exc: BaseException | None) -> None:
        self.session.remove()

    def engine_for(self, app: Flask) -> Engine:
        return app.extensions[_KEY]

    @property
    def engine(self) -> Engine:
        return self.engine_for(current_app._get_current_object())

    @property
    def metadata(self):
        return Base.metadata

    def create_all(self) -> None:
        Base.metadata.create_all(self.engine)

    def drop_all(self) -> None:
        Base.metadata.drop_all(self.engine)


class _AppBoundSession(Session):
    """A Session that binds to the current app's engine when first used."""

    def get_bind(self, mapper=None, clause=None, **kwargs):
        if self.bind is None:
            return current_app.extensions[_KEY]
        return super().get_bind(mapper=mapper, clause=clause, **kwargs)


def make_session_factory() -> sessionmaker:
    return sessionmaker(class_=_AppBoundSession, expire_on_commit=False)
