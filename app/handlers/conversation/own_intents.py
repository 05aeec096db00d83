"""The intents the router answers itself: chitchat, none, human, ask_info, query_progress, cancel.

Each returns (reply, needs a staff reply within the hour). Answers come from the
bot's replies file (app/bot/data/replies.yaml), which operators edit.
"""
from __future__ import annotations

import re
from collections.abc import Callable

from app.bot import get_bot
from app.handlers.conversation import registry
from app.handlers.conversation.context import ConversationContext
from app.handlers.messaging.inbound import Reply

OwnHandler = Callable[[ConversationContext, bool], tuple[Reply, bool]]


def replies() -> dict:
    return get_bot().replies


def chitchat(ctx: ConversationContext, needs_reply: bool) -> tuple[Reply, bool]:
    texts = replies().get("chitchat") or {}
    kind = ctx.understanding.chitchat_kind
    text = texts.get(kind) or texts.get("default") or "好的。"
    return ctx.reply(text, "chitchat"), False


def none(ctx: ConversationContext, needs_reply: bool) -> tuple[Reply, bool]:
    if ctx.is_group and not ctx.understanding.mentioned:
        return Reply.silent("none"), False
    return ctx.reply(replies().get("none_addressed") or "抱歉，我没太明白。", "none"), False


def human(ctx: ConversationContext, needs_reply: bool = True) -> tuple[Reply, bool]:
    key = "human" if ctx.community_id is not None else "human_no_community"
    return ctx.reply(replies().get(key) or "已通知值班人员。", "human"), True


def ask_info(ctx: ConversationContext, needs_reply: bool) -> tuple[Reply, bool]:
    for fn in registry.info_sources():
        answer, ran = registry.call(fn, ctx, "info source")
        if ran and isinstance(answer, str) and answer.strip():
            return ctx.reply(answer.strip(), "ask_info", source=registry.name_of(fn)), False
    u = ctx.understanding
    if u.answer:
        return ctx.reply(u.answer, "ask_info", faq=u.faq_key), False
    texts = replies()
    key = "ask_info_unanswered" if ctx.community_id is not None else "ask_info_unanswered_no_community"
    return ctx.reply(texts.get(key) or "值班人员会尽快回复您。", "ask_info", unanswered=True), True


def query_progress(ctx: ConversationContext, needs_reply: bool) -> tuple[Reply, bool]:
    lines: list[str] = []
    for fn in registry.progress_sources():
        found, ran = registry.call(fn, ctx, "progress source")
        if ran and found:
            lines.extend(str(line) for line in found if line)
    texts = replies()
    if lines:
        header = texts.get("progress_header") or "您的办理进度："
        return ctx.reply("\n".join([header, *lines]), "query_progress", items=len(lines)), needs_reply
    # Nothing on record (reported by phone? another account?): a person checks.
    return ctx.reply(texts.get("progress_none_escalated") or texts.get("progress_none") or "没有查到。",
                     "query_progress", items=0), True


# "下周的活动取消了吗", "我的预约是不是被取消了": asking whether something was called off is a
# question for a person, never the cancellation of the resident's own booking or sign-up — unless
# it is a polite request ("能帮我取消了吗").
WHETHER_CANCELLED = re.compile(r"(取消|撤销)(了)?(吗|嘛|么|没|没有)|是不是[^，。,.!?！？]{0,8}取消|是否[^，。,.!?！？]{0,6}取消"
                               r"|(会|要)不(会|要)[^，。,.!?！？]{0,4}取消|取消不取消|被取消")
ASKED_TO_CANCEL = re.compile(r"(帮我|给我|替我|帮忙|麻烦|请你?)[^，。,.!?！？]{0,12}取消")


def asks_whether_cancelled(text: str) -> bool:
    return bool(WHETHER_CANCELLED.search(text)) and not ASKED_TO_CANCEL.search(text)


def cancel(ctx: ConversationContext, needs_reply: bool) -> tuple[Reply, bool]:
    texts = replies()
    if ctx.state.get("flow"):
        flow = ctx.state["flow"]
        ctx.end_flow()
        return ctx.reply(texts.get("cancel_flow") or "好的，已取消。", "cancel", left_flow=flow), False
    if asks_whether_cancelled(ctx.inbound.text or ""):
        return ctx.reply(texts.get("cancel_question") or "已转给值班人员答复您。", "cancel_question"), True
    for fn in registry.cancel_handlers():
        reply, ran = registry.call(fn, ctx, "cancel handler")
        if ran and isinstance(reply, Reply):
            return reply, False
    return ctx.reply(texts.get("cancel_nothing") or "没有找到可以取消的预约或报名。", "cancel", nothing=True), False


OWN_HANDLERS: dict[str, OwnHandler] = {
    "chitchat": chitchat,
    "none": none,
    "human": human,
    "ask_info": ask_info,
    "query_progress": query_progress,
    "cancel": cancel,
}
OWN_INTENTS = tuple(OWN_HANDLERS)
