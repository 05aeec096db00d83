"""Builders for request tests: a whole community (``build_world``) and a resident's report through the bot.

``report`` sends a group message through the requests chat handler with a real
ConversationContext; tests/handlers/requests, tests/api/test_requests.py and
tests/workers/test_requests_overdue.py share these.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.bot import Understanding
from app.clock import now
from app.extensions import db
from app.handlers.conversation import ConversationContext
from app.handlers.messaging.inbound import CHAT_GROUP, CHAT_PRIVATE, InboundMessage, store_once
from app.handlers.requests import chat
from app.models import Direction, Message
from app.models.requests import RequestEvent, ServiceRequest
from tests import factories

SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass
class World:
    street: object
    community: object
    grid: object
    building: object
    duty: object
    worker: object
    leader: object
    admin: object
    resident: object
    group: object
    department: object
    dept_staff: object
    street_admin: object
    other_community: object
    other_staff: object


def build_world() -> World:
    street = factories.street(name="泉城路街道")
    community = factories.community(street=street, name="富强新村社区", phone="0531-88886666")
    grid = factories.grid(community=community, name="第一网格")
    building = factories.building(community=community, grid=grid, number="3", name="3号楼")
    duty = factories.staff(roles=("duty",), community=community, name="李值班", wework_userid="li-duty")
    worker = factories.staff(roles=("grid_worker",), community=community, grid_id=grid.id, name="王网格",
                             wework_userid="wang-grid")
    leader = factories.staff(roles=("grid_leader",), community=community, grid_id=grid.id, name="孙网格长")
    admin = factories.staff(roles=("community_admin",), community=community, name="赵书记",
                            wework_userid="zhao-admin")
    resident = factories.resident(community_id=community.id, name="张秀英", phone="13912345678",
                                  identities=[("group", "group_member", "u-zhang"),
                                              ("miniprogram", "openid", "o-zhang")])
    group = factories.group(community=community, grid_id=grid.id, chat_id="chat-fuqiang-1", channel="group",
                            name="富强新村1号群")
    department = factories.department(street_id=street.id, name="区住建局")
    dept_staff = factories.staff(roles=("department",), department_id=department.id, name="住建局刘工",
                                 wework_userid="liu-dept")
    street_admin = factories.staff(roles=("street_admin",), street_id=street.id, name="街道周主任")
    other_community = factories.community(street=street, name="幸福里社区")
    other_staff = factories.staff(roles=("duty", "community_admin", "grid_leader"), community=other_community,
                                  name="外社区值班")
    db.session.commit()
    return World(street, community, grid, building, duty, worker, leader, admin, resident, group, department,
                 dept_staff, street_admin, other_community, other_staff)


_seq = iter(range(1, 10**9))


def inbound_message(text: str, *, sender="u-zhang", chat_id="chat-fuqiang-1", channel="group",
                    media=None, msg_type="text") -> tuple[Message, InboundMessage]:
    inbound = InboundMessage(channel=channel, dedupe_key=f"m-{next(_seq)}", sender_id=sender, chat_id=chat_id,
                             chat_type=CHAT_GROUP if chat_id else CHAT_PRIVATE, text=text, media=media,
                             msg_type=msg_type, sender_name="张秀英")
    message, _ = store_once(inbound)
    return message, inbound


def make_ctx(message, inbound, *, resident, group=None, community_id=None, category=None, slots=None,
             intent="report_issue", state=None):
    understanding = Understanding(text=inbound.text or "", intent=intent, confidence=0.9, category=category,
                                  needs_reply=intent == "report_issue", should_reply=True, slots=dict(slots or {}))
    return ConversationContext(message=message, inbound=inbound, understanding=understanding, resident=resident,
                               staff=None, group=group, community_id=community_id, now=now(),
                               state=dict(state or {}))


def report(world: World, text: str = "3号楼2单元楼道灯坏了", *, category="repair", slots=None, **kw):
    """A resident's group message through handle_report; returns (reply, request)."""
    message, inbound = inbound_message(text, **kw)
    in_group = inbound.chat_id == world.group.chat_id and inbound.channel == world.group.channel
    ctx = make_ctx(message, inbound, resident=world.resident, group=world.group if in_group else None,
                   community_id=world.community.id, category=category,
                   slots={"building": "3", "unit": "2"} if slots is None else slots)
    reply = chat.handle_report(ctx)
    request = db.session.get(ServiceRequest, reply.detail["request_id"]) if "request_id" in reply.detail else None
    return reply, request


def kinds(request: ServiceRequest) -> list[str]:
    return [e.kind for e in db.session.scalars(
        select(RequestEvent).where(RequestEvent.request_id == request.id).order_by(RequestEvent.id))]


def outbound(**where) -> list[Message]:
    statement = select(Message).where(Message.direction == Direction.OUT.value).order_by(Message.id)
    rows = db.session.scalars(statement).all()
    return [m for m in rows if all((m.handling or {}).get(k) == v if k in ("request_id", "recipient_kind")
                                   else getattr(m, k) == v for k, v in where.items())]


def local(year, month, day, hour=0, minute=0, second=0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI)
