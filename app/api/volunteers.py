"""双报到 in the mini-program API: the member registry, volunteer projects, hours, the
yearly report and its .xlsx export, and micro-wishes (微心愿).

Organisers (community admin, duty) keep the registry and enter hours; residents register
themselves as in-service party members or volunteers, choose projects, see their year,
and post wishes that registered members claim and fulfil.
"""
from __future__ import annotations

from flask import Response, g, jsonify, request
from sqlalchemy import select

from app.api.events import DOOR_STAFF, ORGANISERS, community_staff, member_of
from app.api.schemas import volunteers as schemas
from app.api.support import current_resident, field, id_arg, int_arg, json_body, paginate, route
from app.errors import Forbidden, NotFound, ValidationError
from app.extensions import db
from app.handlers.events import hours, report, volunteers, wishes
from app.handlers.events.volunteers import current_year
from app.localtime import FIRST_YEAR, LAST_YEAR
from app.models import Community, Resident, Staff
from app.models.volunteers import (
    HoursEntry,
    HoursKind,
    MemberKind,
    MicroWish,
    PartyMember,
    VolunteerProject,
    WishStatus,
)

VOL_TAGS = ["volunteers"]
# ?year= as year_arg() reads it.
YEAR_QUERY = {"type": "integer", "minimum": FIRST_YEAR, "maximum": LAST_YEAR}
MEMBER_BODY = {"type": "object", "properties": {
    "name": {"type": "string"}, "phone": {"type": "string"}, "work_unit": {"type": "string"},
    "party_org": {"type": "string"}, "kind": {"type": "string", "enum": [k.value for k in MemberKind]},
    "project_ids": {"type": "array", "items": {"type": "integer"}}, "year": {"type": "integer"},
    "community_id": {"type": "integer"}, "resident_id": {"type": "integer"}, "active": {"type": "boolean"}}}
HOURS_BODY = {"type": "object", "required": ["member_id", "hours"], "properties": {
    "member_id": {"type": "integer"}, "hours": {"type": "number"},
    "served_on": {"type": "string", "format": "date"}, "note": {"type": "string"},
    "event_id": {"type": "integer"}, "project_id": {"type": "integer"}}}


def year_arg() -> int:
    """?year= (this year when absent)."""
    return int_arg("year", current_year(), minimum=FIRST_YEAR, maximum=LAST_YEAR)


# ---- 双报到: members, projects, hours -------------------------------------------------------

@route("/my/party-member", ["POST"], summary="Register with the community as an in-service party member (双报到) "
       "or a volunteer; again: update the registration", auth="resident", tags=VOL_TAGS, body=MEMBER_BODY,
       responses={"201": {"description": "registered"}, "200": {"description": "updated"}},
       returns=schemas.MY_MEMBERSHIP,
       errors={404: ["not_found"], 409: ["duplicate_phone"]})
def volunteers_register_me():
    resident = current_resident()
    data = json_body()
    community_id = resident.community_id or field(data, "community_id", int)
    if db.session.get(Community, community_id) is None:
        raise NotFound("没有找到这个社区 (no such community)", field="community_id")
    member, created = volunteers.register_member(community_id, data, resident=resident)
    return jsonify({"member": volunteers.member_view(member), "year": hours.member_year(member)}), 201 if created else 200


@route("/my/party-member", summary="My registration and my year (projects, hours against the target)",
       auth="resident", tags=VOL_TAGS, query={"year": YEAR_QUERY},
       returns=schemas.MY_MEMBERSHIP, errors={404: ["not_found"]})
def volunteers_me():
    resident = current_resident()
    members = db.session.scalars(select(PartyMember).where(PartyMember.resident_id == resident.id)
                                 .order_by(PartyMember.id)).all()
    if resident.community_id is not None:
        members = [m for m in members if m.community_id == resident.community_id] or members
    if not members:
        raise NotFound("您还没有登记为报到党员或志愿者 (not registered)")
    return jsonify({"member": volunteers.member_view(members[0]), "year": hours.member_year(members[0], year_arg())})


@route("/my/party-member/projects", ["POST"], summary="Choose volunteer projects for a year", auth="resident",
       tags=VOL_TAGS, body={"type": "object", "properties": {
           "project_ids": {"type": "array", "items": {"type": "integer"}}, "year": {"type": "integer"}}},
       returns=schemas.MEMBER_YEAR,
       errors={404: ["not_found"]})
def volunteers_my_projects():
    resident = current_resident()
    member = db.session.scalars(select(PartyMember).where(PartyMember.resident_id == resident.id)).first()
    if member is None:
        raise NotFound("您还没有登记为报到党员或志愿者 (not registered)")
    data = json_body()
    volunteers.choose_projects(member, data.get("project_ids"), data.get("year"), actor=("resident", resident.id))
    return jsonify(hours.member_year(member, data.get("year") or None))


@route("/volunteer-projects", summary="Volunteer projects of the community", auth="any", tags=VOL_TAGS,
       query={"community_id": {"type": "integer", "minimum": 1}}, returns=schemas.VOLUNTEERS_PROJECTS)
def volunteers_projects():
    if isinstance(g.subject, Staff):
        community_id = community_staff(*DOOR_STAFF).community_id
    else:
        resident = current_resident()
        community_id = resident.community_id or id_arg("community_id")
        if community_id is None:
            raise ValidationError("请先选择社区 (pass community_id)", field="community_id")
    rows = db.session.scalars(select(VolunteerProject).where(
        VolunteerProject.community_id == community_id, VolunteerProject.active.is_(True))
        .order_by(VolunteerProject.id)).all()
    return jsonify({"items": [p.view() for p in rows]})


@route("/volunteer-projects", ["POST"], summary="Add a volunteer project", tags=VOL_TAGS,
       body={"type": "object", "required": ["name"], "properties": {"name": {"type": "string"},
                                                                  "description": {"type": "string"}}},
       responses={"201": {"description": "created"}},
       returns=schemas.VOLUNTEERS_PROJECT_CREATE, errors={409: ["duplicate"]})
def volunteers_project_create():
    staff = community_staff(*ORGANISERS)
    project = volunteers.create_project(staff.community_id, json_body(), staff)
    return jsonify(project.view()), 201


@route("/party-members", summary="The member registry (?kind=party|volunteer, ?active=)", tags=VOL_TAGS,
       query={"kind": {"type": "string"}, "active": {"type": "boolean"}, "year": YEAR_QUERY},
       returns=schemas.VOLUNTEERS_MEMBERS)
def volunteers_members():
    staff = community_staff(*ORGANISERS)
    statement = select(PartyMember).where(PartyMember.community_id == staff.community_id)
    kind = request.args.get("kind")
    if kind:
        if kind not in {k.value for k in MemberKind}:
            raise ValidationError("参数 kind 取值无效 (party, volunteer)", field="kind")
        statement = statement.where(PartyMember.kind == kind)
    active = request.args.get("active")
    if active is not None:
        statement = statement.where(PartyMember.active.is_(active.lower() in ("1", "true", "yes")))
    year = year_arg()

    def serialize(member: PartyMember) -> dict:
        summary = hours.member_year(member, year)
        return {**volunteers.member_view(member), "hours": summary["hours"], "met_target": summary["met_target"],
                "projects": [p["name"] for p in summary["projects"]]}

    return jsonify(paginate(statement.order_by(PartyMember.id), serialize))


@route("/party-members", ["POST"], summary="Register a member on their behalf", tags=VOL_TAGS, body=MEMBER_BODY,
       responses={"201": {"description": "registered"}, "200": {"description": "already registered: updated"}},
       returns=schemas.MEMBER, errors={404: ["not_found"], 409: ["duplicate_phone"]})
def volunteers_member_create():
    staff = community_staff(*ORGANISERS)
    data = json_body()
    resident = None
    resident_id = field(data, "resident_id", int, required=False)
    if resident_id is not None:
        resident = db.session.get(Resident, resident_id)
        if resident is None or resident.community_id not in (None, staff.community_id):
            raise NotFound("没有找到这位居民 (no such resident)", field="resident_id")
    member, created = volunteers.register_member(staff.community_id, data, resident=resident, staff=staff)
    return jsonify(volunteers.member_view(member)), 201 if created else 200


@route("/party-members/<int:member_id>", summary="One member", tags=VOL_TAGS, returns=schemas.MEMBER)
def volunteers_member_get(member_id: int):
    staff = community_staff(*ORGANISERS)
    return jsonify(volunteers.member_view(member_of(staff, member_id)))


@route("/party-members/<int:member_id>", ["PATCH"], summary="Change a member (active=false: left the community)",
       tags=VOL_TAGS, body=MEMBER_BODY, returns=schemas.MEMBER,
       errors={409: ["duplicate_phone"]})
def volunteers_member_update(member_id: int):
    staff = community_staff(*ORGANISERS)
    member = member_of(staff, member_id)
    return jsonify(volunteers.member_view(volunteers.update_member(member, json_body(), staff)))


@route("/party-members/<int:member_id>/year", summary="A member's year: projects, hours by kind, target",
       tags=VOL_TAGS, query={"year": YEAR_QUERY}, returns=schemas.MEMBER_YEAR)
def volunteers_member_year(member_id: int):
    staff = community_staff(*ORGANISERS)
    return jsonify(hours.member_year(member_of(staff, member_id), year_arg()))


@route("/party-members/<int:member_id>/projects", ["POST"], summary="Record the projects a member chose",
       tags=VOL_TAGS, body={"type": "object", "properties": {
           "project_ids": {"type": "array", "items": {"type": "integer"}}, "year": {"type": "integer"}}},
       returns=schemas.MEMBER_YEAR)
def volunteers_member_projects(member_id: int):
    staff = community_staff(*ORGANISERS)
    member = member_of(staff, member_id)
    data = json_body()
    volunteers.choose_projects(member, data.get("project_ids"), data.get("year"), actor=("staff", staff.id))
    return jsonify(hours.member_year(member, data.get("year") or None))


@route("/volunteer-hours", summary="Hours entries (?member_id=, ?year=, ?kind=checkin|admin)", tags=VOL_TAGS,
       query={"member_id": {"type": "integer", "minimum": 1}, "year": YEAR_QUERY, "kind": {"type": "string"}},
       returns=schemas.VOLUNTEERS_HOURS,
       errors={404: ["not_found"]})
def volunteers_hours():
    staff = community_staff(*ORGANISERS)
    statement = select(HoursEntry).where(HoursEntry.community_id == staff.community_id,
                                         HoursEntry.year == year_arg())
    member_id = id_arg("member_id")
    if member_id is not None:
        statement = statement.where(HoursEntry.member_id == member_of(staff, member_id).id)
    kind = request.args.get("kind")
    if kind:
        if kind not in {k.value for k in HoursKind}:
            raise ValidationError("参数 kind 取值无效 (checkin, admin)", field="kind")
        statement = statement.where(HoursEntry.kind == kind)
    return jsonify(paginate(statement.order_by(HoursEntry.served_on, HoursEntry.id), hours.hours_view))


@route("/volunteer-hours", ["POST"], summary="Enter hours (kind admin; negative hours with a note correct earlier "
       "entries)", tags=VOL_TAGS, body=HOURS_BODY, responses={"201": {"description": "recorded"}},
       returns=schemas.VOLUNTEERS_HOURS_CREATE,
       errors={404: ["not_found"], 409: ["inactive", "negative_total"]})
def volunteers_hours_create():
    staff = community_staff(*ORGANISERS)
    data = json_body()
    member = member_of(staff, field(data, "member_id", int))
    entry = hours.record_admin_hours(member, staff, data)
    return jsonify(hours.hours_view(entry)), 201


@route("/volunteers/report", summary="The community's 双报到 report for a year (JSON)", tags=VOL_TAGS,
       query={"year": YEAR_QUERY}, returns=schemas.VOLUNTEERS_REPORT)
def volunteers_report():
    staff = community_staff(*ORGANISERS)
    return jsonify(report.community_report(db.session.get(Community, staff.community_id), year_arg()))


@route("/volunteers/export", summary="The report as an .xlsx workbook", tags=VOL_TAGS,
       query={"year": YEAR_QUERY},
       responses={"200": {"description": "xlsx", "content": {
           "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}}}})
def volunteers_export():
    staff = community_staff(*ORGANISERS)
    year = year_arg()
    community = db.session.get(Community, staff.community_id)
    data = report.export_xlsx(community, year)
    filename = f"volunteers-{community.id}-{year}.xlsx"
    return Response(data, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f"attachment; filename={filename}"})


# ---- micro-wishes (微心愿) ------------------------------------------------------------------

def _member_of_resident(resident: Resident) -> PartyMember:
    member = db.session.scalars(select(PartyMember).where(
        PartyMember.resident_id == resident.id, PartyMember.active.is_(True)).order_by(PartyMember.id)).first()
    if member is None:
        raise Forbidden("仅限已登记的报到党员和志愿者 (registered members only)")
    return member


@route("/my/wishes", ["POST"], summary="Post a micro-wish (微心愿)", auth="resident", tags=VOL_TAGS,
       body={"type": "object", "required": ["title"], "properties": {"title": {"type": "string"},
                                                                   "detail": {"type": "string"}}},
       responses={"201": {"description": "posted"}}, returns=schemas.WISH,
       errors={400: ["no_community"], 409: ["too_many"]})
def wishes_post():
    resident = current_resident()
    wish = wishes.post_wish(resident, json_body())
    return jsonify(wishes.wish_view(wish, viewer_resident_id=resident.id)), 201


@route("/my/wishes", summary="My micro-wishes", auth="resident", tags=VOL_TAGS, returns=schemas.WISHES_MINE)
def wishes_mine():
    resident = current_resident()
    statement = select(MicroWish).where(MicroWish.resident_id == resident.id).order_by(MicroWish.id.desc())
    return jsonify(paginate(statement, lambda w: wishes.wish_view(w, viewer_resident_id=resident.id)))


@route("/my/wishes/<int:wish_id>/cancel", ["POST"], summary="Withdraw my open micro-wish", auth="resident",
       tags=VOL_TAGS, returns=schemas.WISH,
       errors={409: ["already_claimed"]})
def wishes_cancel(wish_id: int):
    resident = current_resident()
    return jsonify(wishes.wish_view(wishes.cancel_wish(wish_id, resident), viewer_resident_id=resident.id))


@route("/wishes", summary="Micro-wishes of the community (staff: all, ?status=; members: the open ones)",
       auth="any", tags=VOL_TAGS, query={"status": {"type": "string"}}, returns=schemas.WISHES_LIST)
def wishes_list():
    if isinstance(g.subject, Staff):
        staff = community_staff(*ORGANISERS)
        statement = select(MicroWish).where(MicroWish.community_id == staff.community_id)
        status = request.args.get("status")
        if status:
            if status not in {s.value for s in WishStatus}:
                raise ValidationError("参数 status 取值无效", field="status")
            statement = statement.where(MicroWish.status == status)
        return jsonify(paginate(statement.order_by(MicroWish.id), lambda w: wishes.wish_view(w, for_staff=True)))
    resident = current_resident()
    member = _member_of_resident(resident)
    statement = select(MicroWish).where(MicroWish.community_id == member.community_id,
                                        MicroWish.status == WishStatus.OPEN.value).order_by(MicroWish.id)
    return jsonify(paginate(statement, lambda w: wishes.wish_view(w, viewer_resident_id=resident.id)))


@route("/wishes/<int:wish_id>/claim", ["POST"], summary="Claim a micro-wish (registered members)", auth="resident",
       tags=VOL_TAGS, returns=schemas.WISH, errors={403: ["inactive"], 409: ["already_claimed", "own_wish"]})
def wishes_claim(wish_id: int):
    resident = current_resident()
    wish = wishes.claim_wish(wish_id, _member_of_resident(resident))
    return jsonify(wishes.wish_view(wish, viewer_resident_id=resident.id))


@route("/wishes/<int:wish_id>/fulfil", ["POST"], summary="Mark a claimed micro-wish fulfilled (the claimer or "
       "an organiser)", auth="any", tags=VOL_TAGS,
       body={"type": "object", "properties": {"note": {"type": "string"}}}, returns=schemas.WISH,
       errors={403: ["not_claimer"], 409: ["not_claimed"]})
def wishes_fulfil(wish_id: int):
    data = request.get_json(silent=True) or {}
    note = data.get("note") if isinstance(data, dict) else None
    if isinstance(g.subject, Staff):
        staff = community_staff(*ORGANISERS)
        return jsonify(wishes.wish_view(wishes.fulfil_wish(wish_id, staff=staff, note=note), for_staff=True))
    resident = current_resident()
    wish = wishes.fulfil_wish(wish_id, member=_member_of_resident(resident), note=note)
    return jsonify(wishes.wish_view(wish, viewer_resident_id=resident.id))
