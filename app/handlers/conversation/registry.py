"""The chat features of the domains, loaded once at start-up.

Each module in ``CHAT_MODULES`` exports ``CHAT = ChatFeature(...)``. ``load``
imports them all when the app starts (``init_app``): a module that is missing
or broken stops start-up, instead of being skipped message by message. The
list order is the order of progress lines and of cancel attempts.
"""
from __future__ import annotations

import importlib
import logging
from collections.abc import Iterable

from app.extensions import db
from app.handlers.messaging.features import ChatFeature, Handler

log = logging.getLogger("app.handlers.conversation")

CHAT_MODULES: tuple[str, ...] = (
    "app.handlers.requests.chat",
    "app.handlers.proxy.chat",
    "app.handlers.events.chat",
    "app.handlers.governance.chat",
)

_loaded: dict[str, tuple[ChatFeature, ...] | None] = {"features": None}


def load(modules: Iterable[str] | None = None) -> tuple[ChatFeature, ...]:
    """Import every chat module and install its CHAT; raises on a missing or malformed one."""
    found = []
    for name in CHAT_MODULES if modules is None else modules:
        feature = getattr(importlib.import_module(name), "CHAT", None)
        if not isinstance(feature, ChatFeature):
            raise RuntimeError(f"chat module {name} exports no CHAT = ChatFeature(...)")
        found.append(feature)
    install(found)
    return _loaded["features"]


def install(features: Iterable[ChatFeature]) -> None:
    _loaded["features"] = tuple(features)


def features() -> tuple[ChatFeature, ...]:
    loaded = _loaded["features"]
    return loaded if loaded is not None else load()


def intent_handler(intent: str) -> Handler | None:
    return next((f.intents[intent] for f in features() if intent in f.intents), None)


def flow_handler(flow: str) -> Handler | None:
    return next((f.flows[flow] for f in features() if flow in f.flows), None)


def listeners() -> list[Handler]:
    return [f.listen for f in features() if f.listen is not None]


def progress_sources() -> list[Handler]:
    return [f.progress for f in features() if f.progress is not None]


def cancel_handlers() -> list[Handler]:
    return [f.cancel for f in features() if f.cancel is not None]


def info_sources() -> list[Handler]:
    return [f.info for f in features() if f.info is not None]


def media_handlers() -> list[Handler]:
    return [f.media for f in features() if f.media is not None]


def staff_group_hooks() -> list[Handler]:
    return [f.staff_group_hook for f in features() if f.staff_group_hook is not None]


def vocabulary_sources() -> list[tuple[str, Handler]]:
    return [(name, fn) for f in features() for name, fn in f.vocabulary.items()]


def name_of(fn: Handler) -> str:
    """"module:function", for logs."""
    return f"{getattr(fn, '__module__', '?')}:{getattr(fn, '__qualname__', repr(fn))}"


def call(fn: Handler, ctx, what: str):
    """Run a domain's handler; a failure is logged and answered by a person instead.

    Returns (result, ran): ``ran`` is False when the handler raised.
    """
    try:
        return fn(ctx), True
    except Exception:  # noqa: BLE001 - the resident still gets an answer and staff a clock
        log.exception("conversation: %s %s failed on message %s", what, name_of(fn), ctx.message.id)
        db.session.rollback()
        return None, False
