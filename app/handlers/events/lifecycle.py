"""An event's life: create (a draft, or published at once), change, publish, cancel.

Every change that touches sign-ups takes the event's lock first (see capacity.py):
a raised capacity promotes the waiting list, a new time resets the reminders, a
cancellation tells everyone signed up. A series head passes its changes on to its
future occurrences (series.py).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable

from sqlalchemy import select, update

from app.clock import now as clock_now
from app.extensions import db
from app.handlers.audit import record
from app.handlers.events import capacity
from app.handlers.events.errors import refusal
from app.handlers.events.notices import notify, notify_promoted
from app.handlers.events.reminders import schedule_reminder, unschedule_reminder
from app.handlers.events.series import future_occurrences, materialise_series
from app.handlers.events.text import format_when
from app.models import Staff
from app.models.events import ACTIVE_SIGNUP, Audience, Event, EventKind, EventStatus, Recurrence, Signup
from app.models.volunteers import VolunteerProject

EDITABLE_FIELDS = ("title", "kind", "description", "place", "starts_at", "ends_at", "capacity", "signup_deadline",
                   "audience", "volunteer_minutes", "aliases", "project_id", "recurrence_until")
# Fields an edit of a series head passes on to its future occurrences (times stay per occurrence).
SERIES_FIELDS = ("title", "kind", "description", "place", "capacity", "audience", "volunteer_minutes", "aliases",
                 "project_id")


def _actor(staff: Staff | None) -> tuple[str, int | None]:
    return ("staff", staff.id) if staff else ("system", None)


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


def _check_names(values: dict[str, Any]) -> None:
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


def _check_times(values: dict[str, Any], *, creating: bool) -> None:
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


def _check_amounts(values: dict[str, Any]) -> None:
    places = values.get("capacity")
    if places is not None and (isinstance(places, bool) or not isinstance(places, int) or places < 0):
        raise refusal("名额必须是不小于0的整数（不限名额请留空）", "invalid", 400, field="capacity")
    minutes = values.get("volunteer_minutes") or 0
    if minutes < 0 or minutes > 24 * 60:
        raise refusal("志愿时长必须在0–24小时之间", "invalid", 400, field="volunteer_hours")
    values["volunteer_minutes"] = int(minutes)
    values["aliases"] = _clean_aliases(values.get("aliases"))


def _check_repeat(values: dict[str, Any], community_id: int) -> None:
    if values.get("recurrence", Recurrence.NONE.value) not in {r.value for r in Recurrence}:
        raise refusal("重复方式无效，可选：none, weekly", "invalid", 400, field="recurrence")
    until = values.get("recurrence_until")
    if until is not None and until <= values["starts_at"]:
        raise refusal("重复截止时间必须晚于首次活动时间", "invalid", 400, field="recurrence_until")
    project_id = values.get("project_id")
    if project_id is not None:
        project = db.session.get(VolunteerProject, project_id)
        if project is None or project.community_id != community_id:
            raise refusal("没有找到这个志愿服务项目", "not_found", 404, field="project_id")


def _validate(values: dict[str, Any], community_id: int, *, creating: bool) -> None:
    """Check (and tidy) an event's values in the order the form reads; refuses the first fault."""
    _check_names(values)
    _check_times(values, creating=creating)
    _check_amounts(values)
    _check_repeat(values, community_id)


def _insert_draft(community_id: int, staff: Staff | None, values: dict[str, Any]) -> Event:
    event = capacity.new_event(community_id=community_id, status=EventStatus.DRAFT.value,
                               created_by_staff_id=staff.id if staff else None, **values)
    db.session.flush()
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
    event = _insert_draft(community_id, staff, values)
    record(*_actor(staff), "event.create", event, community_id=community_id,
           detail={"title": event.title, "kind": event.kind})
    db.session.commit()
    if event.is_series_head:
        materialise_series(event)
    if publish:
        publish_event(event, staff)
    return event


def _check_change(event: Event, changes: dict[str, Any]) -> bool:
    """Refuse what may not change; True when the event has ended."""
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
    return ended


def _apply_change(event: Event, values: dict[str, Any], ended: bool) -> tuple[bool, list[Signup]]:
    """Write the values under the lock; returns (the time changed, the sign-ups promoted)."""
    counter = capacity.counter(event.id)
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
    promoted = capacity.promote_waiting(event)
    if time_changed:
        # A new time deserves a new reminder, even for those already reminded of the old one.
        db.session.execute(update(Signup).where(Signup.event_id == event.id).values(reminded_at=None)
                           .execution_options(synchronize_session=False))
    return time_changed, promoted


def update_event(event: Event, staff: Staff | None, changes: dict[str, Any], *, apply_to_series: bool = False) -> Event:
    """Change an event. Capacity changes go through the counter (a raise promotes the waiting list)."""
    ended = _check_change(event, changes)
    values = {name: getattr(event, name) for name in EDITABLE_FIELDS}
    values["recurrence"] = event.recurrence
    values.update(changes)
    _validate(values, event.community_id, creating=False)
    if "starts_at" in changes and changes["starts_at"] <= clock_now() and changes["starts_at"] != event.starts_at:
        raise refusal("不能把活动改到过去的时间", "invalid", 400, field="starts_at")
    db.session.commit()
    capacity.lock(event.id)
    event = capacity.reload_event(event.id)
    time_changed, promoted = _apply_change(event, values, ended)
    record(*_actor(staff), "event.update", event, community_id=event.community_id,
           detail={"fields": sorted(changes)})
    notify_promoted(event, promoted)  # commits with the first notice (see signups.cancel_signup)
    db.session.commit()
    if time_changed and event.status == EventStatus.PUBLISHED.value:
        schedule_reminder(event)
    if apply_to_series and event.is_series_head:
        series_changes = {k: v for k, v in changes.items() if k in SERIES_FIELDS}
        if series_changes:
            for occurrence in future_occurrences(event):
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
        record(*_actor(staff), "event.publish", event, community_id=event.community_id)
        db.session.commit()
        schedule_reminder(event)
    if event.is_series_head:
        materialise_series(event)
        for occurrence in future_occurrences(event):
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
    capacity.lock(event.id)
    event = capacity.reload_event(event.id)
    event.status = EventStatus.CANCELLED.value
    event.cancelled_at = clock_now()
    event.cancel_reason = (reason or "").strip()[:200] or None
    affected = db.session.scalars(select(Signup).where(
        Signup.event_id == event.id, Signup.status.in_(ACTIVE_SIGNUP))).all()
    record(*_actor(staff), "event.cancel", event, community_id=event.community_id,
           detail={"reason": event.cancel_reason, "signups": len(affected)})
    db.session.commit()
    unschedule_reminder(event)
    if clock_now() < event.starts_at:
        text = (f"【活动取消】很抱歉，您报名的“{event.title}”（{format_when(event)}）已取消。"
                + (f"原因：{event.cancel_reason}。" if event.cancel_reason else "")
                + "给您带来不便，敬请谅解。")
        for signup in affected:
            notify(signup, text, f"event:{event.id}:cancelled:{signup.id}")
    if event.is_series_head:
        for occurrence in future_occurrences(event):
            cancel_event(occurrence, staff, reason)
    return event
