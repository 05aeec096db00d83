"""Co-governance in chat: votes on a topic posted in the group, opinions, 百姓说事, and 附近哪里可以….

``listen`` sees each resident text message before the bot's intent is acted on
(``ChatFeature.listen``): these messages look like ordinary chatter or reports to
the bot ("支持，早就该装电梯了" scores as a report), so they are recognised here
first, from the phrases in app/bot/data/governance.yaml, and only in the situation
they belong to — a vote only while a topic is open in that group, a review rating
only when the resident has no request waiting for a rating.

In a group, votes and opinions are recorded silently (a bot that answers every
"支持" gets removed from the group); the result is posted when the round ends.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from app.errors import DomainError
from app.extensions import db
from app.handlers.governance import nearby, suggestions, terms, votes
from app.handlers.messaging.features import ChatFeature
from app.handlers.messaging.inbound import Reply
from app.models import Building, ServiceRequest, Suggestion, Topic
from app.models.deliberation import ROUNDS
from app.models.governance import SUGGESTION_STATUSES

if TYPE_CHECKING:
    from app.handlers.conversation.context import ConversationContext

PUNCTUATION = re.compile(r"^[\s，,。.！!：:、~～\-—;；]+|[\s。.！!]+$")


@dataclass(frozen=True)
class Said:
    """The message as compared (half-width, lower case) and as written (kept in comments and suggestions)."""

    text: str
    raw: str

    @classmethod
    def of(cls, message: str) -> "Said":
        raw = terms.strip_leading(message.strip())
        return cls(terms.normalise(raw), raw)

    def skip(self, start: int) -> "Said":
        return Said(terms.strip_leading(self.text[start:]), terms.strip_leading(self.after(start)))

    def after(self, start: int) -> str:
        # NFKC keeps Chinese text one character for one; if it did not, the compared form is the safe one.
        return self.raw[start:] if len(self.raw) == len(self.text) else self.text[start:]


def listen(ctx: ConversationContext) -> Reply | None:
    if ctx.resident is None or ctx.community_id is None or not (ctx.inbound.text or "").strip():
        return None
    vocabulary = terms.terms()
    said = Said.of(ctx.inbound.text)
    return (_vote(ctx, vocabulary, said) or _opinion(ctx, vocabulary, said) or _suggestion(ctx, vocabulary, said)
            or _where(ctx, vocabulary, said))


def might_listen(text: str) -> bool:
    """Whether ``listen`` could take this text in some situation: it starts with a vote, review, opinion
    or suggestion word (after a topic number), or asks where a service is. Pure: the callback asks it
    before it answers a report at once (app/handlers/conversation/express.py)."""
    if not (text or "").strip():
        return False
    vocabulary = terms.terms()
    said = Said.of(text)
    lead = vocabulary.topic_ref.match(said.text)
    starts = [said.text, said.skip(lead.end()).text] if lead else [said.text]
    words = [w for w, _c in vocabulary.votes] + [w for w, _c in vocabulary.review] + list(
        vocabulary.comment_prefixes) + list(vocabulary.suggestion_prefixes)
    if any(t.startswith(w) for t in starts for w in words):
        return True
    return vocabulary.service_in(said.text) is not None and vocabulary.asks_where(said.text)


def _speak(ctx: ConversationContext, text: str, handled_by: str, **detail) -> Reply:
    ctx.understanding.should_reply = True   # an answer the resident asked for, also in a group
    ctx.understanding.needs_reply = False
    return ctx.reply(text, handled_by, **detail)


def _quiet(ctx: ConversationContext, text: str, handled_by: str, **detail) -> Reply:
    """Recorded: said in a 1:1 chat or when the bot was @-mentioned, silent in the group."""
    ctx.understanding.needs_reply = False
    if ctx.is_group and not ctx.inbound.mentioned:
        ctx.understanding.should_reply = False
        return Reply.silent(handled_by, **detail)
    return _speak(ctx, text, handled_by, **detail)


def _rest(said: Said, word: str, vocabulary: terms.Terms) -> tuple[str, int | None]:
    """What follows the leading word, without the topic reference; and the topic number named, if any."""
    rest = said.after(len(word))
    number = None
    found = vocabulary.topic_ref.search(rest) or vocabulary.topic_ref.search(said.text[:len(word) + 8])
    if found:
        number = int(next(g for g in found.groups() if g))
        rest = rest.replace(found.group(0), " ", 1) if found.group(0) in rest else rest
    return PUNCTUATION.sub("", rest).strip(), number


def _topic_for(ctx: ConversationContext, round_: str, number: int | None) -> tuple[Topic | None, Reply | None]:
    group_id = ctx.group.id if ctx.group is not None else None
    open_now = votes.open_topics(ctx.community_id, group_id, round_, ctx.now)
    if number is not None:
        chosen = next((t for t in open_now if t.number == number), None)
        if chosen is None:
            what = "投票" if round_ == "vote" else "评审"
            return None, _speak(ctx, f"议题{number}现在没有在{what}。", "governance.vote", refused="not_open")
        return chosen, None
    if len(open_now) == 1:
        return open_now[0], None
    if not open_now:
        return None, None
    names = "；".join(f"{t.label} {t.title}" for t in open_now)
    return None, _speak(ctx, f"现在有几个议题在征求意见：{names}。请加上议题编号，如“支持 {open_now[0].label}”。",
                        "governance.vote", ambiguous=[t.number for t in open_now])


def _vote(ctx: ConversationContext, vocabulary: terms.Terms, said: Said) -> Reply | None:
    named = None
    lead = vocabulary.topic_ref.match(said.text)   # "2号议题反对…": the number before the vote
    if lead:
        named, said = int(next(g for g in lead.groups() if g)), said.skip(lead.end())
    round_, word, choice = _leading_choice(ctx, vocabulary, said.text)
    if round_ is None:
        return None
    comment, number = _rest(said, word, vocabulary)
    number = named or number
    topic, answered = _topic_for(ctx, round_, number)
    if topic is None:
        return answered
    try:
        result = votes.cast(topic, ctx.resident, round_, choice, source="group" if ctx.is_group else "chat",
                            comment=comment or None, group_id=ctx.group.id if ctx.group is not None else None,
                            message_id=ctx.message.id)
    except DomainError as refusal:
        return _speak(ctx, refusal.message, "governance.vote", refused=refusal.code)
    label = ROUNDS[round_][choice]
    said = f"已改为“{label}”（每人一票，以最后一次为准）" if result.previous else f"已记录您的意见：{label}"
    return _quiet(ctx, f"{topic.label}「{topic.title}」{said}。", "governance.vote", topic_id=topic.id,
                  round=round_, choice=choice, changed_from=result.previous)


def _leading_choice(ctx: ConversationContext, vocabulary: terms.Terms, text: str):
    for word, choice in vocabulary.votes:
        if text.startswith(word):
            return "vote", word, choice
    for word, choice in vocabulary.review:
        if text.startswith(word):
            if ctx.state.get("flow") or _awaits_rating(ctx):
                break   # 满意/不满意 answers the resident's own request first
            return "review", word, choice
    return None, None, None


def _awaits_rating(ctx: ConversationContext) -> bool:
    return db.session.scalar(select(ServiceRequest.id).where(
        ServiceRequest.resident_id == ctx.resident.id, ServiceRequest.status == "resolved").limit(1)) is not None


def _opinion(ctx: ConversationContext, vocabulary: terms.Terms, said: Said) -> Reply | None:
    prefix = next((p for p in vocabulary.comment_prefixes if said.text.startswith(p)), None)
    if prefix is None or ctx.group is None:
        return None
    if any(len(p) > len(prefix) and said.text.startswith(p) for p in vocabulary.suggestion_prefixes):
        return None   # "建议社区…" is 百姓说事, not an opinion on the open topic: the longer prefix wins
    body, number = _rest(said, prefix, vocabulary)
    if len(body) < 2:
        return None
    open_now = [(t, round_) for round_ in ("vote", "review")
                for t in votes.open_topics(ctx.community_id, ctx.group.id, round_, ctx.now)]
    if number is not None:
        open_now = [(t, r) for t, r in open_now if t.number == number]
    if len(open_now) != 1:
        if len(open_now) > 1 and number is None:
            names = "；".join(f"{t.label} {t.title}" for t, _r in open_now)
            return _speak(ctx, f"现在有几个议题在征求意见：{names}。请加上议题编号，如“意见 {open_now[0][0].label}：…”。",
                          "governance.comment", ambiguous=[t.number for t, _r in open_now])
        return None
    topic, round_ = open_now[0]
    votes.comment(topic, ctx.resident, round_, body, source="group", message_id=ctx.message.id)
    return _quiet(ctx, f"已记录您对{topic.label}的意见。", "governance.comment", topic_id=topic.id)


def _suggestion(ctx: ConversationContext, vocabulary: terms.Terms, said: Said) -> Reply | None:
    prefix = next((p for p in vocabulary.suggestion_prefixes if said.text.startswith(p)), None)
    if prefix is None:
        return None
    body = PUNCTUATION.sub("", said.after(len(prefix))).strip()
    if len(body) < 4:
        return _speak(ctx, "请直接说出您的建议，如“百姓说事：小区门口装个快递柜”。", "governance.suggestion",
                      refused="empty")
    if ctx.group is not None:
        reply_to = suggestions.ReplyTo(ctx.group.channel, "group", ctx.group.chat_id, ctx.group.id)
    else:
        reply_to = suggestions.ReplyTo(ctx.inbound.channel, "user", ctx.inbound.sender_id)
    row, _created = suggestions.collect(ctx.community_id, body, resident=ctx.resident, source="chat",
                                        reply_to=reply_to, message_id=ctx.message.id)
    where = "在群里" if ctx.group is not None else "给您"
    return _speak(ctx, f"已收到您的建议（编号{row.code}），社区会{where}公开答复。谢谢您参与“百姓说事”！",
                  "governance.suggestion", suggestion_id=row.id)


def _where(ctx: ConversationContext, vocabulary: terms.Terms, said: Said) -> Reply | None:
    service = vocabulary.service_in(said.text)
    if service is None or not vocabulary.asks_where(said.text):
        return None
    building_id = _building_said(ctx) or ctx.resident.building_id
    origin, building = nearby.origin_of(ctx.community_id, building_id)
    places = nearby.nearest(ctx.community_id, service, origin, ctx.now)
    if not places:
        return None   # no station offers it: the FAQ or a person answers instead
    return _speak(ctx, nearby.answer(places, service, building if origin else None, ctx.now), "governance.nearby",
                  service=service, stations=[p.station.id for p in places[:5]])


def _building_said(ctx: ConversationContext) -> int | None:
    number = (ctx.understanding.slots or {}).get("building")
    if not number:
        return None
    return db.session.scalar(select(Building.id).where(Building.community_id == ctx.community_id,
                                                       Building.number == str(number)))


def progress_lines(ctx: ConversationContext) -> list[str]:
    """The resident's own suggestions, for "我的进度"."""
    if ctx.resident is None:
        return []
    rows = db.session.scalars(select(Suggestion).where(Suggestion.resident_id == ctx.resident.id,
                                                       Suggestion.status != "closed")
                              .order_by(Suggestion.id.desc()).limit(3)).all()
    lines = []
    for row in rows:
        state = SUGGESTION_STATUSES.get(row.status, row.status)
        answer = f"：{row.answer[:30]}" if row.answer else ""
        lines.append(f"百姓说事{row.code}：{state}{answer}")
    return lines


CHAT = ChatFeature(listen=listen, listen_cue=might_listen, progress=progress_lines)
