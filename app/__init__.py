"""The linli application factory."""
from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from config import ConfigError, default_instance_path, load_settings

# Blueprints outside the API ("module:attribute"); each feature adds its own line.
BLUEPRINTS = [
    "app.web.health:bp",           # /healthz, /healthz/live, /healthz/ready, /healthz/full
    "app.web.metrics:bp",          # /metrics (Prometheus)
    "app.channels.wechat_mp:bp",   # /wechat/mp
    "app.channels.wework:bp",      # /wechat/work, /wechat/work/aibot
    "app.channels.ingest:bp",      # /ingest/group-messages, /ingest/outbox
    "app.web.pages:bp",            # /, /board
    "app.web.login:bp",            # /console/login, /console/logout
    "app.web.console:bp",          # /console/inbox, /console/requests
    "app.web.desk:bp",             # /console/desk, /console/events
    "app.web.office:bp",           # /console/roster, /console/alerts, /console/sent
    "app.web.dashboard:bp",        # /dashboard
    "app.web.simulator:bp",        # /try (not in production)
    "app.web.governance:bp",       # /console/resources, /console/needs, /console/projects
    "app.web.deliberation:bp",     # /console/topics
    "app.web.voices:bp",           # /console/suggestions (百姓说事)
    "app.web.stations:bp",         # /console/stations (the service map's stations)
]

# Functions called with the app at the end of create_app ("module:function"), e.g. to
# install the bot's conversation handler. They must not connect to anything.
STARTUP_HOOKS: list[str] = [
    "app.handlers.conversation:init_app",
    "app.web:init_app",            # CSRF for the web pages, template filters
]


if TYPE_CHECKING:  # Flask is imported inside create_app so that `import app.bot` stays Flask-free
    from flask import Flask


def database_uri(settings: Mapping[str, Any], instance_path: Path) -> str:
    url = settings.get("DATABASE_URL")
    if not url:
        return f"sqlite:///{instance_path / 'linli.db'}"
    # Plain postgresql:// URLs get the psycopg 3 driver we ship.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    if not url.startswith(("sqlite:", "postgresql+")):
        raise ConfigError(f"LINLI_DATABASE_URL must be a postgresql:// or sqlite:// URL, got {url.split(':')[0]}://…")
    return url


def engine_options(uri: str) -> dict[str, Any]:
    if uri.startswith("sqlite"):
        return {"connect_args": {"timeout": 30, "check_same_thread": False}}
    # No pre-ping: it costs a round trip at every checkout, and a session checks a connection out
    # again after each commit (5 pings for one chat message). Connections are recycled after
    # 30 minutes instead (idle timeouts of firewalls and poolers), and a connection the server
    # dropped fails at its first statement, after which SQLAlchemy discards the pool's older
    # connections: the WeChat callbacks retry such a delivery once (app/channels/intake.py), an
    # API request answers 503, a job is retried (docs/reliability.md, "stale connections").
    return {"pool_pre_ping": False, "pool_recycle": 1800, "pool_size": 10, "max_overflow": 20}


def create_app(config_name: str | None = None, overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build an app. ``config_name`` picks the settings class (default: LINLI_ENV)."""
    from flask import Flask

    settings = load_settings(config_name, overrides)
    instance_path = Path(settings.get("INSTANCE_PATH") or default_instance_path()).resolve()
    try:
        instance_path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create the instance folder {instance_path}: {exc.strerror}; "
                          "set LINLI_INSTANCE_PATH to a writable folder") from exc

    app = Flask(__name__, instance_path=str(instance_path))
    app.config.update(settings)
    app.config["SQLALCHEMY_DATABASE_URI"] = database_uri(settings, instance_path)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(app.config["SQLALCHEMY_DATABASE_URI"])
    if settings.get("REDIS_EMBEDDED"):
        from app.embedded_redis import url_for
        app.config["REDIS_URL"] = url_for(instance_path)
    app.json.ensure_ascii = False  # residents and staff read Chinese, not \u escapes

    from app import clock, logging_setup
    from app.db_setup import init_db_engine_hooks
    from app.errors import register_error_handlers
    from app.extensions import db, redis_ext

    logging_setup.init_app(app)
    clock.init_app(app)
    db.init_app(app)
    init_db_engine_hooks(app)
    redis_ext.init_app(app)
    register_error_handlers(app)

    from app import api
    for spec in BLUEPRINTS:
        module, attr = spec.split(":")
        app.register_blueprint(getattr(importlib.import_module(module), attr))
    api.register(app)
    for hook in STARTUP_HOOKS:
        module, attr = hook.split(":")
        getattr(importlib.import_module(module), attr)(app)
    return app
