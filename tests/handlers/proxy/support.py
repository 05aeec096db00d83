"""Helpers shared by the proxy-handling tests (no tests here).

``Chat`` drives the booking chat handlers turn by turn the way the conversation
router does (a stored inbound message per turn, the dialogue state carried
between turns); ``run_due_jobs`` runs the RQ jobs scheduled up to the frozen
clock's "now" in a SimpleWorker, so reminder tests need no sleeping.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable
from zoneinfo import ZoneInfo

from rq import Queue, SimpleWorker
from rq.job import Job
from sqlalchemy import func, select

from app.extensions import db, redis_ext
from app.handlers.proxy import chat as proxy_chat
from app.handlers.proxy.catalogue import find_item, load_catalogue
from app.handlers.proxy.stations import create_station, parse_hours_spec
from app.models import Direction, Message
from app.models.proxy import Booking, SlotLoad
from tests import factories as f
from tests.support import chat
from workers.jobs import QUEUE_DEFAULT
from workers.runner import build_worker

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOURS = ["mon-fri 08:30-11:30,14:00-17:30", "sat 09:00-11:30x1"]
_seq = itertools.count(1)


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


@dataclass
class Setup:
    community: Any
    station: Any
    admin: Any
    duty: Any

    def item(self, key: str = "zunlaojin"):
        return find_item(self.community.id, key)


def setup_community(*, capacity: int = 2, hours: Iterable[str] = HOURS, slot_minutes: int = 30,
                    name: str | None = None) -> Setup:
    community = f.community(**({"name": name} if name else {}), phone="0519-86601234")
    load_catalogue(community)
    rows = [row for spec in hours for row in parse_hours_spec(spec)]
    station = create_station(community.id, {"name": "政务代办站", "address": "富强新村党群服务中心一楼",
                                            "slot_minutes": slot_minutes, "capacity": capacity, "hours": rows})
    admin = f.staff(roles=("community_admin", "duty"), community=community, name="王秀英")
    duty = f.staff(roles=("duty",), community=community, name="李建国")
    db.session.commit()
    return Setup(community, station, admin, duty)


def resident(community, name: str = "张三华", **kw):
    n = next(_seq)
    row = f.resident(community_id=community.id, name=name, phone=f"1380000{n:04d}",
                     identities=[("mp", "openid", f"openid-{n}-{name}")], **kw)
    db.session.commit()
    return row


def outbound(**filters) -> list[Message]:
    statement = select(Message).where(Message.direction == Direction.OUT.value)
    for name, value in filters.items():
        statement = statement.where(getattr(Message, name) == value)
    return list(db.session.scalars(statement.order_by(Message.id)))


def load(station_id: int, start: datetime) -> int:
    value = db.session.scalar(select(SlotLoad.booked).where(SlotLoad.station_id == station_id,
                                                            SlotLoad.slot_start == start))
    return value or 0


def bookings(**filters) -> list[Booking]:
    statement = select(Booking)
    for name, value in filters.items():
        statement = statement.where(getattr(Booking, name) == value)
    return list(db.session.scalars(statement.order_by(Booking.id)))


def count_bookings(**filters) -> int:
    statement = select(func.count()).select_from(Booking)
    for name, value in filters.items():
        statement = statement.where(getattr(Booking, name) == value)
    return db.session.scalar(statement)


# ---- chat ------------------------------------------------------------------------------------------

class Chat(chat.ChatDriver):
    """One resident talking 1:1 to the official account about proxy-handling."""

    def __init__(self, resident, clock, *, community_id: int | None = None, channel: str = "mp"):
        super().__init__(proxy_chat.CHAT, resident=resident, now=clock, channel=channel,
                         community_id=community_id if community_id is not None else resident.community_id,
                         sender=next(i.value for i in resident.identities if i.kind == "openid"),
                         default_intent="book_proxy")
        self.clock = clock
        self.openid = self.sender


# ---- jobs ------------------------------------------------------------------------------------------

def scheduled(queue_name: str = QUEUE_DEFAULT) -> dict[str, datetime]:
    """Scheduled job id → the time it is due."""
    queue = Queue(queue_name, connection=redis_ext.client)
    registry = queue.scheduled_job_registry
    return {job_id: registry.get_scheduled_time(job_id) for job_id in registry.get_job_ids()}


def run_due_jobs(app, clock, queues: Iterable[str] = (QUEUE_DEFAULT,)) -> int:
    """Move jobs scheduled at or before the frozen clock's now into their queues and run them all."""
    connection = redis_ext.client
    moved = 0
    stamp = int(clock().timestamp())
    for name in queues:
        queue = Queue(name, connection=connection)
        registry = queue.scheduled_job_registry
        for job_id in registry.get_jobs_to_schedule(stamp):
            job = Job.fetch(job_id, connection=connection)
            registry.remove(job_id)
            queue._enqueue_job(job)
            moved += 1
    build_worker(app, list(queues), worker_class=SimpleWorker).work(burst=True)
    db.session.expire_all()
    return moved
