"""Shared set-up of the reply-clock tests: a covered community, resident messages, clocks, alerts."""
from __future__ import annotations

import itertools
from datetime import timedelta
from types import SimpleNamespace

from sqlalchemy import select

from app.extensions import db
from app.handlers import sla
from app.models import Alert, Direction, GroupKind, Message
from tests import factories as f

_seq = itertools.count(1)


def make_world(*, duty_wework=True, with_duty_group=True):
    """A community with a resident group, a duty group, an admin, a lead and a duty member on shift."""
    community = f.community(name=f"富强新村{next(_seq)}")
    group = f.group(community=community, name="3号楼居民群")
    duty_group = f.group(community=community, name="值班群", kind=GroupKind.DUTY.value,
                         chat_id=f"duty-{next(_seq)}") if with_duty_group else None
    admin = f.staff(roles=("community_admin",), community=community, name="王书记",
                    wework_userid=f"wangsj{next(_seq)}")
    lead = f.staff(roles=("duty",), community=community, name="李值班长", wework_userid=f"lizbz{next(_seq)}")
    duty = f.staff(roles=("duty",), community=community, name="张值班",
                   wework_userid=f"zhang{next(_seq)}" if duty_wework else None)
    resident = f.resident(community_id=community.id, name="赵大妈", phone="13812345678")
    db.session.commit()
    return SimpleNamespace(community=community, group=group, duty_group=duty_group, admin=admin, lead=lead,
                           duty=duty, resident=resident)


def cover_day(world, start):
    """Duty member and lead on shift for 24 hours from ``start``."""
    f.shift(world.duty, start, start + timedelta(hours=24))
    f.shift(world.lead, start, start + timedelta(hours=24), is_lead=True)
    db.session.commit()


def resident_message(world, text="3号楼2单元楼道灯坏了，晚上看不见", at=None):
    n = next(_seq)
    row = Message(direction=Direction.IN.value, channel=world.group.channel, dedupe_key=f"in-{n}",
                  chat_id=world.group.chat_id, group_id=world.group.id, community_id=world.community.id,
                  sender_id=f"resident-{world.resident.id}", sender_name=world.resident.name,
                  resident_id=world.resident.id, text=text)
    if at is not None:
        row.received_at = at
    db.session.add(row)
    db.session.commit()
    return row


def start(world, message=None, **kw):
    message = message or resident_message(world)
    return sla.start_reply_clock(community_id=world.community.id, message_id=message.id, group_id=world.group.id,
                                 resident_id=world.resident.id, **kw)


def alert_messages(key_part=""):
    return db.session.scalars(select(Message).where(
        Message.direction == Direction.OUT.value, Message.dedupe_key.like(f"alert:%{key_part}%"))
        .order_by(Message.id)).all()


def alerts(kind=None):
    statement = select(Alert).order_by(Alert.id)
    if kind:
        statement = statement.where(Alert.kind == kind)
    return db.session.scalars(statement).all()
