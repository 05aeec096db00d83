"""One understanding for every channel: the bot reads a form's text as it reads a chat message,
and the staff's corrections of its category are read back so its vocabulary can learn from them.

A form request filed without a category gets the bot's category (and building, unit, room when
the text names them) and ``classified_by: "bot"`` on its "created" event; chat requests are
the bot's by construction (``source: "chat"``). A correction is the "reclassified" event the
staff's /classify leaves on the timeline (it carries the old and new category), so no table of
its own is needed.
"""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import jieba
from flask import current_app
from sqlalchemy import select

from app.bot import CHAT_PRIVATE, get_bot
from app.clock import now as clock_now
from app.extensions import db
from app.handlers.requests.rules import CATEGORIES, urgency_for
from app.models.requests import CATEGORY_LABELS, URGENCY_LABELS, RequestEvent, ServiceRequest

HAN_WORD = re.compile(r"^[\u4e00-\u9fff]{2,}$")
# Words of any report that point at no category: they would "catch" every correction.
FILLER = frozenset("我们 你们 他们 小区 社区 一下 这个 那个 什么 怎么 没有 已经 现在 今天 昨天 还是 就是 可以 能不能 麻烦 "
                   "希望 谢谢 问题 情况 反映 一直 好几 几天 时候 这里 那里 还有 因为 所以 但是 如果 业主 居民".split())


# Below this the bot's category is no reading worth offering: the form asks the resident to pick.
FORM_SURE = 0.25
PICK_MESSAGE = "没能从描述中判断问题类型，请选择分类"
FILED_AS_OTHER = "没能从描述中判断问题类型，已按“其他”受理，工作人员会核实分类；下次可以在表单里选择分类"


def suggest(text: str) -> dict:
    """What the bot makes of a form's text, read as a report whatever its wording (``classify_form``):
    the category (None, with ``needs_choice`` and a message, when the text names no problem or the
    bot is unsure: the resident picks, the bot does not guess), its deadline class and the place the
    text names. ``intent``: how the same text would be read as a 1:1 message (for the form's hints)."""
    bot = get_bot()
    form = bot.classify_form(text)
    u = bot.understand(text, now=clock_now(), tz=current_app.config.get("TIMEZONE", "Asia/Shanghai"),
                       chat_type=CHAT_PRIVATE)
    sure = form.evidence and form.confidence >= FORM_SURE and form.category in CATEGORIES
    category = form.category if sure else None
    # Danger now (a person trapped, gas, fire) is the emergency class whatever the category.
    urgency = "emergency" if form.urgency == "emergency" else urgency_for(category or "other")
    return {"category": category, "category_label": CATEGORY_LABELS.get(category) if category else None,
            "urgency": urgency, "urgency_label": URGENCY_LABELS.get(urgency),
            "building": _text_or_none(form.building), "unit": _text_or_none(form.unit),
            "room": _text_or_none(form.room), "intent": u.intent, "confidence": form.confidence if sure else 0.0,
            "needs_choice": not sure, "message": None if sure else PICK_MESSAGE}


def _text_or_none(value) -> str | None:
    return None if value is None or value == "" else str(value)


# ---- the corrections loop ---------------------------------------------------------------------

@dataclass
class Correction:
    """Requests the bot filed under ``bot_category`` that the staff moved to ``staff_category``."""

    bot_category: str
    staff_category: str
    texts: list[str] = field(default_factory=list)
    words: list[tuple[str, int]] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.texts)


def bot_corrections(*, community_id: int | None = None, since: datetime | None = None) -> list[Correction]:
    """The bot's categories the staff corrected, most frequent first. Only requests whose category
    came from the bot count (chat, or a form without a category); the pair is the bot's category
    and the one the staff left last."""
    created = _bot_classified(community_id, since)
    final: dict[int, str] = {}
    events = db.session.scalars(select(RequestEvent).where(
        RequestEvent.kind == "reclassified", RequestEvent.request_id.in_(list(created)))
        .order_by(RequestEvent.at, RequestEvent.id)) if created else []
    for event in events:
        to_category = (event.detail or {}).get("to_category")
        if to_category:
            final[event.request_id] = to_category
    pairs: dict[tuple[str, str], Correction] = {}
    for request_id, staff_category in final.items():
        bot_category, text = created[request_id]
        if staff_category == bot_category:
            continue
        pair = pairs.setdefault((bot_category, staff_category), Correction(bot_category, staff_category))
        pair.texts.append(text)
    corrections = sorted(pairs.values(), key=lambda c: (-c.count, c.staff_category, c.bot_category))
    _suggest_words(corrections)
    return corrections


def _bot_classified(community_id: int | None, since: datetime | None) -> dict[int, tuple[str, str]]:
    """request id → (the bot's category, the text) for requests the bot classified."""
    statement = select(RequestEvent, ServiceRequest.text).join(
        ServiceRequest, ServiceRequest.id == RequestEvent.request_id).where(RequestEvent.kind == "created")
    if community_id is not None:
        statement = statement.where(ServiceRequest.community_id == community_id)
    if since is not None:
        statement = statement.where(ServiceRequest.created_at >= since)
    out = {}
    for event, text in db.session.execute(statement):
        detail = event.detail or {}
        if detail.get("source") == "chat" or detail.get("classified_by") == "bot":
            out[event.request_id] = (detail.get("category") or "other", text or "")
    return out


def _suggest_words(corrections: list[Correction], limit: int = 8) -> None:
    """For each correction, the words of its texts that the bot does not already read as the staff's
    category, by how many of the corrected texts contain them (words as common in the texts of the
    other corrections rank lower: they point at no category in particular)."""
    by_target: dict[str, Counter] = defaultdict(Counter)
    per_correction: list[Counter] = []
    for correction in corrections:
        counts = Counter(w for text in correction.texts for w in set(_words(text)))
        per_correction.append(counts)
        by_target[correction.staff_category].update(counts)
    bot = get_bot()
    known: dict[str, str | None] = {}
    for correction, counts in zip(corrections, per_correction, strict=True):
        elsewhere = Counter()
        for target, other in by_target.items():
            if target != correction.staff_category:
                elsewhere.update(other)
        ranked = sorted(counts.items(), key=lambda kv: (-(kv[1] - elsewhere[kv[0]]), -kv[1], kv[0]))
        words = []
        for word, n in ranked:
            if n - elsewhere[word] <= 0:
                break
            if word not in known:
                known[word] = bot.understand(word, chat_type=CHAT_PRIVATE).category
            if known[word] != correction.staff_category:
                words.append((word, n))
            if len(words) >= limit:
                break
        correction.words = words


def _words(text: str) -> list[str]:
    return [w for w in jieba.lcut(text, HMM=False) if HAN_WORD.match(w) and w not in FILLER]
