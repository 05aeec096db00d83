"""Events: create, publish, announce; sign-ups with capacity and an automatic waiting list;
cancellation with promotion; reminders; check-in/check-out; and the bot's chat handlers.

Shared by the API (app/api/events.py), the bot router (handle_signup, continue_flow,
handle_cancel, progress_lines, event_terms), the CLI and the workers.

Concurrency: every change to an event's sign-ups starts by updating the event's
``EventCapacity`` row (``_lock``). On PostgreSQL that takes the row lock; on SQLite
(whose driver opens the transaction at the first write) it takes the database write
lock. Everything after it — the duplicate check, the conditional
``confirmed < capacity`` increment, the waiting-list ticket, promotions — runs
serialised per event and commits or rolls back as one.
"""
from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Iterable
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError

from app.clock import now as clock_now
from app.errors import ApiError
from app.extensions import db
from app.handlers.audit import record
from app.handlers.messaging.features import ChatFeature
from app.models import Community, Resident, ResidentGroup, ResidentIdentity, Staff
from app.models.events import (
    ACTIVE_SIGNUP,
    AUDIENCE_LABELS,
    EVENT_KIND_LABELS,
    Audience,
    CheckIn,
    Event,
    EventCapacity,
    EventKind,
    EventStatus,
    MemberKind,
    PartyMember,
    Recurrence,
    Signup,
    SignupStatus,
    VolunteerProject,
)
from app.models.groups import GroupKind
from app.models.masking import mask_name

log = logging.getLogger(__name__)

# Check-in opens this long before the start and closes this long after the end.
CHECKIN_OPENS_BEFORE = timedelta(hours=2)
CHECKIN_CLOSES_AFTER = timedelta(hours=12)
# The bot offers events starting within this many days.
BOT_HORIZON = timedelta(days=60)
# Signed-up residents absent at the end are marked "absent" this long after the end.
ABSENT_AFTER = timedelta(hours=12)

WEEKDAY_NAMES = "一二三四五六日"
KIND_WORDS = {
    EventKind.HEALTH_CHECK.value: ("义诊", "体检", "健康检查", "量血压", "测血压", "测血糖", "健康咨询"),
    EventKind.CLASS.value: ("课堂", "课程", "讲座", "培训", "辅导", "兴趣班"),
    EventKind.MEETING.value: ("议事", "议事会", "座谈", "协商"),
    EventKind.PARTY_DAY.value: ("主题党日", "党日"),
    EventKind.VOLUNTEER.value: ("志愿", "义务劳动", "清扫", "大扫除", "清洁", "环境整治"),
    EventKind.CULTURE_SPORTS.value: ("文艺", "演出", "比赛", "运动会", "广场舞", "文体"),
}
YES_WORDS = ("好", "是", "要", "行", "可以", "报名", "报", "确认", "候补", "排队", "嗯", "对", "ok", "OK", "yes")
NO_WORDS = ("不用", "不要", "不了", "算了", "取消", "不报", "不是", "不对", "别", "no", "No")


class EventError(ApiError):
    """A refusal with a Chinese message for residents/staff; the API turns it into a 4xx."""

    status = 409
    code = "event_error"


def refusal(message: str, code: str, status: int = 409, field: str | None = None, **extra) -> EventError:
    return EventError(message, code=code, status=status, field=field, extra=extra or None)


# ---- time and text helpers ------------------------------------------------------------------

def local_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def to_local(value: datetime) -> datetime:
    return value.astimezone(local_zone())


def local_day(value: datetime) -> str:
    """11月24日（周二）"""
    lv = to_local(value)
    return f"{lv.month}月{lv.day}日（周{WEEKDAY_NAMES[lv.weekday()]}）"


def local_time(value: datetime) -> str:
    return to_local(value).strftime("%H:%M")


def format_when(event: Event) -> str:
    """11月24日（周二）08:30–11:00, or both days when it spans midnight."""
    start, end = to_local(event.starts_at), to_local(event.ends_at)
    if start.date() == end.date():
        return f"{local_day(event.starts_at)}{local_time(event.starts_at)}–{local_time(event.ends_at)}"
    return f"{local_day(event.starts_at)}{local_time(event.starts_at)} 至 {local_day(event.ends_at)}{local_time(event.ends_at)}"


def format_deadline(event: Event) -> str:
    return f"{local_day(event.deadline)}{local_time(event.deadline)}"


def recurrence_text(event: Event) -> str | None:
    head = event if event.series_id is None else db.session.get(Event, event.series_id)
    if head is None or head.recurrence != Recurrence.WEEKLY.value:
        return None
    start = to_local(head.starts_at)
    period = "上午" if start.hour < 12 else "下午" if start.hour < 18 else "晚上"
    return f"每周{WEEKDAY_NAMES[start.weekday()]}{period} {local_time(head.starts_at)}–{local_time(head.ends_at)}"


# ---- creating and changing events -----------------------------------------------------------

EDITABLE_FIELDS = ("title", "kind", "description", "place", "starts_at", "ends_at", "capacity", "signup_deadline",
                   "audience", "volunteer_minutes", "aliases", "project_id", "recurrence_until")
# Fields an edit of a series head passes on to its future occurrences (times stay per occurrence).
SERIES_FIELDS = ("title", "kind", "description", "place", "capacity", "audience", "volunteer_minutes", "aliases",
                 "project_id")


def _clean_aliases(aliases: Iterable[str] | None) -> list[str]:
    cleaned: list[str] = []
    for alias in aliases or []:
        if not isinstance(alias, str):
            raise refusal("别名必须是文字", "invalid", 400, field="aliases")
        alias = alias.strip()
        if len(alias) > 30:
            raise refusal("别名过长（最多30字）", "invalid", 400, field="aliases")
        if alias and alias not in cleaned:
            cleaned.append(alias)
    if len(cleaned) > 20:
        raise refusal("别名最多20个", "invalid", 400, field="aliases")
    return cleaned


def _validate(values: dict[str, Any], community_id: int, *, creating: bool) -> None:
    title = (values.get("title") or "").strip()
    if not title:
        raise refusal("请填写活动名称", "invalid", 400, field="title")
    if len(title) > 100:
        raise refusal("活动名称过长（最多100字）", "invalid", 400, field="title")
    values["title"] = title
    if values.get("kind") not in {k.value for k in EventKind}:
        raise refusal(f"活动类型无效，可选：{', '.join(k.value for k in EventKind)}", "invalid", 400, field="kind")
    if values.get("audience") not in {a.value for a in Audience}:
        raise refusal(f"参加对象无效，可选：{', '.join(a.value for a in Audience)}", "invalid", 400, field="audience")
    starts_at, ends_at = values.get("starts_at"), values.get("ends_at")
    for name, value in (("starts_at", starts_at), ("ends_at", ends_at)):
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise refusal("请填写带时区的时间", "invalid", 400, field=name)
    if ends_at <= starts_at:
        raise refusal("结束时间必须晚于开始时间", "invalid", 400, field="ends_at")
    if creating and starts_at <= clock_now():
        raise refusal("开始时间已过，不能创建过去的活动", "invalid", 400, field="starts_at")
    deadline = values.get("signup_deadline")
    if deadline is not None and deadline > starts_at:
        raise refusal("报名截止时间不能晚于活动开始时间", "invalid", 400, field="signup_deadline")
    capacity = values.get("capacity")
    if capacity is not None and (isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 0):
        raise refusal("名额必须是不小于0的整数（不限名额请留空）", "invalid", 400, field="capacity")
    minutes = values.get("volunteer_minutes") or 0
    if minutes < 0 or minutes > 24 * 60:
        raise refusal("志愿时长必须在0–24小时之间", "invalid", 400, field="volunteer_hours")
    values["volunteer_minutes"] = int(minutes)
    values["aliases"] = _clean_aliases(values.get("aliases"))
    recurrence = values.get("recurrence", Recurrence.NONE.value)
    if recurrence not in {r.value for r in Recurrence}:
        raise refusal("重复方式无效，可选：none, weekly", "invalid", 400, field="recurrence")
    until = values.get("recurrence_until")
    if until is not None and until <= starts_at:
        raise refusal("重复截止时间必须晚于首次活动时间", "invalid", 400, field="recurrence_until")
    project_id = values.get("project_id")
    if project_id is not None:
        project = db.session.get(VolunteerProject, project_id)
        if project is None or project.community_id != community_id:
            raise refusal("没有找到这个志愿服务项目", "not_found", 404, field="project_id")


def _new_event(**values) -> Event:
    event = Event(**values)
    event.counter = EventCapacity(capacity=values.get("capacity"), confirmed=0, waiting_seq=0, lock_version=0)
    db.session.add(event)
    return event


def create_event(community_id: int, *, staff: Staff | None, title: str, kind: str, starts_at: datetime,
                 ends_at: datetime, place: str | None = None, description: str | None = None,
                 capacity: int | None = None, signup_deadline: datetime | None = None,
                 audience: str = Audience.EVERYONE.value, volunteer_minutes: int = 0,
                 aliases: Iterable[str] | None = None, recurrence: str = Recurrence.NONE.value,
                 recurrence_until: datetime | None = None, project_id: int | None = None,
                 publish: bool = False) -> Event:
    values = dict(title=title, kind=kind, starts_at=starts_at, ends_at=ends_at, place=place, description=description,
                  capacity=capacity, signup_deadline=signup_deadline, audience=audience,
                  volunteer_minutes=volunteer_minutes, aliases=list(aliases or []), recurrence=recurrence,
                  recurrence_until=recurrence_until, project_id=project_id)
    _validate(values, community_id, creating=True)
    event = _new_event(community_id=community_id, status=EventStatus.DRAFT.value,
                       created_by_staff_id=staff.id if staff else None, **values)
    db.session.flush()
    record("staff" if staff else "system", staff.id if staff else None, "event.create", event,
           community_id=community_id, detail={"title": event.title, "kind": event.kind})
    db.session.commit()
    if event.is_series_head:
        materialise_series(event)
    if publish:
        publish_event(event, staff)
    return event


def update_event(event: Event, staff: Staff | None, changes: dict[str, Any], *, apply_to_series: bool = False) -> Event:
    """Change an event. Capacity changes go through the counter (a raise promotes the waiting list)."""
    if event.status == EventStatus.CANCELLED.value:
        raise refusal("活动已取消，不能修改", "cancelled")
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise refusal(f"不能修改的字段：{', '.join(sorted(unknown))}", "invalid", 400, field=sorted(unknown)[0])
    ended = clock_now() >= event.ends_at
    if ended:
        # A past occurrence keeps its record; a series head past its first date is still the template
        # for the weeks to come, so what it passes on may change.
        allowed = set(SERIES_FIELDS) | {"recurrence_until"} if event.is_series_head else {"description"}
        if set(changes) - allowed:
            raise refusal("活动已结束，只能修改说明" if not event.is_series_head
                          else "系列的第一场已结束，只能修改名称、地点、说明、名额、对象、时长、别名、项目和截止日期",
                          "ended")
    values = {name: getattr(event, name) for name in EDITABLE_FIELDS}
    values["recurrence"] = event.recurrence
    values.update(changes)
    _validate(values, event.community_id, creating=False)
    if "starts_at" in changes and changes["starts_at"] <= clock_now() and changes["starts_at"] != event.starts_at:
        raise refusal("不能把活动改到过去的时间", "invalid", 400, field="starts_at")
    db.session.commit()
    _lock(event.id)
    event = _reload_event(event.id)
    counter = _counter(event.id)
    new_capacity = values["capacity"]
    if new_capacity is not None and counter.confirmed > new_capacity and not ended:
        db.session.rollback()
        raise refusal(f"已有{counter.confirmed}人报名，名额不能少于已报名人数", "capacity_below_confirmed",
                     field="capacity", confirmed=counter.confirmed)
    time_changed = (values["starts_at"] != event.starts_at) or (values["ends_at"] != event.ends_at)
    for name in EDITABLE_FIELDS:
        setattr(event, name, values[name])
    if not ended:  # an ended occurrence's counter is its record: who came when it had that many places
        counter.capacity = new_capacity
    promoted = _promote_waiting(event)
    if time_changed:
        # A new time deserves a new reminder, even for those already reminded of the old one.
        db.session.execute(update(Signup).where(Signup.event_id == event.id).values(reminded_at=None)
                           .execution_options(synchronize_session=False))
    record("staff" if staff else "system", staff.id if staff else None, "event.update", event,
           community_id=event.community_id, detail={"fields": sorted(changes)})
    _notify_promoted(event, promoted)  # commits with the first notice (see cancel_signup)
    db.session.commit()
    if time_changed and event.status == EventStatus.PUBLISHED.value:
        schedule_reminder(event)
    if apply_to_series and event.is_series_head:
        series_changes = {k: v for k, v in changes.items() if k in SERIES_FIELDS}
        if series_changes:
            for occurrence in _future_occurrences(event):
                update_event(occurrence, staff, series_changes)
    return event


def publish_event(event: Event, staff: Staff | None) -> Event:
    if event.status == EventStatus.CANCELLED.value:
        raise refusal("活动已取消，不能发布", "cancelled")
    if event.status == EventStatus.DRAFT.value:
        if clock_now() >= event.starts_at and not event.is_series_head:
            raise refusal("活动已开始，不能再发布", "started")
        event.status = EventStatus.PUBLISHED.value
        event.published_at = clock_now()
        record("staff" if staff else "system", staff.id if staff else None, "event.publish", event,
               community_id=event.community_id)
        db.session.commit()
        schedule_reminder(event)
    if event.is_series_head:
        materialise_series(event)
        for occurrence in _future_occurrences(event):
            if occurrence.status == EventStatus.DRAFT.value:
                publish_event(occurrence, staff)
    return event


def cancel_event(event: Event, staff: Staff | None, reason: str | None = None) -> Event:
    """Cancel an event (a series head: the whole series from now on) and tell everyone signed up."""
    if event.status == EventStatus.CANCELLED.value:
        return event
    if clock_now() >= event.ends_at:
        raise refusal("活动已结束，不能取消", "ended")
    db.session.commit()
    _lock(event.id)
    event = _reload_event(event.id)
    event.status = EventStatus.CANCELLED.value
    event.cancelled_at = clock_now()
    event.cancel_reason = (reason or "").strip()[:200] or None
    affected = db.session.scalars(select(Signup).where(
        Signup.event_id == event.id, Signup.status.in_(ACTIVE_SIGNUP))).all()
    record("staff" if staff else "system", staff.id if staff else None, "event.cancel", event,
           community_id=event.community_id, detail={"reason": event.cancel_reason, "signups": len(affected)})
    db.session.commit()
    unschedule_reminder(event)
    if clock_now() < event.starts_at:
        text = (f"【活动取消】很抱歉，您报名的“{event.title}”（{format_when(event)}）已取消。"
                + (f"原因：{event.cancel_reason}。" if event.cancel_reason else "")
                + "给您带来不便，敬请谅解。")
        for signup in affected:
            notify(signup, text, f"event:{event.id}:cancelled:{signup.id}")
    if event.is_series_head:
        for occurrence in _future_occurrences(event):
            cancel_event(occurrence, staff, reason)
    return event


def _future_occurrences(head: Event) -> list[Event]:
    return list(db.session.scalars(select(Event).where(
        Event.series_id == head.id, Event.starts_at > clock_now()).order_by(Event.starts_at)))


def materialise_series(head: Event, until: datetime | None = None, *, commit: bool = True) -> list[Event]:
    """Create the weekly occurrences of a series up to ``until`` (default: the horizon). Idempotent.

    ``commit=False`` (the demo seeding, which runs in one transaction) only flushes and leaves the
    reminders to the sweep.
    """
    if not head.is_series_head or head.status == EventStatus.CANCELLED.value:
        return []
    horizon = until or clock_now() + timedelta(days=current_app.config["EVENT_SERIES_HORIZON_DAYS"])
    if head.recurrence_until is not None:
        horizon = min(horizon, head.recurrence_until)
    have = set(db.session.scalars(select(Event.starts_at).where(Event.series_id == head.id)))
    start_local, end_local = to_local(head.starts_at), to_local(head.ends_at)
    deadline_before = head.starts_at - head.signup_deadline if head.signup_deadline else None
    created: list[Event] = []
    week = 0
    while True:
        week += 1
        # Aware arithmetic in the local zone keeps the wall-clock time: "every Tuesday 08:30" stays 08:30.
        starts_at = start_local + timedelta(weeks=week)
        ends_at = end_local + timedelta(weeks=week)
        if starts_at > horizon:
            break
        if starts_at <= clock_now() or starts_at in have:
            continue
        occurrence = _new_event(
            community_id=head.community_id, series_id=head.id, project_id=head.project_id, title=head.title,
            kind=head.kind, description=head.description, place=head.place, starts_at=starts_at, ends_at=ends_at,
            recurrence=Recurrence.WEEKLY.value, capacity=head.capacity,
            signup_deadline=starts_at - deadline_before if deadline_before is not None else None,
            audience=head.audience, volunteer_minutes=head.volunteer_minutes, aliases=list(head.aliases or []),
            status=head.status, published_at=clock_now() if head.status == EventStatus.PUBLISHED.value else None,
            created_by_staff_id=head.created_by_staff_id)
        if not commit:
            db.session.flush()
            created.append(occurrence)
            continue
        try:
            db.session.commit()
        except IntegrityError:  # another process materialised it first
            db.session.rollback()
            continue
        created.append(occurrence)
        if occurrence.status == EventStatus.PUBLISHED.value:
            schedule_reminder(occurrence)
    return created


def materialise_all() -> int:
    heads = db.session.scalars(select(Event).where(
        Event.recurrence == Recurrence.WEEKLY.value, Event.series_id.is_(None),
        Event.status != EventStatus.CANCELLED.value,
        or_(Event.recurrence_until.is_(None), Event.recurrence_until > clock_now()))).all()
    return sum(len(materialise_series(head)) for head in heads)


# ---- announcing -----------------------------------------------------------------------------

def announcement_text(event: Event) -> str:
    counter = _counter(event.id)
    lines = [f"【活动通知】{event.title}"]
    repeat = recurrence_text(event)
    if repeat:
        lines.append(f"时间：{repeat}（本次 {local_day(event.starts_at)}）")
    else:
        lines.append(f"时间：{format_when(event)}")
    if event.place:
        lines.append(f"地点：{event.place}")
    if event.capacity is not None:
        lines.append(f"名额：{event.capacity}人（剩余{counter.places_left}个）")
    lines.append(f"报名截止：{format_deadline(event)}")
    lines.append(f"参加对象：{AUDIENCE_LABELS.get(event.audience, event.audience)}")
    if event.volunteer_minutes:
        lines.append(f"志愿时长：{_hours_text(event.volunteer_minutes)}")
    if event.description:
        lines.append(f"说明：{event.description.strip()}")
    keyword = (event.aliases or [event.title])[0]
    lines.append(f"报名方式：在群里或私信说“{keyword}报名”，或在小程序“社区活动”中报名。")
    return "\n".join(lines)


def _hours_text(minutes: int) -> str:
    hours = minutes / 60
    return f"{hours:g}小时"


def announce_event(event: Event, staff: Staff | None) -> list:
    """Post the notice to every active resident group of the community (once per group)."""
    from app.handlers.messaging.outbox import TO_GROUP, queue_message

    if event.status != EventStatus.PUBLISHED.value:
        raise refusal("请先发布活动再发通知" if event.status == EventStatus.DRAFT.value else "活动已取消，不能发通知",
                     "not_published")
    if clock_now() >= event.starts_at:
        raise refusal("活动已开始，不再发通知", "started")
    groups = db.session.scalars(select(ResidentGroup).where(
        ResidentGroup.community_id == event.community_id, ResidentGroup.kind == GroupKind.RESIDENT.value,
        ResidentGroup.active.is_(True)).order_by(ResidentGroup.id)).all()
    if not groups:
        raise refusal("本社区还没有登记居民群，无法发通知", "no_groups")
    text = announcement_text(event)
    event.announced_at = clock_now()
    record("staff" if staff else "system", staff.id if staff else None, "event.announce", event,
           community_id=event.community_id, detail={"groups": [g.id for g in groups]})
    db.session.commit()
    messages = []
    for group in groups:
        messages.append(queue_message(
            channel=group.channel, recipient_kind=TO_GROUP, recipient_id=group.chat_id, text=text,
            idempotency_key=f"event:{event.id}:announce:{group.id}", community_id=event.community_id,
            chat_id=group.chat_id, group_id=group.id, staff_id=staff.id if staff else None,
            meta={"event_id": event.id, "purpose": "event_announce"}))
    return messages


# ---- the counter ----------------------------------------------------------------------------

def _lock(event_id: int) -> None:
    """Take the event's sign-up lock for the rest of the transaction (see the module docstring)."""
    result = db.session.execute(
        update(EventCapacity).where(EventCapacity.event_id == event_id)
        .values(lock_version=EventCapacity.lock_version + 1).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.rollback()
        raise refusal("没有找到这个活动", "not_found", 404)


def _take_place(event_id: int) -> bool:
    """The conditional update: one more confirmed place if there is room."""
    result = db.session.execute(
        update(EventCapacity).where(
            EventCapacity.event_id == event_id,
            or_(EventCapacity.capacity.is_(None), EventCapacity.confirmed < EventCapacity.capacity))
        .values(confirmed=EventCapacity.confirmed + 1).execution_options(synchronize_session=False))
    return result.rowcount == 1


def _release_place(event_id: int) -> None:
    db.session.execute(update(EventCapacity).where(EventCapacity.event_id == event_id, EventCapacity.confirmed > 0)
                       .values(confirmed=EventCapacity.confirmed - 1).execution_options(synchronize_session=False))


def _next_ticket(event_id: int) -> int:
    db.session.execute(update(EventCapacity).where(EventCapacity.event_id == event_id)
                       .values(waiting_seq=EventCapacity.waiting_seq + 1).execution_options(synchronize_session=False))
    return _counter(event_id).waiting_seq


def _counter(event_id: int) -> EventCapacity:
    return db.session.scalars(select(EventCapacity).where(EventCapacity.event_id == event_id)
                              .execution_options(populate_existing=True)).one()


def _reload_event(event_id: int) -> Event:
    return db.session.scalars(select(Event).where(Event.id == event_id)
                              .execution_options(populate_existing=True)).one()


def places_left(event: Event) -> int | None:
    return _counter(event.id).places_left


def waiting_count(event_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Signup).where(
        Signup.event_id == event_id, Signup.status == SignupStatus.WAITING.value)) or 0


def waiting_rank(signup: Signup) -> int | None:
    """1 for the first on the waiting list."""
    if signup.status != SignupStatus.WAITING.value or signup.position is None:
        return None
    ahead = db.session.scalar(select(func.count()).select_from(Signup).where(
        Signup.event_id == signup.event_id, Signup.status == SignupStatus.WAITING.value,
        Signup.position < signup.position)) or 0
    return ahead + 1


def _promote_waiting(event: Event) -> list[Signup]:
    """Fill free places from the waiting list, in order (call with the lock held)."""
    promoted: list[Signup] = []
    if event.status != EventStatus.PUBLISHED.value or clock_now() >= event.starts_at:
        return promoted
    while True:
        first = db.session.scalars(select(Signup).where(
            Signup.event_id == event.id, Signup.status == SignupStatus.WAITING.value)
            .order_by(Signup.position, Signup.id).limit(1).execution_options(populate_existing=True)).first()
        if first is None or not _take_place(event.id):
            return promoted
        moment = clock_now()
        first.status = SignupStatus.CONFIRMED.value
        first.confirmed_at = moment
        first.promoted_at = moment
        first.promotions = (first.promotions or 0) + 1
        db.session.flush()
        record("system", None, "event.signup.promote", first, community_id=event.community_id,
               detail={"event_id": event.id, "position": first.position})
        promoted.append(first)


def _notify_promoted(event: Event, promoted: list[Signup]) -> None:
    for signup in promoted:
        text = (f"【候补转正】您候补的“{event.title}”有名额了，已为您转为正式报名。\n"
                f"时间：{format_when(event)}" + (f"\n地点：{event.place}" if event.place else "")
                + "\n如不能参加，请回复“取消报名”，把名额让给其他居民。")
        notify(signup, text, f"event:{event.id}:promoted:{signup.id}:{signup.promotions}")


# ---- sign-ups -------------------------------------------------------------------------------

@dataclass
class NoticeTarget:
    channel: str
    kind: str          # "user" or "group"
    recipient: str
    group_id: int | None = None


@dataclass
class SignupResult:
    signup: Signup
    event: Event
    replay: bool = False   # the same idempotency key was seen before: nothing new happened

    @property
    def waiting(self) -> bool:
        return self.signup.status == SignupStatus.WAITING.value

    @property
    def rank(self) -> int | None:
        return waiting_rank(self.signup)


@dataclass
class CancelResult:
    signup: Signup
    event: Event
    already: bool = False
    promoted: list[Signup] = field(default_factory=list)


def membership(community_id: int, resident_id: int | None) -> PartyMember | None:
    if resident_id is None:
        return None
    return db.session.scalars(select(PartyMember).where(
        PartyMember.community_id == community_id, PartyMember.resident_id == resident_id,
        PartyMember.active.is_(True))).first()


def _check_open(event: Event) -> None:
    moment = clock_now()
    if event.status == EventStatus.CANCELLED.value:
        raise refusal(f"“{event.title}”已取消", "cancelled")
    if event.status != EventStatus.PUBLISHED.value:
        raise refusal("没有找到这个活动", "not_found", 404)
    if moment >= event.ends_at:
        raise refusal(f"“{event.title}”（{local_day(event.starts_at)}）已经结束了", "ended")
    if moment >= event.starts_at:
        raise refusal(f"“{event.title}”已经开始，不能再报名", "started")
    if moment >= event.deadline:
        raise refusal(f"“{event.title}”（{local_day(event.starts_at)}）报名已于{format_deadline(event)}截止",
                     "deadline_passed")


def _check_audience(event: Event, resident: Resident | None, member: PartyMember | None) -> None:
    if resident is not None and resident.community_id is not None and resident.community_id != event.community_id:
        raise refusal("这是其他社区的活动，请报名本社区的活动", "other_community", 403)
    if event.audience == Audience.PARTY_MEMBERS.value:
        if member is None or member.kind != MemberKind.PARTY.value:
            raise refusal(f"“{event.title}”仅限到社区报到的在职党员参加。党员请先在小程序“双报到”中登记。",
                         "audience", 403)
    elif event.audience == Audience.VOLUNTEERS.value and member is None:
        raise refusal(f"“{event.title}”仅限社区注册志愿者参加。请先在小程序中登记为志愿者。", "audience", 403)


def find_signup(event_id: int, resident_id: int | None, member_id: int | None) -> Signup | None:
    conditions = []
    if resident_id is not None:
        conditions.append(Signup.resident_id == resident_id)
    if member_id is not None:
        conditions.append(Signup.member_id == member_id)
    if not conditions:
        return None
    return db.session.scalars(select(Signup).where(Signup.event_id == event_id, or_(*conditions))
                              .order_by(Signup.id).execution_options(populate_existing=True)).first()


def _already_error(existing: Signup, event: Event) -> EventError:
    if existing.status == SignupStatus.WAITING.value:
        return refusal(f"您已在“{event.title}”的候补名单上（第{waiting_rank(existing)}位），有名额会自动通知您",
                      "already_waiting", signup_id=existing.id)
    return refusal(f"您已报名“{event.title}”（{format_when(event)}），无需重复报名", "already_signed_up",
                  signup_id=existing.id)


def signup_for(event_id: int, *, resident: Resident | None = None, member: PartyMember | None = None,
               idempotency_key: str | None = None, waitlist: bool = True, source: str = "api",
               notify_target: NoticeTarget | None = None, staff: Staff | None = None) -> SignupResult:
    """Sign a resident (or a registered member) up; beyond capacity put them on the waiting list.

    ``waitlist=False`` refuses with code "full" instead of queueing (the chat offers the waiting
    list first). The same ``idempotency_key`` again returns the first result (``replay``).
    """
    if resident is None and member is None:
        raise refusal("缺少报名人", "invalid", 400, field="resident_id")
    key = (idempotency_key or "").strip()[:100] or None
    db.session.commit()  # our transaction must begin with the lock (see _lock)
    event = db.session.get(Event, event_id)
    if event is None:
        raise refusal("没有找到这个活动", "not_found", 404)
    if member is None and resident is not None:
        member = membership(event.community_id, resident.id)
    if member is not None and member.community_id != event.community_id:
        raise refusal("该成员不属于本社区", "other_community", 403)
    resident_id = resident.id if resident is not None else member.resident_id
    member_id = member.id if member is not None else None

    existing = find_signup(event.id, resident_id, member_id)
    if existing is not None and key and existing.idempotency_key == key:
        return SignupResult(existing, event, replay=True)
    _check_open(event)
    _check_audience(event, resident, member)
    if existing is not None and existing.status not in (SignupStatus.CANCELLED.value,):
        raise _already_error(existing, event)
    target = notify_target or default_notice_target(resident_id)

    try:
        _lock(event.id)
        event = _reload_event(event.id)
        _check_open(event)
        existing = find_signup(event.id, resident_id, member_id)
        if existing is not None and existing.status != SignupStatus.CANCELLED.value:
            db.session.rollback()
            if key and existing.idempotency_key == key:
                return SignupResult(existing, event, replay=True)
            raise _already_error(existing, event)
        moment = clock_now()
        if _take_place(event.id):
            status, position = SignupStatus.CONFIRMED.value, None
        else:
            if not waitlist:
                db.session.rollback()
                raise refusal(f"“{event.title}”（{local_day(event.starts_at)}）名额已满，可以排队候补",
                             "full", waiting=waiting_count(event.id))
            status, position = SignupStatus.WAITING.value, _next_ticket(event.id)
        signup = existing or Signup(event_id=event.id, resident_id=resident_id)
        signup.member_id = member_id
        signup.status = status
        signup.position = position
        signup.idempotency_key = key
        signup.source = source
        signup.confirmed_at = moment if status == SignupStatus.CONFIRMED.value else None
        signup.promoted_at = None
        signup.cancelled_at = None
        signup.reminded_at = None
        signup.checked_in_at = None
        signup.checked_out_at = None
        if target is not None:
            signup.notify_channel, signup.notify_kind = target.channel, target.kind
            signup.notify_recipient, signup.notify_group_id = target.recipient, target.group_id
        if existing is None:
            db.session.add(signup)
        db.session.flush()
        actor = ("staff", staff.id) if staff else ("resident", resident_id) if resident_id else ("system", None)
        record(actor[0], actor[1], "event.signup", signup, community_id=event.community_id,
               detail={"event_id": event.id, "status": status, "position": position, "source": source})
        db.session.commit()
    except IntegrityError:
        # The same person signed up concurrently: theirs won, ours wrote nothing.
        db.session.rollback()
        existing = find_signup(event.id, resident_id, member_id)
        if existing is None:  # pragma: no cover - the unique key guarantees a row
            raise
        if key and existing.idempotency_key == key:
            return SignupResult(existing, event, replay=True)
        raise _already_error(existing, event) from None
    except BaseException:
        db.session.rollback()
        raise
    return SignupResult(signup, event)


def cancel_signup(signup_id: int, *, actor_type: str = "resident", actor_id: int | None = None) -> CancelResult:
    """Cancel a sign-up; a freed place goes to the first on the waiting list, who is told."""
    db.session.commit()
    signup = db.session.get(Signup, signup_id)
    if signup is None:
        raise refusal("没有找到这条报名", "not_found", 404)
    event = db.session.get(Event, signup.event_id)
    if signup.status == SignupStatus.CANCELLED.value:
        return CancelResult(signup, event, already=True)
    if signup.status in (SignupStatus.ATTENDED.value, SignupStatus.ABSENT.value):
        raise refusal("活动已签到或已结束，不能取消报名", "attended")
    if clock_now() >= event.starts_at:
        raise refusal(f"“{event.title}”已经开始，不能取消报名", "started")
    try:
        _lock(event.id)
        event = _reload_event(event.id)
        signup = db.session.scalars(select(Signup).where(Signup.id == signup_id)
                                    .execution_options(populate_existing=True)).one()
        if signup.status == SignupStatus.CANCELLED.value:
            db.session.rollback()
            return CancelResult(signup, event, already=True)
        if signup.status not in ACTIVE_SIGNUP:
            db.session.rollback()
            raise refusal("活动已签到或已结束，不能取消报名", "attended")
        held_place = signup.status == SignupStatus.CONFIRMED.value
        signup.status = SignupStatus.CANCELLED.value
        signup.cancelled_at = clock_now()
        db.session.flush()
        promoted: list[Signup] = []
        if held_place:
            _release_place(event.id)
            promoted = _promote_waiting(event)
        record(actor_type, actor_id, "event.signup.cancel", signup, community_id=event.community_id,
               detail={"event_id": event.id, "promoted": [p.id for p in promoted]})
        # The outbox commits with its first message: the promotion and its notice are one transaction.
        _notify_promoted(event, promoted)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return CancelResult(signup, event, promoted=promoted)


def active_signups(resident_id: int, *, upcoming_only: bool = True) -> list[Signup]:
    statement = (select(Signup).join(Event, Event.id == Signup.event_id)
                 .where(Signup.resident_id == resident_id, Signup.status.in_(ACTIVE_SIGNUP),
                        Event.status == EventStatus.PUBLISHED.value))
    if upcoming_only:
        statement = statement.where(Event.ends_at > clock_now())
    return list(db.session.scalars(statement.order_by(Event.starts_at, Signup.id)))


# ---- notices --------------------------------------------------------------------------------

# Private channels on which a resident can be messaged (客服消息 / WeCom external contact).
PRIVATE_IDENTITIES = (("miniprogram", "openid"), ("mp", "openid"), ("wework", "external_userid"))


def default_notice_target(resident_id: int | None) -> NoticeTarget | None:
    if resident_id is None:
        return None
    identities = db.session.scalars(select(ResidentIdentity).where(ResidentIdentity.resident_id == resident_id)).all()
    for channel, kind in PRIVATE_IDENTITIES:
        for identity in identities:
            if identity.channel == channel and identity.kind == kind:
                return NoticeTarget(channel=channel, kind="user", recipient=identity.value)
    return None


def notice_target_for_chat(ctx) -> NoticeTarget | None:
    """Private chats answer where the resident spoke; group sign-ups prefer a private channel, else the group."""
    inbound = ctx.inbound
    if getattr(inbound, "chat_type", "private") != "group":
        return NoticeTarget(channel=inbound.channel, kind="user", recipient=inbound.sender_id)
    private = default_notice_target(ctx.resident.id if ctx.resident else None)
    if private is not None:
        return private
    group = ctx.group
    if group is not None:
        return NoticeTarget(channel=group.channel, kind="group", recipient=group.chat_id, group_id=group.id)
    return None


def notify(signup: Signup, text: str, key: str):
    """Queue a notice to the person behind a sign-up through the outbox (once per key)."""
    from app.handlers.messaging.outbox import TO_GROUP, TO_USER, queue_message

    if not signup.notify_channel or not signup.notify_recipient:
        target = default_notice_target(signup.resident_id)
        if target is None:
            log.info("signup %s has no channel for notices; %s not sent", signup.id, key)
            return None
        signup.notify_channel, signup.notify_kind = target.channel, target.kind
        signup.notify_recipient, signup.notify_group_id = target.recipient, target.group_id
    event = db.session.get(Event, signup.event_id)
    if signup.notify_kind == "group":
        resident = db.session.get(Resident, signup.resident_id) if signup.resident_id else None
        name = mask_name(resident.display_name) if resident else "居民"
        return queue_message(
            channel=signup.notify_channel, recipient_kind=TO_GROUP, recipient_id=signup.notify_recipient,
            text=f"@{name} {text}", idempotency_key=key, community_id=event.community_id,
            chat_id=signup.notify_recipient, group_id=signup.notify_group_id, resident_id=signup.resident_id,
            meta={"event_id": event.id, "signup_id": signup.id})
    return queue_message(
        channel=signup.notify_channel, recipient_kind=TO_USER, recipient_id=signup.notify_recipient, text=text,
        idempotency_key=key, community_id=event.community_id, resident_id=signup.resident_id,
        meta={"event_id": event.id, "signup_id": signup.id})


# ---- reminders ------------------------------------------------------------------------------

def reminder_at(event: Event) -> datetime | None:
    minutes = current_app.config["EVENT_REMINDER_MINUTES"]
    if not minutes:
        return None
    return event.starts_at - timedelta(minutes=minutes)


def reminder_job_id(event_id: int) -> str:
    from app.jobs import job_id
    return job_id("event", "remind", event_id)


def schedule_reminder(event: Event) -> bool:
    """Schedule the reminder job (deterministic id: rescheduling replaces it)."""
    when = reminder_at(event)
    if when is None or event.status != EventStatus.PUBLISHED.value or when <= clock_now():
        unschedule_reminder(event)
        return False
    from workers.events import send_event_reminder
    send_event_reminder.enqueue_at(when, event.id, job_id=reminder_job_id(event.id))
    return True


def unschedule_reminder(event: Event) -> None:
    from app.extensions import redis_ext
    from app.jobs import cancel
    cancel(reminder_job_id(event.id), redis_ext.client)


def send_reminders(event_id: int) -> int:
    """Remind every confirmed sign-up once. Safe to run any number of times (sweep and job)."""
    event = db.session.get(Event, event_id)
    if event is None or event.status != EventStatus.PUBLISHED.value:
        return 0
    when = reminder_at(event)
    moment = clock_now()
    if when is None or moment < when - timedelta(minutes=1) or moment >= event.starts_at:
        return 0
    # Who signed up (or was promoted) after the reminder time already got every detail then.
    candidates = db.session.scalars(select(Signup).where(
        Signup.event_id == event.id, Signup.status == SignupStatus.CONFIRMED.value, Signup.reminded_at.is_(None),
        func.coalesce(Signup.promoted_at, Signup.created_at) <= when).order_by(Signup.id)).all()
    sent = 0
    day_word = _relative_day(event.starts_at)
    text = (f"【活动提醒】您报名的“{event.title}”将于{day_word}{local_time(event.starts_at)}开始。"
            + (f"\n地点：{event.place}" if event.place else "")
            + "\n请准时参加；如不能参加，请回复“取消报名”，把名额让给候补的居民。")
    stamp = to_local(event.starts_at).strftime("%Y%m%d%H%M")
    for signup in candidates:
        # Re-read under the row's latest state: a cancellation since the query must not be reminded.
        fresh = db.session.scalars(select(Signup).where(Signup.id == signup.id)
                                   .execution_options(populate_existing=True)).one()
        if fresh.status != SignupStatus.CONFIRMED.value or fresh.reminded_at is not None:
            continue
        fresh.reminded_at = moment
        message = notify(fresh, text, f"event:{event.id}:remind:{fresh.id}:{stamp}")
        db.session.commit()
        if message is not None:
            sent += 1
    return sent


def _relative_day(value: datetime) -> str:
    today = to_local(clock_now()).date()
    day = to_local(value).date()
    if day == today:
        return "今天"
    if day == today + timedelta(days=1):
        return f"明天（{local_day(value)}）"
    return local_day(value)


def remind_due() -> int:
    """Backstop for lost scheduled jobs: events whose reminder time has passed and that have not started."""
    minutes = current_app.config["EVENT_REMINDER_MINUTES"]
    if not minutes:
        return 0
    moment = clock_now()
    events = db.session.scalars(select(Event.id).where(
        Event.status == EventStatus.PUBLISHED.value, Event.starts_at > moment,
        Event.starts_at <= moment + timedelta(minutes=minutes))).all()
    return sum(send_reminders(event_id) for event_id in events)


def close_ended_events() -> int:
    """Mark confirmed sign-ups of ended events that never checked in as absent."""
    moment = clock_now()
    events = db.session.scalars(select(Event).where(
        Event.status == EventStatus.PUBLISHED.value, Event.closed_at.is_(None),
        Event.ends_at <= moment - ABSENT_AFTER)).all()
    for event in events:
        _lock(event.id)
        db.session.execute(update(Signup).where(
            Signup.event_id == event.id, Signup.status == SignupStatus.CONFIRMED.value)
            .values(status=SignupStatus.ABSENT.value).execution_options(synchronize_session=False))
        event.closed_at = moment
        db.session.commit()
    return len(events)


# ---- check-in and check-out -----------------------------------------------------------------

def _serializer():
    from itsdangerous import TimestampSigner, URLSafeTimedSerializer

    class ClockSigner(TimestampSigner):
        # Code age follows the app's clock, so tests (and the FrozenClock) control expiry.
        def get_timestamp(self) -> int:
            return int(clock_now().timestamp())

    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="linli.event-checkin",
                                  signer=ClockSigner)


def make_checkin_code(signup: Signup) -> dict[str, Any]:
    """A signed code for the mini-program to show as a QR code; each call has a fresh nonce."""
    if signup.status not in (SignupStatus.CONFIRMED.value, SignupStatus.ATTENDED.value):
        if signup.status == SignupStatus.WAITING.value:
            raise refusal("您还在候补名单上，转为正式报名后才有签到码", "waiting")
        raise refusal("这条报名已取消或已结束，没有签到码", "not_confirmed")
    event = db.session.get(Event, signup.event_id)
    if event.status != EventStatus.PUBLISHED.value:
        raise refusal("活动已取消", "cancelled")
    nonce = secrets.token_urlsafe(12)
    code = _serializer().dumps({"s": signup.id, "e": signup.event_id, "n": nonce})
    seconds = current_app.config["EVENT_CHECKIN_CODE_SECONDS"]
    return {"code": code, "nonce": nonce, "expires_at": clock_now() + timedelta(seconds=seconds),
            "action": "checkout" if signup.checked_in_at else "checkin"}


def read_checkin_code(code: str) -> tuple[int, int, str]:
    from itsdangerous import BadSignature, SignatureExpired

    if not isinstance(code, str) or not code or len(code) > 500:
        raise refusal("签到码无效", "invalid_code", 400, field="code")
    try:
        data = _serializer().loads(code, max_age=current_app.config["EVENT_CHECKIN_CODE_SECONDS"])
    except SignatureExpired:
        raise refusal("签到码已过期，请居民刷新小程序中的签到码", "code_expired", 400, field="code") from None
    except BadSignature:
        raise refusal("签到码无效", "invalid_code", 400, field="code") from None
    try:
        return int(data["s"]), int(data["e"]), str(data["n"])
    except (KeyError, TypeError, ValueError):
        raise refusal("签到码无效", "invalid_code", 400, field="code") from None


@dataclass
class CheckResult:
    signup: Signup
    checkin: CheckIn
    replay: bool = False
    hours_entry: Any = None


def _scan(event: Event, staff: Staff, kind: str, *, code: str | None, signup_id: int | None,
          nonce: str | None) -> CheckResult:
    if code:
        signup_id, code_event_id, nonce = read_checkin_code(code)
        method = "code"
        if code_event_id != event.id:
            raise refusal("这张签到码不是本活动的：该居民未报名本活动", "wrong_event")
    elif signup_id is not None:
        method = "list"
        nonce = (nonce or "").strip()[:64] or f"list-{signup_id}-{kind}"
    else:
        raise refusal("请扫描签到码或从名单中选择", "invalid", 400, field="code")

    used = db.session.scalars(select(CheckIn).where(CheckIn.nonce == nonce)).first()
    if used is not None:
        if used.signup_id == signup_id and used.kind == kind and used.event_id == event.id:
            return CheckResult(db.session.get(Signup, signup_id), used, replay=True)
        raise refusal("这张签到码已经用过了，请居民刷新签到码", "code_used")

    signup = db.session.get(Signup, signup_id)
    if signup is None or signup.event_id != event.id:
        raise refusal("该居民未报名本活动", "not_signed_up", 404)
    if event.status != EventStatus.PUBLISHED.value:
        raise refusal("活动已取消", "cancelled")
    moment = clock_now()
    if moment < event.starts_at - CHECKIN_OPENS_BEFORE:
        raise refusal(f"签到尚未开始（活动开始前{int(CHECKIN_OPENS_BEFORE.total_seconds() // 3600)}小时开放）",
                     "too_early")
    if moment > event.ends_at + CHECKIN_CLOSES_AFTER:
        raise refusal("活动已结束太久，不能再签到，请由管理员补录时长", "too_late")
    if signup.status == SignupStatus.WAITING.value:
        raise refusal("该居民在候补名单上，还没有获得名额", "waiting")
    if signup.status == SignupStatus.CANCELLED.value:
        raise refusal("该居民已取消报名", "cancelled_signup")
    existing = db.session.scalars(select(CheckIn).where(CheckIn.signup_id == signup.id, CheckIn.kind == kind)).first()
    if existing is not None:
        # Checked in (or out) already with another code: count once, say so.
        return CheckResult(signup, existing, replay=True)
    if kind == "out" and signup.checked_in_at is None:
        raise refusal("该居民还没有签到，不能签退", "not_checked_in")

    try:
        row = CheckIn(event_id=event.id, signup_id=signup.id, kind=kind, method=method, nonce=nonce, at=moment,
                      staff_id=staff.id)
        db.session.add(row)
        hours_entry = None
        if kind == "in":
            signup.status = SignupStatus.ATTENDED.value
            signup.checked_in_at = moment
        else:
            signup.checked_out_at = moment
            from app.handlers.volunteers import credit_checkin_hours
            hours_entry = credit_checkin_hours(event, signup, staff)
        db.session.flush()
        record("staff", staff.id, f"event.check{kind}", signup, community_id=event.community_id,
               detail={"event_id": event.id, "method": method})
        db.session.commit()
    except IntegrityError:
        # A concurrent scan of the same code (or the same person) won.
        db.session.rollback()
        existing = db.session.scalars(select(CheckIn).where(
            or_(CheckIn.nonce == nonce, (CheckIn.signup_id == signup_id) & (CheckIn.kind == kind)))).first()
        if existing is None:  # pragma: no cover
            raise
        if existing.signup_id == signup_id and existing.kind == kind:
            return CheckResult(db.session.get(Signup, signup_id), existing, replay=True)
        raise refusal("这张签到码已经用过了，请居民刷新签到码", "code_used") from None
    except BaseException:
        db.session.rollback()
        raise
    return CheckResult(signup, row, hours_entry=hours_entry)


def check_in(event: Event, staff: Staff, *, code: str | None = None, signup_id: int | None = None,
             nonce: str | None = None) -> CheckResult:
    return _scan(event, staff, "in", code=code, signup_id=signup_id, nonce=nonce)


def check_out(event: Event, staff: Staff, *, code: str | None = None, signup_id: int | None = None,
              nonce: str | None = None) -> CheckResult:
    return _scan(event, staff, "out", code=code, signup_id=signup_id, nonce=nonce)


# ---- views ----------------------------------------------------------------------------------

def event_view(event: Event, *, counter: EventCapacity | None = None, waiting: int | None = None,
               my_signup: Signup | None = None, for_staff: bool = False) -> dict[str, Any]:
    from app.localtime import iso

    counter = counter or _counter(event.id)
    moment = clock_now()
    view = {
        "id": event.id, "community_id": event.community_id, "series_id": event.series_id,
        "title": event.title, "kind": event.kind, "kind_label": EVENT_KIND_LABELS.get(event.kind, event.kind),
        "description": event.description, "place": event.place,
        "starts_at": iso(event.starts_at), "ends_at": iso(event.ends_at), "when": format_when(event),
        "recurrence": event.recurrence, "recurrence_text": recurrence_text(event),
        "capacity": event.capacity, "confirmed": counter.confirmed, "places_left": counter.places_left,
        "waiting": waiting if waiting is not None else waiting_count(event.id),
        "signup_deadline": iso(event.deadline), "audience": event.audience,
        "audience_label": AUDIENCE_LABELS.get(event.audience, event.audience),
        "volunteer_hours": event.volunteer_hours, "aliases": list(event.aliases or []),
        "project_id": event.project_id, "status": event.status,
        "signup_open": event.status == EventStatus.PUBLISHED.value and moment < event.deadline,
    }
    if for_staff:
        view.update({"published_at": iso(event.published_at), "announced_at": iso(event.announced_at),
                     "cancelled_at": iso(event.cancelled_at), "cancel_reason": event.cancel_reason,
                     "recurrence_until": iso(event.recurrence_until), "created_at": iso(event.created_at),
                     "created_by_staff_id": event.created_by_staff_id})
    else:
        view["my_signup"] = signup_view(my_signup) if my_signup is not None else None
    return view


def signup_view(signup: Signup, *, for_staff: bool = False, with_event: bool = False) -> dict[str, Any]:
    from app.localtime import iso

    view = {
        "id": signup.id, "event_id": signup.event_id, "status": signup.status,
        "waiting_position": waiting_rank(signup), "source": signup.source,
        "created_at": iso(signup.created_at), "confirmed_at": iso(signup.confirmed_at),
        "promoted_at": iso(signup.promoted_at), "cancelled_at": iso(signup.cancelled_at),
        "checked_in_at": iso(signup.checked_in_at), "checked_out_at": iso(signup.checked_out_at),
    }
    if for_staff:
        resident = db.session.get(Resident, signup.resident_id) if signup.resident_id else None
        member = db.session.get(PartyMember, signup.member_id) if signup.member_id else None
        view.update({"resident": resident.staff_view() if resident else None,
                     "member": {"id": member.id, "name": member.name, "kind": member.kind,
                                "phone": member.phone} if member else None,
                     "ticket": signup.position, "reminded_at": iso(signup.reminded_at)})
    if with_event:
        view["event"] = event_view(db.session.get(Event, signup.event_id))
    return view


def counts_for(event_ids: list[int]) -> tuple[dict[int, EventCapacity], dict[int, int]]:
    if not event_ids:
        return {}, {}
    counters = {c.event_id: c for c in db.session.scalars(select(EventCapacity).where(
        EventCapacity.event_id.in_(event_ids)).execution_options(populate_existing=True))}
    waiting = dict(db.session.execute(select(Signup.event_id, func.count()).where(
        Signup.event_id.in_(event_ids), Signup.status == SignupStatus.WAITING.value).group_by(Signup.event_id)).all())
    return counters, waiting


def upcoming_events(community_id: int, *, limit: int | None = None, horizon: timedelta | None = None) -> list[Event]:
    moment = clock_now()
    statement = select(Event).where(Event.community_id == community_id, Event.status == EventStatus.PUBLISHED.value,
                                    Event.ends_at > moment)
    if horizon is not None:
        statement = statement.where(Event.starts_at <= moment + horizon)
    statement = statement.order_by(Event.starts_at, Event.id)
    if limit:
        statement = statement.limit(limit)
    return list(db.session.scalars(statement))


# ---- the bot --------------------------------------------------------------------------------

def _term_class():
    try:
        from app.bot import EventTerm  # H3's type
        return EventTerm
    except ImportError:  # the bot package not installed yet: same fields, so the router can still use it
        from collections import namedtuple
        return namedtuple("EventTerm", "key names kind starts_at")


def event_key(event: Event) -> str:
    return f"event-{event.id}"


def _event_from_key(key: Any) -> Event | None:
    match = re.fullmatch(r"event-(\d+)", str(key or ""))
    return db.session.get(Event, int(match.group(1))) if match else None


def event_terms(community_id: int | None) -> list:
    """The bot's vocabulary: upcoming published events of the community with their names."""
    if community_id is None:
        return []
    term = _term_class()
    return [term(event_key(e), e.names(), e.kind, e.starts_at)
            for e in upcoming_events(community_id, horizon=BOT_HORIZON) if clock_now() < e.starts_at]


def _family(event: Event) -> tuple:
    """Occurrences of one series (or same-titled one-offs) are one "family" for the bot."""
    return ("series", event.series_id or event.id) if event.recurrence == Recurrence.WEEKLY.value else ("title", event.title)


def _text_matches(event: Event, text: str) -> int:
    """How strongly the text names the event: 3 title/alias, 1 kind word, 0 not at all."""
    for name in event.names():
        if len(name) >= 2 and name in text:
            return 3
    if any(word in text for word in KIND_WORDS.get(event.kind, ())):
        return 1
    return 0


_CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "日": 7, "天": 7, "七": 7}


def _date_hint(text: str, today: date) -> date | None:
    """A small fallback for dates the bot did not put in a slot: 今天/明天/后天/(下)周X/X月X日/X号."""
    if "今天" in text:
        return today
    if "明天" in text:
        return today + timedelta(days=1)
    if "后天" in text:
        return today + timedelta(days=2)
    match = re.search(r"(\d{1,2})月(\d{1,2})[日号]", text)
    if match:
        try:
            candidate = date(today.year, int(match.group(1)), int(match.group(2)))
        except ValueError:
            return None
        return candidate if candidate >= today else date(today.year + 1, candidate.month, candidate.day)
    match = re.search(r"(下下|下|本|这)?(?:周|星期|礼拜)([一二三四五六日天])", text)
    if match:
        weekday = _CN_DIGITS[match.group(2)] - 1
        if match.group(1) in ("下", "下下"):
            # 下周二: the Tuesday of next calendar week (weeks start on Monday).
            monday = today - timedelta(days=today.weekday()) + timedelta(weeks=1 if match.group(1) == "下" else 2)
            return monday + timedelta(days=weekday)
        return today + timedelta(days=(weekday - today.weekday()) % 7)
    match = re.search(r"(\d{1,2})[号日]", text)
    if match:
        day = int(match.group(1))
        for months_ahead in range(0, 2):
            year, month = today.year, today.month + months_ahead
            if month > 12:
                year, month = year + 1, month - 12
            try:
                candidate = date(year, month, day)
            except ValueError:
                continue
            if candidate >= today:
                return candidate
    return None


def _period_of(event: Event) -> str:
    hour = to_local(event.starts_at).hour
    return "morning" if hour < 12 else "afternoon" if hour < 18 else "evening"


def _period_hint(text: str) -> str | None:
    if any(w in text for w in ("上午", "早上", "早晨")):
        return "morning"
    if "下午" in text:
        return "afternoon"
    if any(w in text for w in ("晚上", "傍晚", "夜里")):
        return "evening"
    return None


_QUESTION = re.compile(r"(吗|么|[?？]|有没有|能不能|可不可以|还能|还有|多少|几个|剩)")


def _is_question(text: str) -> bool:
    return bool(_QUESTION.search(text)) and not re.search(r"(报个?名吧|帮我报|给我报|我要报|我报)", text)


@dataclass
class Resolution:
    events: list[Event]         # candidates, earliest first
    date: date | None = None    # the date the resident asked for
    named: bool = False         # the resident named an event (not just "报名")
    named_events: list[Event] = field(default_factory=list)  # what the name matched, before the date filter


def resolve(ctx) -> Resolution:
    """Which event the resident means, from the bot's event/date/period slots and the text."""
    text = ctx.inbound.text or ""
    slots = dict(getattr(ctx.understanding, "slots", None) or {})
    community_id = ctx.community_id or (ctx.resident.community_id if ctx.resident else None)
    if community_id is None:
        return Resolution([])
    pool = [e for e in upcoming_events(community_id, horizon=BOT_HORIZON) if clock_now() < e.starts_at]
    named = False
    chosen = _event_from_key(slots.get("event"))
    if chosen is not None and chosen.community_id == community_id:
        family = _family(chosen)
        matches = [e for e in pool if _family(e) == family]
        named = True
    else:
        scored = [(e, _text_matches(e, text)) for e in pool]
        best = max((score for _, score in scored), default=0)
        matches = [e for e, score in scored if score and score == best]
        named = best > 0
    wanted_date = None
    if slots.get("date"):
        try:
            wanted_date = date.fromisoformat(str(slots["date"])[:10])
        except ValueError:
            wanted_date = None
    if wanted_date is None:
        wanted_date = _date_hint(text, to_local(clock_now()).date())
    named_events = sorted(matches, key=lambda e: (e.starts_at, e.id)) if named else []
    if wanted_date is not None:
        matches = [e for e in (matches if named else pool) if to_local(e.starts_at).date() == wanted_date]
    period = slots.get("period") or _period_hint(text)
    if period and len(matches) > 1:
        narrowed = [e for e in matches if _period_of(e) == period]
        matches = narrowed or matches
    return Resolution(sorted(matches, key=lambda e: (e.starts_at, e.id)), wanted_date, named, named_events)


def _option_line(index: int, event: Event, action: str = "signup", mine: Signup | None = None) -> str:
    if action == "cancel":
        return f"{index}. {event.title} {format_when(event)}"
    if mine is not None and mine.status in ACTIVE_SIGNUP:
        state = "已报名" if mine.status == SignupStatus.CONFIRMED.value else f"候补第{waiting_rank(mine)}位"
        return f"{index}. {event.title} {format_when(event)}（您{state}）"
    counter = _counter(event.id)
    left = "不限名额" if counter.places_left is None else (f"剩{counter.places_left}个名额" if counter.places_left
                                                        else "已满可候补")
    return f"{index}. {event.title} {format_when(event)}（{left}）"


def _one_per_family(events: list[Event]) -> list[Event]:
    """The earliest of each family, so a weekly event is offered once, not once per week."""
    seen: set = set()
    kept = []
    for event in events:
        if _family(event) not in seen:
            seen.add(_family(event))
            kept.append(event)
    return kept


def _eligible(event: Event, resident: Resident) -> bool:
    """Whether the resident is in the event's audience (lists offer only what they may join)."""
    try:
        _check_audience(event, resident, membership(event.community_id, resident.id))
    except EventError:
        return False
    return True


def _options_reply(ctx, events: list[Event], intro: str, action: str):
    mine: dict[int, Signup] = {}
    if action == "signup":
        events = _one_per_family([e for e in events if _eligible(e, ctx.resident)]) or _one_per_family(events)
        mine = {s.event_id: s for s in active_signups(ctx.resident.id)}
    events = events[:6]
    lines = [intro] + [_option_line(i, e, action, mine.get(e.id)) for i, e in enumerate(events, 1)]
    lines.append("请回复序号" + ("报名" if action == "signup" else "取消") + "，回复“算了”退出。")
    ctx.start_flow("event_signup", step="choose", action=action, options=[e.id for e in events], tries=0)
    return ctx.reply("\n".join(lines), "events.choose", event_ids=[e.id for e in events])


def _open_for_signup(event: Event) -> bool:
    return event.status == EventStatus.PUBLISHED.value and clock_now() < event.deadline


def handle_signup(ctx):
    """Intent event_signup: "周六义诊报个名", "四点半课堂还能报吗"."""
    if ctx.resident is None:
        return ctx.reply("工作人员请在小程序“活动管理”中为居民登记报名。", "events.staff")
    text = ctx.inbound.text or ""
    if not (ctx.community_id or ctx.resident.community_id):
        return ctx.reply("还不知道您住在哪个社区。请在小程序里选择所在社区后再报名，或者在本社区的居民群里说要报名的活动。",
                         "events.no_community")
    found = resolve(ctx)
    if not found.events:
        community_id = ctx.community_id or ctx.resident.community_id
        upcoming = [e for e in upcoming_events(community_id, horizon=BOT_HORIZON)
                    if _open_for_signup(e)] if community_id else []
        day = f"{found.date.month}月{found.date.day}日" if found.date else ""
        nearest = [e for e in found.named_events if _open_for_signup(e)]
        if found.date is not None and nearest:
            ctx.start_flow("event_signup", step="confirm", event_id=nearest[0].id, tries=0)
            state = "已经开始了" if _began_on(nearest[0], found.date) else "没有安排"
            return ctx.reply(f"{day}的“{nearest[0].title}”{state}。最近一次是{format_when(nearest[0])}，"
                             "要报名这一次吗？回复“好”报名。", "events.other_date", event_id=nearest[0].id)
        if found.date is not None and upcoming:
            return _options_reply(ctx, upcoming, f"{day}没有可报名的活动。近期活动：", "signup")
        if upcoming:
            intro = "没有找到您说的活动。近期可以报名的活动：" if _mentions_something(text) else "近期可以报名的活动："
            return _options_reply(ctx, upcoming, intro, "signup")
        return ctx.reply("近期没有可以报名的社区活动，有新活动会在群里通知大家。", "events.none")

    families = {_family(e) for e in found.events}
    open_events = [e for e in found.events if _open_for_signup(e)]
    if len(families) > 1 and len(found.events) > 1:
        return _options_reply(ctx, open_events or found.events, "您想报名哪一个活动？", "signup")
    if not open_events:
        closed = found.events[0]
        try:
            _check_open(closed)
        except EventError as exc:
            nxt = _next_open_in_family(closed)
            if nxt is not None:
                ctx.start_flow("event_signup", step="confirm", event_id=nxt.id, tries=0)
                return ctx.reply(f"{exc.message}。下一次是{format_when(nxt)}，要报名下一次吗？回复“好”报名。",
                                 "events.closed", event_id=closed.id, next_event_id=nxt.id)
            return ctx.reply(exc.message, "events.closed", event_id=closed.id)
    event = open_events[0]
    if _is_question(text):
        return _availability_reply(ctx, event)
    return _do_signup(ctx, event, waitlist=False)


def _began_on(event: Event, day: date) -> bool:
    """Whether an occurrence of the event's family on ``day`` has already started."""
    same_day = db.session.scalars(select(Event).where(
        Event.community_id == event.community_id, Event.status == EventStatus.PUBLISHED.value,
        Event.starts_at <= clock_now(), Event.starts_at > clock_now() - timedelta(days=2))).all()
    return any(_family(e) == _family(event) and to_local(e.starts_at).date() == day for e in same_day)


def _mentions_something(text: str) -> bool:
    stripped = re.sub(r"(我|想|要|报个?名|参加|活动|一下|帮|给|吧|呢|啊|了|[，。！!,.\s])", "", text)
    return len(stripped) >= 2


def _next_open_in_family(event: Event) -> Event | None:
    for candidate in upcoming_events(event.community_id, horizon=BOT_HORIZON):
        if candidate.id != event.id and _family(candidate) == _family(event) and _open_for_signup(candidate):
            return candidate
    return None


def _availability_reply(ctx, event: Event):
    counter = _counter(event.id)
    mine = find_signup(event.id, ctx.resident.id, None)
    if mine is not None and mine.status in ACTIVE_SIGNUP:
        if mine.status == SignupStatus.WAITING.value:
            return ctx.reply(f"您已在“{event.title}”（{format_when(event)}）的候补名单上，目前第{waiting_rank(mine)}位。",
                             "events.availability", event_id=event.id)
        return ctx.reply(f"您已报名“{event.title}”（{format_when(event)}），届时请准时参加。",
                         "events.availability", event_id=event.id)
    head = f"“{event.title}”（{format_when(event)}"
    head += f"，{event.place}）" if event.place else "）"
    if counter.places_left is None:
        state = "不限名额"
    elif counter.places_left > 0:
        state = f"还有{counter.places_left}个名额"
    else:
        waiting = waiting_count(event.id)
        state = f"名额已满，目前{waiting}人候补" if waiting else "名额已满，可以排队候补"
    ctx.start_flow("event_signup", step="confirm", event_id=event.id, tries=0)
    action = "回复“好”排队候补" if counter.places_left == 0 else "回复“好”即可报名"
    return ctx.reply(f"{head}{state}，报名截止{format_deadline(event)}。{action}。", "events.availability",
                     event_id=event.id, places_left=counter.places_left)


def _do_signup(ctx, event: Event, *, waitlist: bool):
    try:
        result = signup_for(event.id, resident=ctx.resident, idempotency_key=f"chat:{ctx.message.id}",
                            waitlist=waitlist, source="chat", notify_target=notice_target_for_chat(ctx))
    except EventError as exc:
        if exc.code == "full":
            ctx.start_flow("event_signup", step="waitlist", event_id=event.id, tries=0)
            waiting = exc.extra.get("waiting") or 0
            queue = f"目前已有{waiting}人候补，" if waiting else ""
            return ctx.reply(f"“{event.title}”（{format_when(event)}）名额已满，{queue}需要排队候补吗？"
                             "回复“候补”登记，有人取消时会自动为您转为正式报名并通知您。",
                             "events.full", event_id=event.id)
        if exc.code in ("deadline_passed", "started", "ended"):
            nxt = _next_open_in_family(event)
            if nxt is not None:
                ctx.start_flow("event_signup", step="confirm", event_id=nxt.id, tries=0)
                return ctx.reply(f"{exc.message}。下一次是{format_when(nxt)}，要报名下一次吗？回复“好”报名。",
                                 "events.closed", event_id=event.id, next_event_id=nxt.id)
        ctx.end_flow()
        return ctx.reply(exc.message, "events.refused", event_id=event.id, code=exc.code)
    ctx.end_flow()
    signup, event = result.signup, result.event
    if signup.status == SignupStatus.WAITING.value:
        return ctx.reply(f"已为您登记“{event.title}”（{format_when(event)}）的候补，目前排第{result.rank}位。"
                         "有人取消时会自动为您转为正式报名并通知您。", "events.waiting",
                         event_id=event.id, signup_id=signup.id, position=result.rank)
    lines = [f"报名成功！{event.title}", f"时间：{format_when(event)}"]
    if event.place:
        lines.append(f"地点：{event.place}")
    lines.append("请准时参加，签到时在小程序“我的活动”出示签到码。如需取消，回复“取消报名”。")
    return ctx.reply("\n".join(lines), "events.signup", event_id=event.id, signup_id=signup.id)


_NUMBER = re.compile(r"^\s*(?:第)?([0-9]{1,2}|[一二三四五六七八九十①②③④⑤⑥])(?:个|号|项)?\s*[。.!！]?\s*$")
_CIRCLED = "①②③④⑤⑥"


def _choice_number(text: str) -> int | None:
    match = _NUMBER.match(text or "")
    if not match:
        return None
    token = match.group(1)
    if token.isdigit():
        return int(token)
    if token in _CIRCLED:
        return _CIRCLED.index(token) + 1
    return {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}[token]


def _is_yes(text: str) -> bool:
    text = (text or "").strip()
    if any(word in text for word in NO_WORDS):
        return False
    return any(word in text for word in YES_WORDS) or text in ("1", "１")


def _is_no(text: str) -> bool:
    return any(word in (text or "") for word in NO_WORDS)


def continue_flow(ctx):
    """The resident's answer to a question we asked (which event / sign up? / join the waiting list?)."""
    state = ctx.state or {}
    text = (ctx.inbound.text or "").strip()
    step = state.get("step")
    if ctx.resident is None:
        ctx.end_flow()
        return ctx.reply("工作人员请在小程序中操作。", "events.staff")
    if _is_no(text) and _choice_number(text) is None and not (step == "cancel_confirm" and "取消" in text
                                                                and not re.search(r"(不|别|算了)", text)):
        ctx.end_flow()
        if step == "cancel_confirm":
            return ctx.reply("好的，您的报名保留不变。", "events.flow_exit")
        return ctx.reply("好的，已取消。需要时随时找我。", "events.flow_exit")
    if step == "choose":
        options = [i for i in state.get("options", [])]
        number = _choice_number(text)
        chosen = None
        if number is not None and 1 <= number <= len(options):
            chosen = db.session.get(Event, options[number - 1])
        else:
            # They may answer with a name or a date instead of a number.
            events = [db.session.get(Event, i) for i in options]
            events = [e for e in events if e is not None]
            hint = _date_hint(text, to_local(clock_now()).date())
            named = [e for e in events if _text_matches(e, text) == 3 or
                     (hint is not None and to_local(e.starts_at).date() == hint)]
            if len(named) == 1:
                chosen = named[0]
        if chosen is None:
            return _retry(ctx, state, f"请回复序号（1–{len(options)}），或回复“算了”退出。")
        if state.get("action") == "cancel":
            signup = find_signup(chosen.id, ctx.resident.id, None)
            ctx.end_flow()
            if signup is None:
                return ctx.reply("没有找到这条报名。", "events.cancel_missing")
            return _do_cancel(ctx, signup)
        return _do_signup(ctx, chosen, waitlist=False)
    if step == "cancel_confirm":
        signup = db.session.get(Signup, state.get("signup_id") or 0)
        if signup is None or signup.resident_id != ctx.resident.id:
            ctx.end_flow()
            return ctx.reply("没有找到这条报名。", "events.cancel_missing")
        if _is_yes(text) or re.search(r"(确认|确定|取消)", text):
            ctx.end_flow()
            return _do_cancel(ctx, signup)
        return _retry(ctx, state, "确认取消请回复“是”，不取消请回复“算了”。")
    if step in ("confirm", "waitlist"):
        event = db.session.get(Event, state.get("event_id") or 0)
        if event is None:
            ctx.end_flow()
            return ctx.reply("这个活动已经不存在了。", "events.flow_exit")
        if _is_yes(text):
            return _do_signup(ctx, event, waitlist=step == "waitlist" or places_left(event) == 0)
        return _retry(ctx, state, "要报名请回复“好”，不需要请回复“算了”。" if step == "confirm"
                      else "要排队候补请回复“候补”，不需要请回复“算了”。")
    ctx.end_flow()
    return ctx.reply("好的。需要报名活动时，直接说活动名称就可以，比如“周二义诊报名”。", "events.flow_exit")


def _retry(ctx, state: dict, prompt: str):
    tries = int(state.get("tries") or 0) + 1
    if tries >= 3:
        ctx.end_flow()
        return ctx.reply("没能看懂您的回复，已退出报名。需要时请再说一次活动名称。", "events.flow_exit")
    data = {k: v for k, v in state.items() if k not in ("flow", "tries")}
    ctx.start_flow("event_signup", tries=tries, **data)
    return ctx.reply(prompt, "events.retry")


def handle_cancel(ctx):
    """"取消报名": cancel the resident's sign-up (asks which when there are several). None: nothing of mine."""
    if ctx.resident is None:
        return None
    text = ctx.inbound.text or ""
    signups = [s for s in active_signups(ctx.resident.id) if clock_now() < db.session.get(Event, s.event_id).starts_at]
    about_events = bool(re.search(r"(报名|活动|候补)", text))
    if not signups:
        if about_events:
            return ctx.reply("您目前没有可以取消的活动报名。", "events.cancel_none")
        return None
    events = {s.event_id: db.session.get(Event, s.event_id) for s in signups}
    slots = dict(getattr(ctx.understanding, "slots", None) or {})
    chosen_event = _event_from_key(slots.get("event"))
    matching = signups
    if chosen_event is not None:
        matching = [s for s in signups if _family(events[s.event_id]) == _family(chosen_event)] or signups
    else:
        named = [s for s in signups if _text_matches(events[s.event_id], text)]
        if named:
            matching = named
    hint = None
    if slots.get("date"):
        try:
            hint = date.fromisoformat(str(slots["date"])[:10])
        except ValueError:
            hint = None
    hint = hint or _date_hint(text, to_local(clock_now()).date())
    if hint is not None:
        matching = [s for s in matching if to_local(events[s.event_id].starts_at).date() == hint] or matching
    if len(matching) == 1:
        signup = matching[0]
        if about_events or chosen_event is not None or _text_matches(events[signup.event_id], text):
            return _do_cancel(ctx, signup)
        # A bare "不用了/取消" may not be about the sign-up at all: confirm before giving the place away.
        event = events[signup.event_id]
        ctx.start_flow("event_signup", step="cancel_confirm", signup_id=signup.id, tries=0)
        return ctx.reply(f"您是要取消“{event.title}”（{format_when(event)}）的报名吗？回复“是”确认取消。",
                         "events.cancel_confirm", event_id=event.id, signup_id=signup.id)
    return _options_reply(ctx, [events[s.event_id] for s in matching], "您报名了以下活动，要取消哪一个？", "cancel")


def _do_cancel(ctx, signup: Signup):
    try:
        result = cancel_signup(signup.id, actor_type="resident", actor_id=ctx.resident.id)
    except EventError as exc:
        return ctx.reply(exc.message, "events.cancel_refused", code=exc.code)
    event = result.event
    was = "候补" if signup.status == SignupStatus.WAITING.value and not result.promoted else "报名"
    return ctx.reply(f"已为您取消“{event.title}”（{format_when(event)}）的{was}。欢迎下次参加！",
                     "events.cancel", event_id=event.id, signup_id=signup.id,
                     promoted=[p.id for p in result.promoted])


def progress_lines(ctx) -> list[str]:
    """The resident's sign-ups and waiting positions, for "我报的活动怎么样了"."""
    if ctx.resident is None:
        return []
    lines = []
    for signup in active_signups(ctx.resident.id):
        event = db.session.get(Event, signup.event_id)
        if signup.status == SignupStatus.WAITING.value:
            state = f"候补第{waiting_rank(signup)}位"
        else:
            state = "已报名"
        lines.append(f"活动：{event.title} {format_when(event)} — {state}")
    return lines


# ---- demo data ------------------------------------------------------------------------------

DEMO_PROJECTS = [
    ("健康义诊服务", "协助每周二上午的免费义诊：引导、登记、量血压。"),
    ("四点半课堂", "放学后为双职工家庭的孩子辅导作业、开展兴趣活动。"),
    ("环境整治", "楼道清理、垃圾分类引导、小区环境整治。"),
    ("党群议事", "参与党群议事会（四方五步议事），收集居民意见。"),
]
DEMO_MEMBERS = [
    # name, phone, work unit, party organisation, kind, projects, demo resident phone (links the member to a resident)
    ("周晓燕", "13900001003", "天宁区实验小学", "天宁区实验小学党总支第二支部", "party", ["四点半课堂"], "13900001003"),
    ("沈立新", "13900002001", "天宁区人民医院", "天宁区人民医院党委内科支部", "party", ["健康义诊服务"], None),
    ("韩卫国", "13900002002", "国网常州供电公司", "国网常州供电公司天宁供电中心党支部", "party", ["环境整治"], None),
    ("顾佳怡", "13900002003", "常州市税务局天宁分局", "天宁分局机关第一党支部", "party", ["党群议事", "环境整治"], None),
    ("吴建平", "13900001004", None, None, "volunteer", ["环境整治"], "13900001004"),
]


def _next_weekday(after: datetime, weekday: int, hour: int, minute: int) -> datetime:
    """The first local ``weekday`` (0 = Monday) at hour:minute strictly after ``after``."""
    local = to_local(after)
    day = local.date() + timedelta(days=(weekday - local.weekday()) % 7)
    moment = datetime(day.year, day.month, day.day, hour, minute, tzinfo=local_zone())
    return moment if moment > after else moment + timedelta(weeks=1)


def seed_demo_events(community: Community) -> list[str]:
    """Demo events and members for `linli seed-demo` (runs inside the demo's transaction: flushes only).

    Idempotent: an event is matched by title among the community's not-yet-ended series heads and
    one-offs, a project by name, a member by phone.
    """
    moment = clock_now()
    projects: dict[str, VolunteerProject] = {}
    made = {"projects": 0, "events": 0, "members": 0}
    for name, description in DEMO_PROJECTS:
        project = db.session.scalars(select(VolunteerProject).where(
            VolunteerProject.community_id == community.id, VolunteerProject.name == name)).first()
        if project is None:
            project = VolunteerProject(community_id=community.id, name=name, description=description, active=True)
            db.session.add(project)
            db.session.flush()
            made["projects"] += 1
        projects[name] = project

    def hours(h: int, m: int = 0) -> timedelta:
        return timedelta(hours=h, minutes=m)

    tuesday = _next_weekday(moment, 1, 8, 30)
    wednesday = _next_weekday(moment, 2, 16, 30)
    thursday = _next_weekday(moment, 3, 19, 0)
    saturday = _next_weekday(moment, 5, 9, 0)
    friday = _next_weekday(moment, 4, 14, 30)
    specs = [
        dict(title="每周二上午义诊", kind=EventKind.HEALTH_CHECK.value, starts_at=tuesday, ends_at=tuesday + hours(2, 30),
             place="党群服务中心一楼 社区卫生服务站", capacity=30, recurrence=Recurrence.WEEKLY.value,
             signup_deadline=tuesday - hours(14, 30), audience=Audience.EVERYONE.value, volunteer_minutes=0,
             aliases=["义诊", "免费义诊", "健康义诊", "周二义诊", "量血压"], project="健康义诊服务",
             description="天宁区人民医院医生坐诊：量血压、测血糖、慢病用药咨询。请带上医保卡和近期病历。"),
        dict(title="四点半课堂", kind=EventKind.CLASS.value, starts_at=wednesday, ends_at=wednesday + hours(1, 30),
             place="党群服务中心二楼 四点半课堂教室", capacity=20, recurrence=Recurrence.WEEKLY.value,
             signup_deadline=wednesday - hours(4, 30), audience=Audience.EVERYONE.value, volunteer_minutes=0,
             aliases=["430课堂", "四点半", "作业辅导", "课后托管"], project="四点半课堂",
             description="面向小学生：党员志愿者辅导作业、开展阅读和手工活动。家长接送请准时。"),
        dict(title="党群议事会：加装电梯与停车位规划", kind=EventKind.MEETING.value, starts_at=thursday,
             ends_at=thursday + hours(1, 30), place="党群服务中心三楼 议事厅", capacity=40,
             audience=Audience.EVERYONE.value, volunteer_minutes=0, aliases=["党群议事会", "议事会", "四方五步议事"],
             project="党群议事",
             description="按“四方五步”议事：社区党组织、居委会、业委会、物业共同听取居民意见，议定加装电梯和停车位方案。"),
        dict(title="楼道环境整治志愿服务", kind=EventKind.VOLUNTEER.value, starts_at=saturday,
             ends_at=saturday + hours(3), place="富强新村1–9栋（在1栋门口集合）", capacity=15,
             audience=Audience.VOLUNTEERS.value, volunteer_minutes=180,
             aliases=["大扫除", "环境整治", "清理楼道", "志愿服务"], project="环境整治",
             description="清理楼道堆物、张贴垃圾分类提示。工具由社区提供，请穿方便劳动的衣服。"),
        dict(title="主题党日：走访独居老人", kind=EventKind.PARTY_DAY.value, starts_at=friday,
             ends_at=friday + hours(2), place="党群服务中心一楼集合", capacity=12,
             audience=Audience.PARTY_MEMBERS.value, volunteer_minutes=120, aliases=["主题党日", "走访老人"],
             project="党群议事", description="报到党员两人一组走访独居老人，了解需求并登记微心愿。"),
    ]
    for spec in specs:
        project = projects[spec.pop("project")]
        existing = db.session.scalars(select(Event).where(
            Event.community_id == community.id, Event.title == spec["title"], Event.series_id.is_(None),
            Event.status != EventStatus.CANCELLED.value,
            or_(Event.recurrence == Recurrence.WEEKLY.value, Event.ends_at > moment))).first()
        if existing is not None:
            if existing.is_series_head:
                made["events"] += len(materialise_series(existing, commit=False))
            continue
        event = _new_event(community_id=community.id, project_id=project.id, status=EventStatus.PUBLISHED.value,
                           published_at=moment, **spec)
        db.session.flush()
        made["events"] += 1
        if event.is_series_head:
            made["events"] += len(materialise_series(event, commit=False))

    year = to_local(moment).year
    from app.models.events import MemberProject
    for name, phone, work_unit, party_org, kind, project_names, resident_phone in DEMO_MEMBERS:
        member = db.session.scalars(select(PartyMember).where(
            PartyMember.community_id == community.id, PartyMember.phone == phone)).first()
        if member is None:
            resident = None
            if resident_phone:
                resident = db.session.scalars(select(Resident).where(
                    Resident.community_id == community.id, Resident.phone == resident_phone)).first()
            member = PartyMember(community_id=community.id, resident_id=resident.id if resident else None, kind=kind,
                                 name=name, phone=phone, work_unit=work_unit, party_org=party_org,
                                 registered_at=moment, active=True)
            db.session.add(member)
            db.session.flush()
            made["members"] += 1
        for project_name in project_names:
            project = projects[project_name]
            if db.session.scalars(select(MemberProject).where(
                    MemberProject.member_id == member.id, MemberProject.project_id == project.id,
                    MemberProject.year == year)).first() is None:
                db.session.add(MemberProject(member_id=member.id, project_id=project.id, year=year, joined_at=moment))
    db.session.flush()
    return [f"活动 events: 新建 {made['events']}（含每周二上午义诊、四点半课堂等每周活动的近期场次）；"
            f"志愿服务项目 projects: 新建 {made['projects']}；报到党员/志愿者 members: 新建 {made['members']}"]


CHAT = ChatFeature(
    intents={"event_signup": handle_signup},
    flows={"event_signup": continue_flow},
    progress=progress_lines,
    cancel=handle_cancel,
    vocabulary={"events": event_terms},
)
