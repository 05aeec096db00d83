"""The bot's side of requests: report (诉求), follow-up media, rating (回访) and "my progress".

Exports ``CHAT`` for the conversation router (app.handlers.conversation.registry).
Every handler takes a ``ConversationContext`` and returns its Reply.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import exists, or_, select

from app.clock import now as clock_now
from app.extensions import db
from app.handlers import sla
from app.handlers.messaging.features import ChatFeature, Express
from app.handlers.requests.deferred import KIND as DEFERRED
from app.handlers.requests.deferred import defer_report, deferred_detail, finish_pending_of, report_reply_text
from app.handlers.requests.intake import add_follow_up, counted_code, create_request, find_follow_up_target
from app.handlers.requests.lifecycle import acknowledge_by_staff_message, rate
from app.handlers.requests.rules import CATEGORIES, parse_rating
from app.localtime import format_local
from app.models import Message
from app.models.requests import (
    OPEN_STATUSES,
    RATING_LABELS,
    RATINGS,
    STATUS_LABELS,
    RequestEvent,
    RequestStatus,
    ServiceRequest,
)

MEDIA_TYPES = ("image", "voice", "video", "shortvideo", "location")


def _photos_of(message: Message | None) -> list[str]:
    """A photo reference from an image message: the picture URL (lasts), else the media id (3 days on WeChat)."""
    if message is None or message.msg_type != "image":
        return []
    media = message.media or {}
    ref = media.get("pic_url") or media.get("url") or media.get("media_id")
    return [str(ref)] if ref else []


def _already_followed(request: ServiceRequest, message_id: int) -> bool:
    return any((e.detail or {}).get("message_id") == message_id for e in db.session.scalars(
        select(RequestEvent).where(RequestEvent.request_id == request.id, RequestEvent.kind == "follow_up")))


def _chat_id(ctx) -> str | None:
    return ctx.group.chat_id if ctx.group is not None else ctx.inbound.chat_id


def join_follow_up(ctx):
    """For the router: a photo, voice or location a resident sends right after reporting joins that request.

    Returns a Reply, or None when the message is not media or there is no open
    request of theirs in this chat within LINLI_REQUEST_FOLLOWUP_SECONDS.
    """
    if ctx.resident is None or ctx.community_id is None or ctx.message.msg_type not in MEDIA_TYPES:
        return None
    if getattr(ctx, "first_contact", False):
        return None   # their first message: no request to join
    finish_pending_of(ctx.resident.id, except_id=ctx.message.id)   # a report answered a moment ago
    target = find_follow_up_target(resident_id=ctx.resident.id, channel=ctx.inbound.channel, chat_id=_chat_id(ctx),
                                   at=ctx.now)
    if target is None:
        return None
    if not _already_followed(target, ctx.message.id):
        add_follow_up(target, text=ctx.inbound.text, actor=ctx.resident, message=ctx.message,
                      photos=_photos_of(ctx.message))
    what = "图片" if ctx.message.msg_type == "image" else "补充信息"
    return ctx.reply(f"已将{what}记入诉求（编号{target.code}）。", "requests.follow_up",
                     request_id=target.id, request_code=target.code, follow_up=True)


def _join(ctx, target: ServiceRequest, text: str, photos: list[str]):
    # Handling the same message twice must not add the same follow-up twice.
    if not _already_followed(target, ctx.message.id):
        add_follow_up(target, text=text, actor=ctx.resident, message=ctx.message, photos=photos)
    # The follow-up message is held to the request's clock (started when the request was opened).
    sla.start_reply_clock(community_id=target.community_id, message_id=ctx.message.id, request_id=target.id,
                          group_id=target.group_id, resident_id=target.resident_id)
    return ctx.reply(f"已将您的补充说明记入诉求（编号{target.code}），值班人员会一并处理。", "requests.follow_up",
                     request_id=target.id, request_code=target.code, follow_up=True)


def handle_report(ctx):
    """report_issue: open a request (or add to the one this resident opened a moment ago); both start the clock."""
    u = ctx.understanding
    slots = dict(getattr(u, "slots", None) or {})
    if ctx.resident is None:
        return ctx.reply("工作人员的消息不登记为居民诉求。", "requests.report", skipped="not_a_resident")
    if ctx.community_id is None:
        return ctx.reply("抱歉，暂时无法确认您所在的社区。请在小区居民群里反映，或在小程序中选择您的社区后再提交。",
                         "requests.report", skipped="no_community")
    inbound = ctx.inbound
    text = (inbound.text or ctx.message.text or "").strip() or "（图片）"
    photos = _photos_of(ctx.message)
    category = getattr(u, "category", None) if getattr(u, "category", None) in CATEGORIES else None
    # A message stored just now (the callback's own) has no request yet; one handled again may have.
    existing = None if inbound.may_defer else db.session.scalars(select(ServiceRequest).where(
        ServiceRequest.message_id == ctx.message.id)).first()
    # Their first message (the resident was created by it): nothing pending, no request to join.
    first_contact = existing is None and getattr(ctx, "first_contact", False)
    if existing is None and not first_contact:
        # Their report answered a moment ago and still pending becomes its request first: this one may join it.
        finish_pending_of(ctx.resident.id, except_id=ctx.message.id)
    target = None if existing is not None or first_contact else find_follow_up_target(
        resident_id=ctx.resident.id, channel=inbound.channel, chat_id=_chat_id(ctx), at=ctx.now, category=category,
        building=slots.get("building"))
    if target is not None:
        return _join(ctx, target, text, photos)
    emergency = bool(getattr(u, "emergency", False))
    if existing is None and not photos:
        deferred = defer_report(ctx, category=category, slots=slots, emergency=emergency)
        if deferred is not None:
            return deferred   # numbered and answered; a worker creates the request (deferred.py)
    # The same message handled twice finds its request again (create_request is idempotent per message).
    request = create_request(
        community_id=ctx.community_id, text=text, category=category, resident=ctx.resident,
        building=slots.get("building"), unit=slots.get("unit"), room=slots.get("room"), message=ctx.message,
        group=ctx.group, chat_id=_chat_id(ctx), channel=inbound.channel,
        reporter_channel_id=None if ctx.group is not None else inbound.sender_id, photos=photos, source="chat",
        urgency="emergency" if emergency else None)
    return ctx.reply(report_reply_text(request.code), "requests.report", request_id=request.id,
                     request_code=request.code)


def express_report(u, arrived):
    """handle_report's answer for a resident with no request to join, given in the callback: the number
    from the counter, the request created by a worker (``defer_report``'s promise, without its rows)."""
    code = counted_code(arrived)
    if code is None:
        return None   # Redis down: numbered and created the ordinary way
    category = getattr(u, "category", None) if getattr(u, "category", None) in CATEGORIES else None
    slots = dict(getattr(u, "slots", None) or {})
    return report_reply_text(code), DEFERRED, deferred_detail(code, category, slots,
                                                              bool(getattr(u, "emergency", False)))


def report_joinable(resident_id, channel: str, since):
    """The SQL of "find_follow_up_target could find something": an open request of this resident in the
    1:1 chat of the channel, written to since ``since``."""
    return exists().where(ServiceRequest.resident_id == resident_id, ServiceRequest.status.in_(OPEN_STATUSES),
                          ServiceRequest.channel == channel, ServiceRequest.chat_id.is_(None),
                          ServiceRequest.last_resident_at >= since)


def follow_up_window() -> int:
    return int(current_app.config.get("REQUEST_FOLLOWUP_SECONDS") or 0)


# ---- 回访 ------------------------------------------------------------------------------------

def latest_to_rate(resident_id: int) -> ServiceRequest | None:
    return db.session.scalars(select(ServiceRequest).where(
        ServiceRequest.resident_id == resident_id, ServiceRequest.status == RequestStatus.RESOLVED.value)
        .order_by(ServiceRequest.resolved_at.desc(), ServiceRequest.id.desc()).limit(1)).first()


def _rated_reply(ctx, request: ServiceRequest, rating: str):
    if rating == "unsatisfied":
        text = f"很抱歉没有让您满意。诉求{request.code}已退回重新办理，工作人员会尽快联系您。"
    else:
        text = f"感谢您的评价（{RATING_LABELS[rating]}）！诉求{request.code}已完结。"
    return ctx.reply(text, "requests.rate", request_id=request.id, request_code=request.code, rating=rating)


def _rating_in(ctx) -> str | None:
    return (getattr(ctx.understanding, "slots", None) or {}).get("rating") or parse_rating(ctx.inbound.text)


def handle_rate(ctx):
    """rate: rate the resident's latest resolved request; without a rating, ask for one (flow "rate")."""
    request = latest_to_rate(ctx.resident.id) if ctx.resident is not None else None
    if request is None:
        return ctx.reply("您目前没有待评价的诉求。如需查询进度，请发送“查询进度”。", "requests.rate", nothing_to_rate=True)
    rating = _rating_in(ctx)
    if rating not in RATINGS:
        ctx.start_flow("rate", request_id=request.id, attempts=0)
        return ctx.reply(f"请对诉求{request.code}（{request.title}）的处理结果进行评价，回复“满意”“基本满意”或“不满意”。",
                         "requests.rate", request_id=request.id, asked=True)
    rate(request, ctx.resident, rating=rating)
    return _rated_reply(ctx, request, rating)


def continue_rating(ctx):
    """The message after "请评价": it is the rating (or we ask once more, then give up)."""
    state = ctx.state or {}
    request = db.session.get(ServiceRequest, state.get("request_id")) if state.get("request_id") else None
    if request is None or ctx.resident is None or request.resident_id != ctx.resident.id \
            or request.status != RequestStatus.RESOLVED.value:
        ctx.end_flow()
        request = latest_to_rate(ctx.resident.id) if ctx.resident is not None else None
        if request is None:
            return ctx.reply("您目前没有待评价的诉求。", "requests.rate", nothing_to_rate=True)
    rating = _rating_in(ctx)
    if rating not in RATINGS:
        attempts = int(state.get("attempts") or 0) + 1
        if attempts >= 2:
            ctx.end_flow()
            return ctx.reply("没有识别到您的评价。之后您随时可以回复“满意”“基本满意”或“不满意”进行评价。",
                             "requests.rate", request_id=request.id, gave_up=True)
        ctx.start_flow("rate", request_id=request.id, attempts=attempts)
        return ctx.reply("请回复“满意”“基本满意”或“不满意”。", "requests.rate", request_id=request.id, asked=True)
    ctx.end_flow()
    rate(request, ctx.resident, rating=rating)
    return _rated_reply(ctx, request, rating)


# ---- my progress -----------------------------------------------------------------------------

def progress_line(request: ServiceRequest, at: datetime) -> str:
    short = request.title if len(request.title) <= 14 else request.title[:13] + "…"
    line = f"诉求{request.code}「{short}」：{STATUS_LABELS.get(request.status, request.status)}"
    if request.status in OPEN_STATUSES:
        line += f"，应于{format_local(request.due_at)}前办结"
        if request.due_at <= at:
            line += "（已超期，已督办）" if request.supervised_at else "（已超期）"
    elif request.status == RequestStatus.RESOLVED.value:
        line += "，请回复“满意”“基本满意”或“不满意”评价"
    elif request.status == RequestStatus.MERGED.value and request.merged_into_id:
        into = db.session.get(ServiceRequest, request.merged_into_id)
        if into is not None:
            line += f"，已并入{into.code}一并办理（{STATUS_LABELS.get(into.status, into.status)}）"
    return line


def progress_lines(ctx) -> list[str]:
    """The resident's own requests: open ones first, then the last month's finished ones (at most 5)."""
    if ctx.resident is None:
        return []
    at = ctx.now or clock_now()
    rows = db.session.scalars(select(ServiceRequest).where(
        ServiceRequest.resident_id == ctx.resident.id,
        or_(ServiceRequest.status.in_(OPEN_STATUSES + (RequestStatus.RESOLVED.value,)),
            ServiceRequest.updated_at >= at - timedelta(days=30)))
        .order_by(ServiceRequest.created_at.desc(), ServiceRequest.id.desc()).limit(20)).all()
    rows.sort(key=lambda r: (r.status not in OPEN_STATUSES + (RequestStatus.RESOLVED.value,), -r.id))
    return [progress_line(r, at) for r in rows[:5]]


CHAT = ChatFeature(
    intents={"report_issue": handle_report, "rate": handle_rate},
    express={"report_issue": Express(answer=express_report, joinable=report_joinable,
                                        window_seconds=follow_up_window)},
    flows={"rate": continue_rating},
    progress=progress_lines,
    media=join_follow_up,
    staff_group_hook=acknowledge_by_staff_message,
)
