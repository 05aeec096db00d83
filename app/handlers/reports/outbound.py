"""What linli sent (发送记录): outbound messages of a community with where they went and how.

On the embedded default nothing is configured, so the senders deliver into this record
(route ``local``, app/channels/senders.py LocalDelivery): it is where a newcomer sees the
group posts and alerts that would have gone out.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.extensions import db
from app.models import Direction, Message, ResidentGroup, Staff

ROUTE_LABELS = {
    "local": "本地记录（未配置微信）", "bridge_outbox": "群桥接", "webhook": "群机器人", "appchat": "企业微信群",
    "wework_app": "企业微信应用消息", "custom_send": "客服消息", "aibot_response": "智能机器人",
    "no_route": "无可用渠道",
}
STATUS_LABELS = {"queued": "待发送", "sending": "发送中", "sent": "已发送", "failed": "发送失败", "rejected": "被拒绝",
                 "unknown": "结果未知"}
KIND_LABELS = {"group": "群", "staff": "工作人员", "user": "居民"}


@dataclass
class Sent:
    id: int
    at: datetime
    to: str
    kind: str
    text: str
    status: str
    route: str
    alert: str | None
    error: str | None


def sent_messages(community_id: int, *, chat_id: str | None = None, limit: int = 100,
                  after_id: int = 0) -> list[Sent]:
    statement = select(Message).where(Message.direction == Direction.OUT.value, Message.community_id == community_id,
                                      Message.id > after_id)
    if chat_id is not None:
        statement = statement.where(Message.chat_id == chat_id)
    rows = list(db.session.scalars(statement.order_by(Message.id.desc()).limit(limit)))
    groups = {g.id: g.name for g in db.session.scalars(select(ResidentGroup).where(
        ResidentGroup.id.in_({m.group_id for m in rows if m.group_id})))}
    staff = {s.id: s.name for s in db.session.scalars(select(Staff).where(
        Staff.id.in_({m.staff_id for m in rows if m.staff_id})))}
    out = []
    for message in rows:
        handling = message.handling or {}
        kind = handling.get("recipient_kind", "user")
        if kind == "group":
            to = groups.get(message.group_id) or message.chat_id or "群"
        elif kind == "staff":
            to = staff.get(message.staff_id) or message.recipient_id or "工作人员"
        else:
            to = "居民（私聊）"
        route = handling.get("route")
        out.append(Sent(id=message.id, at=message.received_at, to=to, kind=KIND_LABELS.get(kind, kind),
                        text=message.text or "", status=STATUS_LABELS.get(message.status, message.status or ""),
                        route=ROUTE_LABELS.get(route, route or "—"), alert=handling.get("alert_kind"),
                        error=message.error))
    return out


@dataclass
class ChatLine:
    id: int
    at: datetime
    who: str
    side: str          # resident | bot | staff | linli
    text: str
    note: str | None   # e.g. why the bot stayed silent


def chat_log(chat_id: str, *, limit: int = 60) -> list[ChatLine]:
    """A group as its members saw it: residents' messages, the bot's answers, what linli posted."""
    rows = list(db.session.scalars(select(Message).where(Message.chat_id == chat_id)
                                   .order_by(Message.id.desc()).limit(limit)))
    rows.reverse()
    staff = {s.id: s.name for s in db.session.scalars(select(Staff).where(
        Staff.id.in_({m.staff_id for m in rows if m.staff_id})))}
    lines: list[ChatLine] = []
    for message in rows:
        handling = message.handling or {}
        if message.direction == Direction.OUT.value:
            side = "staff" if message.staff_id else "linli"
            who = f"值班·{staff.get(message.staff_id, '工作人员')}" if message.staff_id else "社区助手"
            lines.append(ChatLine(message.id, message.received_at, who, side, message.text or "", None))
            continue
        side = "staff" if message.is_staff else "resident"
        lines.append(ChatLine(message.id, message.received_at, message.sender_name or "群成员", side,
                              message.text or f"[{message.msg_type}]", None))
        reply = handling.get("reply_text")
        if reply:
            lines.append(ChatLine(message.id, message.received_at, "社区助手", "bot", reply, None))
        elif handling:
            lines[-1].note = "机器人没有发言" + (f"（{handling['reason']}）" if handling.get("reason")
                                               else "：这句话不需要它回答")
    return lines
