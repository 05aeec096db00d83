"""Requests (诉求) in the mini-program API.

Staff: list, detail with timeline, reply publicly, dispatch, start, escalate,
resolve, merge, reject, reopen, reclassify, statistics. Every staff query is
scoped by ``visible_clause`` (their community; a department sees only what was
escalated to it): anything else is 404; a role that may not do an action is 403.

Residents: their own requests with progress (phone masked), a new request from
the form with photos, and the rating (回访).
"""
from __future__ import annotations

from datetime import date, timedelta

from flask import jsonify, request
from sqlalchemy import or_, select

from app.api.schemas import requests as schemas
from app.api.support import (
    current_resident,
    current_staff,
    field,
    int_arg,
    json_body,
    paginate,
    parse_date,
    route,
)
from app.clock import now
from app.errors import NotFound, ValidationError
from app.extensions import db
from app.handlers import requests as flow
from app.handlers.requests import resident_request_view, staff_request_view
from app.handlers.uploads import attach_photos
from app.localtime import local_date, local_midnight
from app.models import Resident, Staff
from app.models.requests import (
    CATEGORY_LABELS,
    LEVELS,
    OPEN_STATUSES,
    RATINGS,
    URGENCY_LABELS,
    RequestStatus,
    ServiceRequest,
)

TAGS = ["requests"]
STATUSES = tuple(s.value for s in RequestStatus)


# ---- helpers ---------------------------------------------------------------------------------

def _body() -> dict:
    """A JSON object, or {} for an empty body (actions such as /start need none)."""
    if not request.get_data(cache=True):
        return {}
    return json_body()


def _load(request_id: int) -> tuple[Staff, ServiceRequest]:
    staff = current_staff()
    row = db.session.scalars(select(ServiceRequest).where(
        ServiceRequest.id == request_id, flow.visible_clause(staff))).first()
    if row is None:
        raise NotFound("诉求不存在 (request not found)")
    return staff, row


def _act(request_id: int, action: str) -> tuple[Staff, ServiceRequest]:
    staff, row = _load(request_id)
    flow.authorize(staff, action, row)
    return staff, row


def _ok(row: ServiceRequest, status: int = 200):
    db.session.refresh(row)
    return jsonify(staff_request_view(row, detail=True)), status


def _bool_arg(name: str) -> bool | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if raw.lower() in ("1", "true", "yes"):
        return True
    if raw.lower() in ("0", "false", "no"):
        return False
    raise ValidationError(f"参数 {name} 必须是 true 或 false", field=name)


def _choice_arg(name: str, choices) -> list[str] | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    values = [v.strip() for v in raw.split(",") if v.strip()]
    bad = [v for v in values if v not in choices]
    if bad or not values:
        raise ValidationError(f"参数 {name} 取值无效 (one of: {', '.join(choices)})", field=name)
    return values


def _int_value(data: dict, name: str, *, required: bool) -> int | None:
    value = field(data, name, int, required=required, minimum=1)
    return int(value) if value is not None else None


# ---- staff -----------------------------------------------------------------------------------

@route("/requests", summary="Requests of my community (filters, paginated)", tags=TAGS, query={
    "status": {"type": "string", "description": "comma-separated statuses, or 'open'"},
    "category": {"type": "string"}, "grid_id": {"type": "integer"}, "level": {"type": "string"},
    "overdue": {"type": "boolean"}, "assignee": {"type": "string", "description": "'me' or a staff id"},
    "scope": {"type": "string", "enum": ["grid", "all"],
              "description": "grid workers see their grid (and what is assigned to them) unless scope=all"},
    "sort": {"type": "string", "enum": ["created", "due"]},
    "page": {"type": "integer"}, "per_page": {"type": "integer"}}, returns=schemas.REQUESTS_LIST)
def requests_list():
    staff = current_staff()
    flow.authorize(staff, "view")
    statement = select(ServiceRequest).where(flow.visible_clause(staff))
    raw_status = request.args.get("status")
    if raw_status == "open":
        statement = statement.where(ServiceRequest.status.in_(OPEN_STATUSES))
    else:
        statuses = _choice_arg("status", STATUSES)
        if statuses:
            statement = statement.where(ServiceRequest.status.in_(statuses))
    categories = _choice_arg("category", flow.CATEGORIES)
    if categories:
        statement = statement.where(ServiceRequest.category.in_(categories))
    levels = _choice_arg("level", LEVELS)
    if levels:
        statement = statement.where(ServiceRequest.escalation_level.in_(levels))
    if request.args.get("grid_id"):
        statement = statement.where(ServiceRequest.grid_id == int_arg("grid_id", 0, maximum=2**62))
    assignee = request.args.get("assignee")
    if assignee:
        statement = statement.where(ServiceRequest.assignee_id == (
            staff.id if assignee == "me" else int_arg("assignee", 0, maximum=2**62)))
    overdue = _bool_arg("overdue")
    if overdue is not None:
        late = (ServiceRequest.status.in_(OPEN_STATUSES)) & (ServiceRequest.due_at <= now())
        statement = statement.where(late if overdue else ~late)
    scope = request.args.get("scope") or ("grid" if flow.is_plain_grid_worker(staff) else "all")
    if scope not in ("grid", "all"):
        raise ValidationError("参数 scope 取值无效 (grid or all)", field="scope")
    if scope == "grid":
        mine = [ServiceRequest.assignee_id == staff.id]
        if staff.grid_id:
            mine.append(ServiceRequest.grid_id == staff.grid_id)
        statement = statement.where(or_(*mine))
    sort = request.args.get("sort") or "created"
    if sort == "due":
        statement = statement.order_by(ServiceRequest.due_at, ServiceRequest.id)
    elif sort == "created":
        statement = statement.order_by(ServiceRequest.created_at.desc(), ServiceRequest.id.desc())
    else:
        raise ValidationError("参数 sort 取值无效 (created or due)", field="sort")
    return jsonify(paginate(statement, staff_request_view))


@route("/requests/<int:request_id>", summary="A request with its timeline (resident phone unmasked)", tags=TAGS,
       returns=schemas.STAFF_REQUEST_DETAIL)
def requests_detail(request_id: int):
    staff, row = _act(request_id, "view")
    return jsonify(staff_request_view(row, detail=True))


@route("/requests/<int:request_id>/timeline", summary="The request's timeline (append-only events)", tags=TAGS,
       returns=schemas.REQUESTS_TIMELINE)
def requests_timeline(request_id: int):
    staff, row = _act(request_id, "view")
    items = flow.timeline(row)
    return jsonify({"request_id": row.id, "code": row.code, "items": items, "total": len(items)})


@route("/requests/<int:request_id>/reply", ["POST"],
       summary="Reply publicly (to the group or 1:1); stops the reply clock",
       tags=TAGS, body={"type": "object", "required": ["text"],
                        "properties": {"text": {"type": "string", "maxLength": 1000}}}, returns=schemas.REQUESTS_REPLY,
       errors={409: ["invalid_transition"]})
def requests_reply(request_id: int):
    staff, row = _act(request_id, "reply")
    data = json_body()
    text = field(data, "text", str, max_length=1000)
    message = flow.reply_publicly(row, staff, text)
    response, status = _ok(row)
    payload = response.get_json()
    payload["message"] = ({"id": message.id, "status": message.status} if message is not None else None)
    return jsonify(payload), status


@route("/requests/<int:request_id>/dispatch", ["POST"], summary="派单: to a staff member, or the grid's grid worker",
       tags=TAGS, body={"type": "object", "properties": {"staff_id": {"type": "integer"},
                                                         "note": {"type": "string", "maxLength": 500}}},
       returns=schemas.STAFF_REQUEST_DETAIL,
       errors={409: ["invalid_transition", "no_grid_worker"]})
def requests_dispatch(request_id: int):
    staff, row = _act(request_id, "dispatch")
    data = _body()
    staff_id = _int_value(data, "staff_id", required=False)
    note = field(data, "note", str, required=False, max_length=500)
    target = None
    if staff_id is not None:
        target = db.session.get(Staff, staff_id)
        if target is None:
            raise ValidationError("工作人员不存在 (unknown staff)", field="staff_id")
    flow.dispatch(row, staff, staff=target, note=note)
    return _ok(row)


@route("/requests/<int:request_id>/start", ["POST"], summary="Start handling (in progress)", tags=TAGS,
       returns=schemas.STAFF_REQUEST_DETAIL, errors={409: ["invalid_transition"]})
def requests_start(request_id: int):
    staff, row = _act(request_id, "start")
    _body()
    flow.start(row, staff)
    return _ok(row)


@route("/requests/<int:request_id>/escalate", ["POST"], summary="吹哨: up to community, street or a department",
       tags=TAGS, body={"type": "object", "required": ["level", "reason"], "properties": {
           "level": {"type": "string", "enum": list(LEVELS)}, "department_id": {"type": "integer"},
           "reason": {"type": "string", "maxLength": 500}}}, returns=schemas.STAFF_REQUEST_DETAIL,
       errors={409: ["invalid_transition"]})
def requests_escalate(request_id: int):
    staff, row = _act(request_id, "escalate")
    data = json_body()
    level = field(data, "level", str, choices=LEVELS)
    reason = field(data, "reason", str, max_length=500)
    department_id = _int_value(data, "department_id", required=False)
    flow.escalate(row, staff, level=level, reason=reason, department_id=department_id)
    return _ok(row)


@route("/requests/<int:request_id>/resolve", ["POST"], summary="办结 with a note (and photos of the work); the "
       "resident is asked to rate", tags=TAGS, body={"type": "object", "required": ["note"], "properties": {
           "note": {"type": "string", "maxLength": 1000},
           "photos": {"type": "array", "maxItems": flow.MAX_PHOTOS, "items": {"type": "string", "maxLength": 500},
                      "description": "urls from POST /uploads (my own uploads); shown as resolution_photos"}}},
       returns=schemas.STAFF_REQUEST_DETAIL, errors={409: ["invalid_transition"]})
def requests_resolve(request_id: int):
    staff, row = _act(request_id, "resolve")
    data = json_body()
    note = field(data, "note", str, max_length=1000)
    photos = data.get("photos") or []
    if not isinstance(photos, list) or not all(isinstance(p, str) and p.strip() and len(p) <= 500 for p in photos):
        raise ValidationError("photos 必须是上传照片的链接列表 (list of upload urls)", field="photos")
    if len(photos) > flow.MAX_PHOTOS:
        raise ValidationError(f"照片最多{flow.MAX_PHOTOS}张 (at most {flow.MAX_PHOTOS} photos)", field="photos")
    photos = attach_photos(photos, uploader_kind="staff", uploader_id=staff.id, community_id=row.community_id)
    flow.resolve(row, staff, note=note, photos=photos)
    return _ok(row)


@route("/requests/<int:request_id>/merge", ["POST"], summary="Merge a duplicate into another request", tags=TAGS,
       body={"type": "object", "required": ["into_id"], "properties": {"into_id": {"type": "integer"}}},
       returns=schemas.STAFF_REQUEST_DETAIL,
       errors={409: ["invalid_transition"]})
def requests_merge(request_id: int):
    staff, row = _act(request_id, "merge")
    data = json_body()
    into_id = _int_value(data, "into_id", required=True)
    into = db.session.scalars(select(ServiceRequest).where(
        ServiceRequest.id == into_id, flow.visible_clause(staff))).first()
    if into is None:
        raise ValidationError("目标诉求不存在 (unknown into_id)", field="into_id")
    flow.merge(row, staff, into=into)
    return _ok(row)


@route("/requests/<int:request_id>/reject", ["POST"], summary="不予受理, with a reason the resident is told",
       tags=TAGS, body={"type": "object", "required": ["reason"],
                        "properties": {"reason": {"type": "string", "maxLength": 500}}},
       returns=schemas.STAFF_REQUEST_DETAIL,
       errors={409: ["invalid_transition"]})
def requests_reject(request_id: int):
    staff, row = _act(request_id, "reject")
    data = json_body()
    reason = field(data, "reason", str, max_length=500)
    flow.reject(row, staff, reason=reason)
    return _ok(row)


@route("/requests/<int:request_id>/reopen", ["POST"], summary="Reopen a resolved or closed request", tags=TAGS,
       body={"type": "object", "required": ["reason"], "properties": {"reason": {"type": "string", "maxLength": 500}}},
       returns=schemas.STAFF_REQUEST_DETAIL, errors={409: ["invalid_transition"]})
def requests_reopen(request_id: int):
    staff, row = _act(request_id, "reopen")
    data = json_body()
    reason = field(data, "reason", str, max_length=500)
    flow.reopen(row, staff, reason=reason)
    return _ok(row)


@route("/requests/<int:request_id>/classify", ["POST"],
       summary="Correct the category or deadline class (the deadline is recomputed)", tags=TAGS,
       body={"type": "object", "properties": {"category": {"type": "string", "enum": list(CATEGORY_LABELS)},
                                              "urgency": {"type": "string", "enum": list(URGENCY_LABELS)}}},
       returns=schemas.STAFF_REQUEST_DETAIL,
       errors={409: ["invalid_transition"]})
def requests_classify(request_id: int):
    staff, row = _act(request_id, "reclassify")
    data = json_body()
    category = field(data, "category", str, required=False, choices=flow.CATEGORIES)
    urgency = field(data, "urgency", str, required=False, choices=flow.URGENCIES)
    flow.reclassify(row, staff, category=category, urgency=urgency)
    return _ok(row)


def _date_arg(name: str, default: date) -> date:
    raw = request.args.get(name)
    if not raw:
        return default
    return parse_date(raw, name)


@route("/stats/requests", summary="响应率/解决率/满意率, solved at grid level, per category", tags=TAGS, query={
    "from": {"type": "string", "format": "date"},
    "to": {"type": "string", "format": "date", "description": "inclusive"},
    "grid_id": {"type": "integer"}, "community_id": {"type": "integer"}}, returns=schemas.REQUESTS_STATS)
def requests_stats():
    staff = current_staff()
    flow.authorize(staff, "stats")
    today = local_date(now())
    end_day = _date_arg("to", today)
    start_day = _date_arg("from", end_day - timedelta(days=29))
    if start_day > end_day:
        raise ValidationError("开始日期不能晚于结束日期 (from after to)", field="from")
    if (end_day - start_day).days > 366 * 2:
        raise ValidationError("统计区间不能超过两年 (period too long)", field="from")
    condition = flow.visible_clause(staff)
    if request.args.get("grid_id"):
        condition = condition & (ServiceRequest.grid_id == int_arg("grid_id", 0, maximum=2**62))
    if request.args.get("community_id"):
        condition = condition & (ServiceRequest.community_id == int_arg("community_id", 0, maximum=2**62))
    start, end = local_midnight(start_day), local_midnight(end_day + timedelta(days=1))
    stats = flow.request_stats(condition, start=start, end=end)
    return jsonify({"from": start_day.isoformat(), "to": end_day.isoformat(), **stats})


# ---- residents -------------------------------------------------------------------------------

def _own(request_id: int) -> tuple[Resident, ServiceRequest]:
    resident = current_resident()
    row = db.session.scalars(select(ServiceRequest).where(
        ServiceRequest.id == request_id, ServiceRequest.resident_id == resident.id)).first()
    if row is None:
        raise NotFound("诉求不存在 (request not found)")
    return resident, row


@route("/my/requests", summary="My requests with progress (newest first, paginated)", auth="resident", tags=TAGS,
       query={"page": {"type": "integer"}, "per_page": {"type": "integer"}}, returns=schemas.REQUESTS_MINE)
def requests_mine():
    resident = current_resident()
    statement = select(ServiceRequest).where(ServiceRequest.resident_id == resident.id).order_by(
        ServiceRequest.created_at.desc(), ServiceRequest.id.desc())
    return jsonify(paginate(statement, resident_request_view))


@route("/my/requests/<int:request_id>", summary="One of my requests with progress", auth="resident", tags=TAGS,
       returns=schemas.MY_REQUEST)
def requests_mine_detail(request_id: int):
    resident, row = _own(request_id)
    return jsonify(resident_request_view(row))


@route("/my/requests/<int:request_id>/rate", ["POST"], summary="Rate a resolved request (回访); 不满意 reopens it",
       auth="resident", tags=TAGS, body={"type": "object", "required": ["rating"], "properties": {
           "rating": {"type": "string", "enum": list(RATINGS)}, "comment": {"type": "string", "maxLength": 500}}},
       returns=schemas.MY_REQUEST, errors={409: ["invalid_transition"]})
def requests_rate_mine(request_id: int):
    resident, row = _own(request_id)
    data = json_body()
    rating = field(data, "rating", str, choices=RATINGS)
    comment = field(data, "comment", str, required=False, max_length=500)
    flow.rate(row, resident, rating=rating, comment=comment)
    db.session.refresh(row)
    return jsonify(resident_request_view(row))
