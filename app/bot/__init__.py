"""The bot's understanding: pure Python (no Flask, no database).

    from app.bot import get_bot, Vocabulary, ServiceTerm, EventTerm
    u = get_bot().understand("3栋楼道灯坏了", now=..., chat_type="group")

Data files (intents, words, answers) live in app/bot/data/ and are reloaded when
they change. See docs/bot.md.
"""
from app.bot.data import BotDataError
from app.bot.engine import Bot, configure, get_bot
from app.bot.types import (
                           CATEGORIES,
                           CHAT_GROUP,
                           CHAT_PRIVATE,
                           INTENTS,
                           RATINGS,
                           EventTerm,
                           FormClassification,
                           ServiceTerm,
                           Understanding,
                           Vocabulary,
)

__all__ = ["Bot", "BotDataError", "CATEGORIES", "CHAT_GROUP", "CHAT_PRIVATE", "EventTerm", "FormClassification",
           "INTENTS", "RATINGS", "ServiceTerm", "Understanding", "Vocabulary", "configure", "get_bot"]
