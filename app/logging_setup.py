"""Logging with secrets redacted: any configured secret value is replaced by ***."""
from __future__ import annotations

import logging

from flask import Flask

from config import SETTINGS


class RedactSecrets(logging.Filter):
    def __init__(self, secrets: list[str]):
        super().__init__()
        # Longest first so a secret containing another is fully masked.
        self.secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        redacted = message
        for secret in self.secrets:
            redacted = redacted.replace(secret, "***")
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


def secret_values(config) -> list[str]:
    return [str(config.get(s.key)) for s in SETTINGS if s.secret and config.get(s.key)]


def init_app(app: Flask) -> None:
    level = str(app.config.get("LOG_LEVEL", "INFO")).upper()
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    else:
        root.setLevel(level)
    # Alembic and RQ are chatty at INFO; operators want our lines.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, root.level))
    redactor = RedactSecrets(secret_values(app.config))
    for handler in root.handlers:
        handler.filters = [f for f in handler.filters if not isinstance(f, RedactSecrets)]
        handler.addFilter(redactor)
