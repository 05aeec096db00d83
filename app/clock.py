"""The current time, injectable for tests.

Code that needs "now" calls ``app.clock.now()``; tests install a
``FrozenClock`` on the app (``set_app_clock``) instead of sleeping.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Callable

from flask import current_app, has_app_context

UTC = timezone.utc
_EXT_KEY = "linli.clock"


def system_now() -> datetime:
    return datetime.now(UTC)


class FrozenClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime):
        if start.tzinfo is None:
            raise ValueError("FrozenClock needs an aware datetime")
        self.current = start.astimezone(UTC)

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        self.current += timedelta(**delta)
        return self.current

    def set(self, moment: datetime) -> None:
        self.current = moment.astimezone(UTC)


def init_app(app) -> None:
    app.extensions.setdefault(_EXT_KEY, system_now)


def set_app_clock(app, clock: Callable[[], datetime]) -> None:
    app.extensions[_EXT_KEY] = clock


def now() -> datetime:
    """Aware UTC now, from the app's clock when there is an app context."""
    if has_app_context():
        return current_app.extensions.get(_EXT_KEY, system_now)()
    return system_now()
