"""Console pages of 共建共治: the resource list (with the partner units), the need list with 双向认领
and matching help, the project list with progress and counted contributions, the year's workbook.

The same handlers, roles and scoping as app/api/governance: the staff member's community,
VIEWERS to look, EDITORS to keep the lists (COLLECTORS may also enter a need). Another
community's row is "not found" (the handlers' own check).
"""
from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from app.clock import now
from app.errors import NotFound
from app.extensions import db
from app.handlers.governance import (
    claims,
    contributions,
    export,
    hotspots,
    matching,
    needs,
    projects,
    resources,
    units,
)
from app.handlers.governance.roles import COLLECTORS, EDITORS, VIEWERS
from app.localtime import FIRST_YEAR, LAST_YEAR, local_date
from app.models import Building, BuildingLocation, Community, Need, PartyMember, Resident, Staff
from app.models.governance import (
    CONTRIBUTION_KINDS,
    NEED_STATUSES,
    PROJECT_STATUSES,
    RESOURCE_KINDS,
    UNIT_KINDS,
)
from app.web.govforms import form_body, form_ids, submit, typed
from app.web.login import current_staff, staff_required
from app.web.support import preload, protect

bp = protect(Blueprint("web_gov", __name__, url_prefix="/console"))

WEEKDAYS = {1: "一", 2: "二", 3: "三", 4: "四", 5: "五", 6: "六", 7: "日"}
HOTSPOTS_SHOWN = 12
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _parties(community_id: int) -> dict:
    """The selects of a form (active units, 双报到 members, colleagues), and every unit and member of the
    community under ``party_rows``: loaded in one query each and held while the page renders, so the views'
    lookups by id (a resource's owner, a claim's party) find them in the session instead of one query each.
    Build the views after calling this."""
    all_units = units.units(community_id)
    members = db.session.scalars(select(PartyMember).where(
        PartyMember.community_id == community_id).order_by(PartyMember.id)).all()
    colleagues = db.session.scalars(select(Staff).where(
        Staff.community_id == community_id, Staff.active.is_(True)).order_by(Staff.id)).all()
    return {"units": [u for u in all_units if u.active], "members": [m for m in members if m.active],
            "colleagues": colleagues, "all_units": all_units, "party_rows": [*all_units, *members],
            "resource_kinds": RESOURCE_KINDS, "unit_kinds": UNIT_KINDS, "weekday_names": WEEKDAYS,
            "can_edit": current_staff().has_role(*EDITORS)}


def hotspot_views(community_id: int) -> tuple[list[dict], list]:
    """The most recurring hot spots (their requests come with them), their buildings loaded in one query."""
    found = hotspots.hotspots(community_id)[:HOTSPOTS_SHOWN]
    loaded = preload(Building, (h.building_id for h in found))
    return [h.view() for h in found], loaded


# ---- 资源清单 · 共建单位 ----------------------------------------------------------------------

def _resources_context(staff: Staff, *, error: str | None = None, form: str | None = None) -> dict:
    parties = _parties(staff.community_id)
    rows = resources.resources(staff.community_id, status=None)
    return {"resources": resources.resource_views(rows), "error": error, "failed_form": form, "typed": typed() if error else {}, **parties}


@bp.get("/resources")
@staff_required(*VIEWERS)
def resources_page():
    return render_template("console/gov_resources.html", **_resources_context(current_staff()))


@bp.post("/resources")
@staff_required(*EDITORS)
def resource_register():
    staff = current_staff()

    def register():
        row = resources.register_resource(staff.community_id, form_body(numbers=("quantity",)), staff)
        return f"已登记资源“{row.title}”。", url_for("web_gov.resources_page") + f"#resource-{row.id}"

    return submit(register, "console/gov_resources.html",
                  lambda error: _resources_context(staff, error=error, form="resource"))


@bp.post("/resources/<int(max=9223372036854775807):resource_id>/withdraw")
@staff_required(*EDITORS)
def resource_withdraw(resource_id: int):
    staff = current_staff()
    row = resources.resource_in(staff.community_id, resource_id)
    resources.update_resource(row, {"status": "withdrawn"}, staff)
    flash(f"资源“{row.title}”已撤回。", "ok")
    return redirect(url_for("web_gov.resources_page"))


@bp.post("/units")
@staff_required(*EDITORS)
def unit_register():
    staff = current_staff()

    def register():
        unit = units.register_unit(staff.community_id, form_body(numbers=("lat", "lng")), staff)
        return f"已登记共建单位“{unit.name}”，可以为它登记资源了。", url_for("web_gov.resources_page") + "#units"

    return submit(register, "console/gov_resources.html",
                  lambda error: _resources_context(staff, error=error, form="unit"))


# ---- 需求清单 ----------------------------------------------------------------------------------

def _needs_context(staff: Staff, *, error: str | None = None) -> dict:
    parties = _parties(staff.community_id)
    which = request.args.get("status") or "active"
    status = ["open", "claimed", "in_project"] if which == "active" else [which] if which in NEED_STATUSES else None
    taken = needs.requests_on_list(staff.community_id)
    found, loaded = hotspot_views(staff.community_id)  # noqa: F841 - rows kept alive for the views
    spots = [{**view, "on_list": bool(set(view["request_ids"]) & taken)} for view in found]
    return {"needs": [needs.need_view(n) for n in needs.needs(staff.community_id, status=status)], "which": which,
            "statuses": NEED_STATUSES, "hotspots": spots, "error": error, "typed": typed() if error else {},
            "can_collect": staff.has_role(*COLLECTORS), **parties}


@bp.get("/needs")
@staff_required(*VIEWERS)
def needs_page():
    return render_template("console/gov_needs.html", **_needs_context(current_staff()))


def _list_refused(staff: Staff):
    return lambda error: _needs_context(staff, error=error)


@bp.post("/needs")
@staff_required(*COLLECTORS)
def need_create():
    staff = current_staff()

    def create():
        need = needs.create_need(staff.community_id, form_body(ints=("building_id", "beneficiaries"),
                                                               numbers=("quantity",)), staff)
        return f"需求“{need.title}”已加入需求清单。", url_for("web_gov.need_page", need_id=need.id)

    return submit(create, "console/gov_needs.html", _list_refused(staff))


@bp.post("/needs/from-requests")
@staff_required(*EDITORS)
def need_from_requests():
    staff = current_staff()

    def promote():
        ids = form_ids("request_ids")
        need = needs.promote_requests(staff.community_id, ids, form_body(skip=("request_ids",)), staff)
        return f"已把 {len(ids)} 件诉求汇总为需求“{need.title}”。", url_for("web_gov.need_page", need_id=need.id)

    return submit(promote, "console/gov_needs.html", _list_refused(staff))


def _need_context(staff: Staff, need_id: int, *, error: str | None = None, action: str | None = None) -> dict:
    parties = _parties(staff.community_id)
    need = needs.need_in(staff.community_id, need_id)
    # What the matching help reads by id for each resource: where its member lives, where buildings stand.
    places = preload(Resident, (m.resident_id for m in parties["members"])) + \
        list(db.session.scalars(select(BuildingLocation).where(BuildingLocation.community_id == staff.community_id)))
    return {"need": needs.need_view(need), "matches": [matching.match_view(m) for m in matching.suggest(need)],
            "resources": resources.resource_views(resources.resources(staff.community_id)),
            "error": error, "failed_action": action, "typed": typed() if error else {}, "places": places,
            "today": local_date(now()).isoformat(), **parties}


@bp.get("/needs/<int(max=9223372036854775807):need_id>")
@staff_required(*VIEWERS)
def need_page(need_id: int):
    return render_template("console/gov_need.html", **_need_context(current_staff(), need_id))


def _need_action(action: str, staff: Staff, need) -> tuple[str, str]:
    here = url_for("web_gov.need_page", need_id=need.id)
    if action == "claim":
        claim, created = claims.claim_need(need, form_body(ints=("resource_id",)), staff)
        return (f"已登记{claim_party(claim)}认领。" if created else "这一方已经认领过了。"), here
    if action == "assign":
        claim, created = claims.assign_resource(need, form_body(ints=("resource_id",)), staff)
        return (f"已把资源指派给这个需求，{claim_party(claim)}成为参与方。" if created
                else "这项资源已经指派过了。"), here
    if action == "withdraw":
        body = form_body(ints=("claim_id",))
        claims.withdraw_claim(claims.claim_in(need, body.get("claim_id")), body.get("reason"), staff)
        return "认领已撤回。", here
    if action == "project":
        project = projects.start_project(need, form_body(ints=("owner_staff_id", "lead_unit_id", "beneficiaries")),
                                         staff)
        return f"已立项：{project.code}。", url_for("web_gov.project_page", project_id=project.id)
    needs.close_need(need, form_body().get("reason"), staff)
    return "需求已关闭。", here


def claim_party(claim) -> str:
    return units.party_name(claim.unit_id, claim.member_id)


@bp.post("/needs/<int(max=9223372036854775807):need_id>/<action>")
@staff_required(*EDITORS)
def need_action(need_id: int, action: str):
    if action not in ("claim", "assign", "withdraw", "project", "close"):
        raise NotFound("没有这个操作")
    staff = current_staff()
    need = needs.need_in(staff.community_id, need_id)
    return submit(lambda: _need_action(action, staff, need), "console/gov_need.html",
                  lambda error: _need_context(staff, need_id, error=error, action=action))


# ---- 项目清单 ----------------------------------------------------------------------------------

@bp.get("/projects")
@staff_required(*VIEWERS)
def projects_page():
    staff = current_staff()
    which = request.args.get("status") or ""
    rows = projects.projects(staff.community_id, status=which if which in PROJECT_STATUSES else None)
    return render_template("console/gov_projects.html", projects=[projects.project_view(p) for p in rows],
                           which=which, statuses=PROJECT_STATUSES, year=local_date(now()).year)


def _project_context(staff: Staff, project_id: int, *, error: str | None = None, action: str | None = None) -> dict:
    parties = _parties(staff.community_id)
    project = projects.project_in(staff.community_id, project_id)
    view = projects.project_view(project, detail=True)
    entries = contributions.contributions(staff.community_id, project_id=project.id)
    return {"project": view, "need": needs.need_view(db.session.get(Need, project.need_id)),
            "entries": [contributions.contribution_view(c) for c in entries],
            "contribution_kinds": CONTRIBUTION_KINDS, "error": error, "failed_action": action,
            "typed": typed() if error else {}, "today": local_date(now()).isoformat(), **parties}


@bp.get("/projects/<int(max=9223372036854775807):project_id>")
@staff_required(*VIEWERS)
def project_page(project_id: int):
    return render_template("console/gov_project.html", **_project_context(current_staff(), project_id))


def _project_action(action: str, staff: Staff, project) -> str:
    if action == "progress":
        projects.report_progress(project, form_body(ints=("progress",)), staff)
        return f"进度已更新为 {project.progress}%。"
    if action == "contribute":
        entry = contributions.record_contribution(project, form_body(numbers=("quantity",)), staff)
        return f"已记录{units.party_name(entry.unit_id, entry.member_id)}的贡献：{entry.quantity:g}{entry.quantity_unit}。"
    if action == "complete":
        projects.complete_project(project, form_body(ints=("beneficiaries",)), staff)
        return f"项目 {project.code} 已完成，需求随之完成。"
    projects.cancel_project(project, form_body().get("reason"), staff)
    return f"项目 {project.code} 已取消，需求回到清单。"


@bp.post("/projects/<int(max=9223372036854775807):project_id>/<action>")
@staff_required(*EDITORS)
def project_action(project_id: int, action: str):
    if action not in ("progress", "contribute", "complete", "cancel"):
        raise NotFound("没有这个操作")
    staff = current_staff()
    project = projects.project_in(staff.community_id, project_id)
    return submit(lambda: (_project_action(action, staff, project),
                           url_for("web_gov.project_page", project_id=project_id)),
                  "console/gov_project.html",
                  lambda error: _project_context(staff, project_id, error=error, action=action))


@bp.get("/governance/export.xlsx")
@staff_required(*VIEWERS)
def governance_export():
    staff = current_staff()
    year = request.args.get("year", type=int) or local_date(now()).year
    if not FIRST_YEAR <= year <= LAST_YEAR:
        year = local_date(now()).year
    community = db.session.get(Community, staff.community_id)
    name = f"{community.name}-{year}年度共建共治统计表.xlsx"
    return Response(export.export_xlsx(community, year, staff), mimetype=XLSX, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})
