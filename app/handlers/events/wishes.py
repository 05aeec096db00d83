"""微心愿 (micro-wishes): a resident posts a small wish, a registered member claims and fulfils it.

A resident has at most three wishes waiting. Two members claiming at once: a
conditional update lets exactly one win. The wisher is told when a wish is claimed
and when it is fulfilled.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update

from app.clock import now as clock_now
from app.extensions import db
from app.handlers.audit import record
from app.handlers.events.errors import refusal
from app.handlers.events.notices import default_notice_target
from app.handlers.events.volunteers import text_field
from app.handlers.messaging.outbox import TO_USER, queue_message
from app.localtime import iso
from app.models import Resident, Staff
from app.models.masking import mask_name
from app.models.volunteers import MicroWish, PartyMember, WishStatus


def wish_view(wish: MicroWish, *, for_staff: bool = False, viewer_resident_id: int | None = None) -> dict[str, Any]:
    resident = db.session.get(Resident, wish.resident_id)
    member = db.session.get(PartyMember, wish.member_id) if wish.member_id else None
    own = viewer_resident_id is not None and viewer_resident_id == wish.resident_id
    view = {"id": wish.id, "community_id": wish.community_id, "title": wish.title, "detail": wish.detail,
            "status": wish.status, "created_at": iso(wish.created_at), "claimed_at": iso(wish.claimed_at),
            "fulfilled_at": iso(wish.fulfilled_at), "fulfil_note": wish.fulfil_note,
            "resident": resident.staff_view() if for_staff else {"name": mask_name(resident.display_name)},
            "claimed_by": ({"id": member.id, "name": member.name if for_staff or own else mask_name(member.name)}
                           if member else None)}
    return view


def post_wish(resident: Resident, data: dict[str, Any]) -> MicroWish:
    if resident.community_id is None:
        raise refusal("请先在小程序中选择您所在的社区", "no_community", 400, field="community_id")
    title = text_field(data.get("title"), "title", "心愿", required=True, max_length=100)
    detail = text_field(data.get("detail"), "detail", "心愿说明", required=False, max_length=1000)
    open_count = db.session.scalar(select(func.count()).select_from(MicroWish).where(
        MicroWish.resident_id == resident.id, MicroWish.status.in_((WishStatus.OPEN.value, WishStatus.CLAIMED.value))))
    if open_count >= 3:
        raise refusal("您已有3个心愿在等待实现，请等它们实现后再发布", "too_many")
    wish = MicroWish(community_id=resident.community_id, resident_id=resident.id, title=title, detail=detail,
                     status=WishStatus.OPEN.value)
    db.session.add(wish)
    db.session.flush()
    record("resident", resident.id, "wish.post", wish, community_id=wish.community_id)
    db.session.commit()
    return wish


def claim_wish(wish_id: int, member: PartyMember) -> MicroWish:
    wish = db.session.get(MicroWish, wish_id)
    if wish is None or wish.community_id != member.community_id:
        raise refusal("没有找到这个心愿", "not_found", 404)
    if not member.active:
        raise refusal("您的登记已停用", "inactive", 403)
    if wish.resident_id == member.resident_id:
        raise refusal("不能认领自己的心愿", "own_wish")
    db.session.commit()
    # Conditional update: of two members claiming at once, exactly one wins.
    result = db.session.execute(update(MicroWish).where(MicroWish.id == wish_id, MicroWish.status == WishStatus.OPEN.value)
                                .values(status=WishStatus.CLAIMED.value, member_id=member.id, claimed_at=clock_now())
                                .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.rollback()
        raise refusal("这个心愿已被认领或已关闭", "already_claimed")
    record("resident", member.resident_id, "wish.claim", wish, community_id=wish.community_id,
           detail={"member_id": member.id})
    db.session.commit()
    wish = db.session.scalars(select(MicroWish).where(MicroWish.id == wish_id)
                              .execution_options(populate_existing=True)).one()
    _tell_wisher(wish, f"您的微心愿“{wish.title}”已由{mask_name(member.name)}认领，会尽快帮您实现。",
                 f"wish:{wish.id}:claimed:{member.id}")
    return wish


def fulfil_wish(wish_id: int, *, member: PartyMember | None = None, staff: Staff | None = None,
                note: str | None = None) -> MicroWish:
    wish = db.session.get(MicroWish, wish_id)
    community_id = member.community_id if member else staff.community_id if staff else None
    if wish is None or wish.community_id != community_id:
        raise refusal("没有找到这个心愿", "not_found", 404)
    if member is not None and wish.member_id != member.id:
        raise refusal("只有认领人可以标记实现", "not_claimer", 403)
    if wish.status == WishStatus.FULFILLED.value:
        return wish
    if wish.status != WishStatus.CLAIMED.value:
        raise refusal("心愿还没有被认领", "not_claimed")
    wish.status = WishStatus.FULFILLED.value
    wish.fulfilled_at = clock_now()
    wish.fulfil_note = text_field(note, "note", "说明", required=False, max_length=500)
    record("staff" if staff else "resident", staff.id if staff else member.resident_id, "wish.fulfil", wish,
           community_id=wish.community_id)
    db.session.commit()
    _tell_wisher(wish, f"您的微心愿“{wish.title}”已经实现啦！感谢您对社区工作的支持。", f"wish:{wish.id}:fulfilled")
    return wish


def cancel_wish(wish_id: int, resident: Resident) -> MicroWish:
    wish = db.session.get(MicroWish, wish_id)
    if wish is None or wish.resident_id != resident.id:
        raise refusal("没有找到这个心愿", "not_found", 404)
    if wish.status == WishStatus.CANCELLED.value:
        return wish
    if wish.status != WishStatus.OPEN.value:
        raise refusal("心愿已被认领，如需撤回请联系社区", "already_claimed")
    wish.status = WishStatus.CANCELLED.value
    wish.cancelled_at = clock_now()
    record("resident", resident.id, "wish.cancel", wish, community_id=wish.community_id)
    db.session.commit()
    return wish


def _tell_wisher(wish: MicroWish, text: str, key: str) -> None:
    target = default_notice_target(wish.resident_id)
    if target is None:
        return
    queue_message(channel=target.channel, recipient_kind=TO_USER, recipient_id=target.recipient, text=text,
                  idempotency_key=key, community_id=wish.community_id, resident_id=wish.resident_id,
                  meta={"wish_id": wish.id})


def open_wishes(community_id: int) -> list[MicroWish]:
    return list(db.session.scalars(select(MicroWish).where(
        MicroWish.community_id == community_id, MicroWish.status == WishStatus.OPEN.value)
        .order_by(MicroWish.created_at, MicroWish.id)))

