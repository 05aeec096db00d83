"""Signing up for an event and cancelling, with capacity and an automatic waiting list.

``signup_for`` checks (the event is open, the person is in its audience and not yet
signed up), then takes a place or a waiting-list ticket under the event's lock
(capacity.py), then records the sign-up. A cancellation frees the place for the first
on the waiting list, who is told in the same transaction.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from app.clock import now as clock_now
from app.extensions import db
from app.handlers.audit import record
from app.handlers.events import capacity
from app.handlers.events.audience import check_audience, membership
from app.handlers.events.errors import EventError, refusal
from app.handlers.events.notices import NoticeTarget, default_notice_target, notify_promoted, remember_target
from app.handlers.events.text import format_deadline, format_when
from app.handlers.org.profile import adopt_community
from app.localtime import day_label
from app.models import Resident, Staff
from app.models.events import ACTIVE_SIGNUP, Event, EventStatus, Signup, SignupStatus
from app.models.volunteers import PartyMember


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
        return capacity.waiting_rank(self.signup)


@dataclass
class CancelResult:
    signup: Signup
    event: Event
    already: bool = False
    promoted: list[Signup] = field(default_factory=list)


@dataclass
class _Ask:
    """One sign-up request, as signup_for received it."""

    resident_id: int | None
    member_id: int | None
    key: str | None
    waitlist: bool
    source: str
    target: NoticeTarget | None
    staff: Staff | None

    def replays(self, signup: Signup) -> bool:
        return bool(self.key) and signup.idempotency_key == self.key


def check_open(event: Event) -> None:
    """Refuse (EventError) an event that does not take sign-ups now."""
    moment = clock_now()
    if event.status == EventStatus.CANCELLED.value:
        raise refusal(f"“{event.title}”已取消", "cancelled")
    if event.status != EventStatus.PUBLISHED.value:
        raise refusal("没有找到这个活动", "not_found", 404)
    if moment >= event.ends_at:
        raise refusal(f"“{event.title}”（{day_label(event.starts_at)}）已经结束了", "ended")
    if moment >= event.starts_at:
        raise refusal(f"“{event.title}”已经开始，不能再报名", "started")
    if moment >= event.deadline:
        raise refusal(f"“{event.title}”（{day_label(event.starts_at)}）报名已于{format_deadline(event)}截止",
                      "deadline_passed")


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


def already_error(existing: Signup, event: Event) -> EventError:
    if existing.status == SignupStatus.WAITING.value:
        return refusal(f"您已在“{event.title}”的候补名单上（第{capacity.waiting_rank(existing)}位），有名额会自动通知您",
                       "already_waiting", signup_id=existing.id)
    return refusal(f"您已报名“{event.title}”（{format_when(event)}），无需重复报名", "already_signed_up",
                   signup_id=existing.id)


def _event_and_member(event_id: int, resident: Resident | None,
                      member: PartyMember | None) -> tuple[Event, PartyMember | None]:
    event = db.session.get(Event, event_id)
    if event is None:
        raise refusal("没有找到这个活动", "not_found", 404)
    if member is None and resident is not None:
        member = membership(event.community_id, resident.id)
    if member is not None and member.community_id != event.community_id:
        raise refusal("该成员不属于本社区", "other_community", 403)
    return event, member


def _place_or_ticket(event: Event, waitlist: bool) -> tuple[str, int | None]:
    """A confirmed place if there is one, else a waiting-list ticket (or "full" when not queueing)."""
    if capacity.take_place(event.id):
        return SignupStatus.CONFIRMED.value, None
    if not waitlist:
        db.session.rollback()
        raise refusal(f"“{event.title}”（{day_label(event.starts_at)}）名额已满，可以排队候补",
                      "full", waiting=capacity.waiting_count(event.id))
    return SignupStatus.WAITING.value, capacity.next_ticket(event.id)


def _record(event: Event, existing: Signup | None, ask: _Ask, status: str, position: int | None) -> Signup:
    """Write the sign-up (re-using a cancelled row) and its audit entry, and commit."""
    moment = clock_now()
    signup = existing or Signup(event_id=event.id, resident_id=ask.resident_id)
    signup.member_id = ask.member_id
    signup.status = status
    signup.position = position
    signup.idempotency_key = ask.key
    signup.source = ask.source
    signup.confirmed_at = moment if status == SignupStatus.CONFIRMED.value else None
    signup.promoted_at = signup.cancelled_at = signup.reminded_at = None
    signup.checked_in_at = signup.checked_out_at = None
    if ask.target is not None:
        remember_target(signup, ask.target)
    if existing is None:
        db.session.add(signup)
    db.session.flush()
    actor = ("staff", ask.staff.id) if ask.staff else ("resident", ask.resident_id) if ask.resident_id \
        else ("system", None)
    record(actor[0], actor[1], "event.signup", signup, community_id=event.community_id,
           detail={"event_id": event.id, "status": status, "position": position, "source": ask.source})
    if ask.resident_id is not None:
        adopt_community(db.session.get(Resident, ask.resident_id), event.community_id)
    db.session.commit()
    return signup


def _take(event: Event, ask: _Ask) -> SignupResult:
    """Under the event's lock: check again, take a place or a ticket, record."""
    capacity.lock(event.id)
    event = capacity.reload_event(event.id)
    check_open(event)
    existing = find_signup(event.id, ask.resident_id, ask.member_id)
    if existing is not None and existing.status != SignupStatus.CANCELLED.value:
        db.session.rollback()
        if ask.replays(existing):
            return SignupResult(existing, event, replay=True)
        raise already_error(existing, event)
    status, position = _place_or_ticket(event, ask.waitlist)
    return SignupResult(_record(event, existing, ask, status, position), event)


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
    db.session.commit()  # our transaction must begin with the lock (see capacity.lock)
    event, member = _event_and_member(event_id, resident, member)
    resident_id = resident.id if resident is not None else member.resident_id
    ask = _Ask(resident_id, member.id if member is not None else None, key, waitlist, source, None, staff)
    existing = find_signup(event.id, ask.resident_id, ask.member_id)
    if existing is not None and ask.replays(existing):
        return SignupResult(existing, event, replay=True)
    check_open(event)
    check_audience(event, resident, member)
    if existing is not None and existing.status != SignupStatus.CANCELLED.value:
        raise already_error(existing, event)
    ask.target = notify_target or default_notice_target(resident_id)
    try:
        return _take(event, ask)
    except IntegrityError:
        # The same person signed up concurrently: theirs won, ours wrote nothing.
        db.session.rollback()
        existing = find_signup(event.id, ask.resident_id, ask.member_id)
        if existing is None:  # pragma: no cover - the unique key guarantees a row
            raise
        if ask.replays(existing):
            return SignupResult(existing, event, replay=True)
        raise already_error(existing, event) from None
    except BaseException:
        db.session.rollback()
        raise


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
        capacity.lock(event.id)
        event = capacity.reload_event(event.id)
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
            capacity.release_place(event.id)
            promoted = capacity.promote_waiting(event)
        record(actor_type, actor_id, "event.signup.cancel", signup, community_id=event.community_id,
               detail={"event_id": event.id, "promoted": [p.id for p in promoted]})
        # The outbox commits with its first message: the promotion and its notice are one transaction.
        notify_promoted(event, promoted)
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
