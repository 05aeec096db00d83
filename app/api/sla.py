"""Staff API of the reply SLA and the roster: inbox, public reply, roster, alerts, statistics.

Every query is scoped to the staff member's own community: another
community's clock, shift or staff member answers 404, a missing role 403.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import request
from sqlalchemy import select

from app.api.schemas import sla as schemas
from app.api.support import (
    current_staff,
    field,
    int_arg,
    iso,
    json_body,
    paginate,
    parse_datetime,
    require_role,
    route,
)
from app.clock import now
from app.errors import Forbidden, NotFound, ValidationError
from app.extensions import db
from app.handlers import inbox
from app.handlers.alerts import alert_view
from app.handlers.inbox import REPLY_ROLES, clock_in_community
from app.handlers.requests import (
    convert_possible,
    dismiss_possible,
    possible_in_community,
    possible_view,
    staff_request_view,
)
from app.handlers.sla import clock_view, roster, summarise
from app.handlers.sla import sla_stats as clock_stats
from app.localtime import local_date, local_midnight
from app.models import Alert, AlertKind, Community, DutyShift, Role, Staff
from app.models.requests import CATEGORY_LABELS

ADMIN = Role.COMMUNITY_ADMIN.value
# Who answers residents: the duty rotation, the admins, grid leaders and workers.
MAX_RANGE = timedelta(days=62)


def community_staff(*roles: str) -> Staff:
    staff = current_staff()
    if staff.community_id is None:
        raise Forbidden("仅限社区工作人员 (community staff only)")
    if roles:
        require_role(staff, *roles)
    return staff


def _query_time(name: str, default: datetime | None) -> datetime | None:
    raw = request.args.get(name)
    if raw is None or not raw.strip():
        return default
    return parse_datetime(raw, name)


def _range(default_start: datetime, default_days: int) -> tuple[datetime, datetime]:
    start = _query_time("from", default_start)
    end = _query_time("to", start + timedelta(days=default_days))
    if end <= start:
        raise ValidationError("参数 to 必须晚于 from (to must be after from)", field="to")
    if end - start > MAX_RANGE:
        raise ValidationError("查询范围最长 62 天 (range at most 62 days)", field="to")
    return start, end


def _today_start() -> datetime:
    return local_midnight(local_date(now()))


def _list_page(items: list[Any]) -> dict[str, Any]:
    page = int_arg("page", 1, maximum=100000)
    per_page = int_arg("per_page", 20, maximum=100)
    chunk = items[(page - 1) * per_page: page * per_page]
    return {"items": chunk, "page": page, "per_page": per_page, "total": len(items)}


# ---- inbox --------------------------------------------------------------------------------------

@route("/inbox", summary="What waits for me: open reply clocks (most urgent first, seconds left) and, with "
       "?kind=all or possible_request, the possible requests (疑似诉求) the bot kept for staff to decide",
       tags=["sla"], query={"page": {"type": "integer"}, "per_page": {"type": "integer"},
                            "kind": {"type": "string", "enum": list(inbox.KINDS),
                                     "description": "reply (default: clocks only), possible_request, or all "
                                                    "(clocks first); every item has its kind"}},
       returns=schemas.SLA_INBOX)
def sla_inbox():
    staff = community_staff(*REPLY_ROLES)
    kind = request.args.get("kind") or inbox.REPLY
    if kind not in inbox.KINDS:
        raise ValidationError(f"参数 kind 取值无效 (one of: {', '.join(inbox.KINDS)})", field="kind")
    page = int_arg("page", 1, maximum=100000)
    per_page = int_arg("per_page", 20, maximum=100)
    items, totals = inbox.inbox_page(staff.community_id, kind, (page - 1) * per_page, per_page, now())
    return {"items": items, "page": page, "per_page": per_page, **totals}


def _optional_body() -> dict[str, Any]:
    """No body at all is an empty one; a body that is there must be a JSON object."""
    return json_body() if request.get_data(cache=True) else {}


@route("/inbox/possible/<int:possible_id>/convert", ["POST"], tags=["sla"],
       summary="Make a possible request (疑似诉求) a request: its reply clock starts; optionally reply at once",
       body={"type": "object", "properties": {
           "category": {"type": "string", "enum": list(CATEGORY_LABELS),
                        "description": "omitted: the bot's guess, else other"},
           "reply": {"type": "string", "maxLength": 1000,
                     "description": "a public answer posted where the resident wrote (stops the clock)"}}},
       responses={"200": {"description": "the decided item and the new request"},
                  "404": {"description": "no such possible request in my community"},
                  "409": {"description": "already converted or dismissed"}}, returns=schemas.SLA_POSSIBLE_CONVERT,
       errors={409: ["conflict", "invalid_transition"]})
def sla_possible_convert(possible_id: int):
    staff = community_staff(*REPLY_ROLES)
    row = possible_in_community(possible_id, staff)
    data = _optional_body()
    category = field(data, "category", str, required=False, choices=tuple(CATEGORY_LABELS))
    reply = field(data, "reply", str, required=False, max_length=1000)
    created = convert_possible(row, staff, category=category, reply=reply)
    return {"possible": possible_view(row), "request": staff_request_view(created)}


@route("/inbox/possible/<int:possible_id>/dismiss", ["POST"], tags=["sla"],
       summary="Not a request: the possible request (疑似诉求) leaves the inbox; nothing is posted",
       body={"type": "object", "properties": {"note": {"type": "string", "maxLength": 200}}},
       responses={"200": {"description": "the decided item"},
                  "404": {"description": "no such possible request in my community"},
                  "409": {"description": "already converted or dismissed"}},
       returns=schemas.SLA_POSSIBLE_DISMISS, errors={409: ["conflict"]})
def sla_possible_dismiss(possible_id: int):
    staff = community_staff(*REPLY_ROLES)
    row = possible_in_community(possible_id, staff)
    note = field(_optional_body(), "note", str, required=False, max_length=200)
    return {"possible": possible_view(dismiss_possible(row, staff, note=note))}


@route("/inbox/<int:clock_id>/reply", ["POST"], tags=["sla"],
       summary="Reply publicly (posted to the resident's group) and stop the clock",
       body={"type": "object", "required": ["text"], "properties": {"text": {"type": "string", "maxLength": 1000}}},
       responses={"200": {"description": "the stopped clock and the queued message"},
                  "404": {"description": "no such clock in my community"},
                  "409": {"description": "already answered"}},
       returns=schemas.SLA_INBOX_REPLY, errors={409: ["conflict", "invalid_transition"]})
def sla_inbox_reply(clock_id: int):
    staff = community_staff(*REPLY_ROLES)
    clock = clock_in_community(clock_id, staff)
    text = field(json_body(), "text", str, max_length=1000)
    message = inbox.reply(clock, staff, text)
    message_view = {"id": message.id, "status": message.status, "text": message.text} if message else None
    return {"clock": clock_view(clock), "message": message_view}


# ---- roster -------------------------------------------------------------------------------------

@route("/roster", summary="Shifts of my community overlapping [from, to) (default: today + 7 days)", tags=["roster"],
       query={"from": {"type": "string", "format": "date-time"}, "to": {"type": "string", "format": "date-time"},
              "page": {"type": "integer"}, "per_page": {"type": "integer"}}, returns=schemas.ROSTER_LIST)
def roster_list():
    staff = community_staff()
    start, end = _range(_today_start(), 7)
    return paginate(roster.shifts_between_query(staff.community_id, start, end),
                    roster.shift_view, default_per_page=50)


@route("/roster/on-duty", summary="Who is on duty now (or at ?at=), the duty lead, and whether it is a gap",
       tags=["roster"], query={"at": {"type": "string", "format": "date-time"}}, returns=schemas.ROSTER_ON_DUTY)
def roster_on_duty():
    staff = community_staff()
    at = _query_time("at", now())
    shifts = roster.on_duty(staff.community_id, at)
    lead = roster.duty_lead(staff.community_id, at)
    return {"at": iso(at), "shifts": [roster.shift_view(s) for s in shifts],
            "lead": lead.public_view() if lead else None, "nobody_on_duty": not shifts}


@route("/roster/mine", summary="My shifts from now on", tags=["roster"],
       query={"page": {"type": "integer"}, "per_page": {"type": "integer"}}, returns=schemas.ROSTER_MINE)
def roster_mine():
    staff = community_staff()
    statement = (select(DutyShift).where(DutyShift.staff_id == staff.id, DutyShift.ends_at > now())
                 .order_by(DutyShift.starts_at, DutyShift.id))
    return paginate(statement, roster.shift_view)


def _staff_in_community(staff_id: int, admin: Staff, name: str) -> Staff:
    other = db.session.get(Staff, staff_id)
    if other is None or other.community_id != admin.community_id:
        raise NotFound("本社区没有这位工作人员 (no such staff member in this community)", field=name)
    return other


def _shift_in_community(shift_id: int, staff: Staff, name: str = "shift_id") -> DutyShift:
    shift = db.session.get(DutyShift, shift_id)
    if shift is None or shift.community_id != staff.community_id:
        raise NotFound("本社区没有这个班次 (no such shift in this community)", field=name)
    return shift


@route("/roster/shifts", ["POST"], tags=["roster"], summary="Add a shift (community admin)",
       body={"type": "object", "required": ["staff_id", "starts_at", "ends_at"],
             "properties": {"staff_id": {"type": "integer"}, "starts_at": {"type": "string", "format": "date-time"},
                            "ends_at": {"type": "string", "format": "date-time"}, "is_lead": {"type": "boolean"},
                            "note": {"type": "string", "maxLength": 200}}},
       responses={"201": {"description": "the shift"}, "409": {"description": "overlaps a shift of that person"}},
       returns=schemas.ROSTER_ADD_SHIFT, errors={404: ["not_found"], 409: ["conflict"]})
def roster_add_shift():
    admin = community_staff(ADMIN)
    data = json_body()
    staff_id = field(data, "staff_id", int, minimum=1)
    starts_at = field(data, "starts_at", datetime)
    ends_at = field(data, "ends_at", datetime)
    is_lead = field(data, "is_lead", bool, required=False, default=False)
    note = field(data, "note", str, required=False, max_length=200)
    person = _staff_in_community(staff_id, admin, "staff_id")
    # A RosterError is a DomainError: the API answers it as JSON naming the field (409 for a clash).
    shift = roster.add_shift(community_id=admin.community_id, staff=person, starts_at=starts_at,
                             ends_at=ends_at, is_lead=is_lead, note=note, actor=admin)
    return roster.shift_view(shift), 201


@route("/roster/shifts/<int:shift_id>", ["DELETE"], tags=["roster"], summary="Delete a shift (community admin)",
       returns=schemas.ROSTER_DELETE_SHIFT)
def roster_delete_shift(shift_id: int):
    admin = community_staff(ADMIN)
    shift = _shift_in_community(shift_id, admin)
    roster.delete_shift(shift, actor=admin)
    return {"deleted": shift_id}


@route("/roster/swap", ["POST"], tags=["roster"],
       summary="Swap two shifts' staff (with_shift_id) or hand a shift to someone else (staff_id); community admin",
       body={"type": "object", "required": ["shift_id"],
             "properties": {"shift_id": {"type": "integer"}, "with_shift_id": {"type": "integer"},
                            "staff_id": {"type": "integer"}, "reason": {"type": "string", "maxLength": 200}}},
       responses={"200": {"description": "the swap and the changed shifts"},
                  "409": {"description": "someone would be on two overlapping shifts"}},
       returns=schemas.ROSTER_SWAP, errors={404: ["not_found"], 409: ["conflict"]})
def roster_swap():
    admin = community_staff(ADMIN)
    data = json_body()
    shift_id = field(data, "shift_id", int, minimum=1)
    with_shift_id = field(data, "with_shift_id", int, required=False, minimum=1)
    staff_id = field(data, "staff_id", int, required=False, minimum=1)
    reason = field(data, "reason", str, required=False, max_length=200)
    if (with_shift_id is None) == (staff_id is None):
        raise ValidationError("请给出 with_shift_id（换班）或 staff_id（代班）之一 (exactly one of them)",
                              field="with_shift_id")
    shift = _shift_in_community(shift_id, admin)
    other: DutyShift | Staff
    if with_shift_id is not None:
        other = _shift_in_community(with_shift_id, admin, "with_shift_id")
    else:
        other = _staff_in_community(staff_id, admin, "staff_id")
    swap = roster.swap(shift, other, by=admin, reason=reason)
    shifts = [shift] + ([other] if isinstance(other, DutyShift) else [])
    return {"swap": {"id": swap.id, "shift_a_id": swap.shift_a_id, "shift_b_id": swap.shift_b_id,
                     "from_staff_id": swap.staff_a_id, "to_staff_id": swap.staff_b_id, "reason": swap.reason,
                     "created_at": iso(swap.created_at)},
            "shifts": [roster.shift_view(s) for s in shifts]}


@route("/roster/gaps", summary="Times nobody is on duty in [from, to) (default: now + 14 days)", tags=["roster"],
       query={"from": {"type": "string", "format": "date-time"}, "to": {"type": "string", "format": "date-time"}},
       returns=schemas.ROSTER_GAPS)
def roster_gaps():
    staff = community_staff()
    start, end = _range(now(), 14)
    holes = roster.gaps(staff.community_id, start, end)
    page = _list_page([{"from": iso(a), "to": iso(b), "seconds": int((b - a).total_seconds())} for a, b in holes])
    page.update({"range_from": iso(start), "range_to": iso(end),
                 "uncovered_seconds": int(sum((b - a).total_seconds() for a, b in holes))})
    return page


# ---- alerts and statistics ----------------------------------------------------------------------

@route("/sla/alerts", summary="Alerts of my community with recipients and delivery state (community admin)",
       tags=["sla"], query={"since": {"type": "string", "format": "date-time"},
                            "kind": {"type": "string", "enum": [k.value for k in AlertKind]},
                            "page": {"type": "integer"}, "per_page": {"type": "integer"}}, returns=schemas.SLA_ALERTS)
def sla_alerts():
    admin = community_staff(ADMIN)
    statement = select(Alert).where(Alert.community_id == admin.community_id)
    raw_since = request.args.get("since")
    if raw_since:
        statement = statement.where(Alert.created_at >= parse_datetime(raw_since, "since"))
    kind = request.args.get("kind")
    if kind:
        if kind not in {k.value for k in AlertKind}:
            raise ValidationError(f"参数 kind 取值无效 (one of: {', '.join(k.value for k in AlertKind)})", field="kind")
        statement = statement.where(Alert.kind == kind)
    return paginate(statement.order_by(Alert.created_at.desc(), Alert.id.desc()), alert_view)


@route("/stats/sla", summary="Reply-within-the-hour rate, median and p90 first-reply time (community admin)",
       tags=["sla"], query={"since": {"type": "string", "format": "date-time"},
                            "until": {"type": "string", "format": "date-time"}}, returns=schemas.SLA_STATS)
def sla_stats():
    admin = community_staff(ADMIN)
    at = now()
    until = _query_time("until", None)
    since = _query_time("since", (until or at) - timedelta(days=30))
    if since >= (until or at):
        raise ValidationError("参数 since 必须早于 until (since must be before until)", field="since")
    # No "until": everything started so far, including this very second.
    stats = clock_stats(community_ids=[admin.community_id], since=since, until=until, at=at)
    return {"since": iso(since), "until": iso(until or at), "sla_seconds": stats["sla_seconds"],
            "community": stats["communities"][0] if stats["communities"] else {
                "community_id": admin.community_id, "name": db.session.get(Community, admin.community_id).name,
                **summarise([], now())},
            "staff": stats["staff"]}
