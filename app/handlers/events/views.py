"""Events and sign-ups as JSON for the API (times in local ISO 8601), and the upcoming-events query."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from app.clock import now as clock_now
from app.extensions import db
from app.handlers.events import capacity
from app.handlers.events.text import format_when, recurrence_text
from app.localtime import iso
from app.models import Resident
from app.models.events import AUDIENCE_LABELS, EVENT_KIND_LABELS, Event, EventCapacity, EventStatus, Signup
from app.models.volunteers import PartyMember


def event_view(event: Event, *, counter: EventCapacity | None = None, waiting: int | None = None,
               my_signup: Signup | None = None, for_staff: bool = False) -> dict[str, Any]:
    counter = counter or capacity.counter(event.id)
    view = {
        "id": event.id, "community_id": event.community_id, "series_id": event.series_id,
        "title": event.title, "kind": event.kind, "kind_label": EVENT_KIND_LABELS.get(event.kind, event.kind),
        "description": event.description, "place": event.place,
        "starts_at": iso(event.starts_at), "ends_at": iso(event.ends_at), "when": format_when(event),
        "recurrence": event.recurrence, "recurrence_text": recurrence_text(event),
        "capacity": event.capacity, "confirmed": counter.confirmed, "places_left": counter.places_left,
        "waiting": waiting if waiting is not None else capacity.waiting_count(event.id),
        "signup_deadline": iso(event.deadline), "audience": event.audience,
        "audience_label": AUDIENCE_LABELS.get(event.audience, event.audience),
        "volunteer_hours": event.volunteer_hours, "aliases": list(event.aliases or []),
        "project_id": event.project_id, "status": event.status,
        "signup_open": event.status == EventStatus.PUBLISHED.value and clock_now() < event.deadline,
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
    view = {
        "id": signup.id, "event_id": signup.event_id, "status": signup.status,
        "waiting_position": capacity.waiting_rank(signup), "source": signup.source,
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


def upcoming_events(community_id: int, *, limit: int | None = None, horizon: timedelta | None = None) -> list[Event]:
    """Published events of the community that have not ended, earliest first."""
    moment = clock_now()
    statement = select(Event).where(Event.community_id == community_id, Event.status == EventStatus.PUBLISHED.value,
                                    Event.ends_at > moment)
    if horizon is not None:
        statement = statement.where(Event.starts_at <= moment + horizon)
    statement = statement.order_by(Event.starts_at, Event.id)
    if limit:
        statement = statement.limit(limit)
    return list(db.session.scalars(statement))
