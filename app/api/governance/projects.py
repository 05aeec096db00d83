"""项目清单: co-building projects, their progress and counted contributions; the year's report and workbook."""
from __future__ import annotations

from urllib.parse import quote

from flask import Response, jsonify, request

from app.api.governance.common import EDITORS, TAGS, VIEWERS, YEAR_QUERY, community_for_report, staff_of, year
from app.api.governance.lists import PARTY_FIELDS
from app.api.schemas import governance_lists as schemas
from app.api.support import json_body, route
from app.handlers.governance import contributions, export, projects, report
from app.models.governance import PROJECT_STATUSES

# What the handlers' reads do not say (app/api/openapi_bodies.py derives the rest).
PROJECT_BODY = {"type": "object", "properties": {"lead_unit_id": {"type": "integer"}}}
CONTRIBUTION_BODY = {"type": "object", "properties": {
    **PARTY_FIELDS, "quantity": {"description": "negative to correct an earlier entry (with a note)"},
    "resource_id": {"type": "integer"}}}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@route("/projects", summary="项目清单", tags=TAGS,
       query={"status": {"type": "string", "enum": list(PROJECT_STATUSES)}}, returns=schemas.PROJECTS)
def list_projects():
    staff = staff_of(*VIEWERS)
    rows = projects.projects(staff.community_id, status=request.args.get("status") or None)
    return jsonify({"items": [projects.project_view(p) for p in rows]})


@route("/projects/<int:project_id>", summary="项目详情：进展、参与方、贡献", tags=TAGS, returns=schemas.PROJECT)
def get_project(project_id: int):
    staff = staff_of(*VIEWERS)
    return jsonify(projects.project_view(projects.project_in(staff.community_id, project_id), detail=True))


@route("/projects/<int:project_id>", ["PATCH"], summary="修改项目（方案、负责人、期限）", tags=TAGS, body=PROJECT_BODY,
       returns=schemas.PROJECT,
       errors={409: ["invalid_state"]})
def update_project_line(project_id: int):
    staff = staff_of(*EDITORS)
    project = projects.update_project(projects.project_in(staff.community_id, project_id), json_body(), staff)
    return jsonify(projects.project_view(project, detail=True))


@route("/projects/<int:project_id>/progress", ["POST"], summary="报告项目进展", tags=TAGS,
       body={"type": "object"},
       responses={"201": {"description": "recorded"}}, returns=schemas.PROJECT,
       errors={409: ["invalid_state"]})
def report_project_progress(project_id: int):
    staff = staff_of(*EDITORS)
    project = projects.project_in(staff.community_id, project_id)
    projects.report_progress(project, json_body(), staff)
    return jsonify(projects.project_view(project, detail=True)), 201


@route("/projects/<int:project_id>/complete", ["POST"], summary="项目完成", tags=TAGS,
       body={"type": "object"}, returns=schemas.PROJECT,
       errors={409: ["invalid_state"]})
def complete_project_line(project_id: int):
    staff = staff_of(*EDITORS)
    project = projects.complete_project(projects.project_in(staff.community_id, project_id), json_body(), staff)
    return jsonify(projects.project_view(project, detail=True))


@route("/projects/<int:project_id>/cancel", ["POST"], summary="取消项目（需求回到清单）", tags=TAGS,
       body={"type": "object", "required": ["reason"], "properties": {"reason": {"type": "string"}}},
       returns=schemas.PROJECT,
       errors={409: ["invalid_state"]})
def cancel_project_line(project_id: int):
    staff = staff_of(*EDITORS)
    project = projects.project_in(staff.community_id, project_id)
    return jsonify(projects.project_view(projects.cancel_project(project, json_body().get("reason"), staff)))


@route("/projects/<int:project_id>/contributions", summary="项目贡献明细", tags=TAGS, returns=schemas.PROJECT_CONTRIBUTIONS)
def list_project_contributions(project_id: int):
    staff = staff_of(*VIEWERS)
    project = projects.project_in(staff.community_id, project_id)
    rows = contributions.contributions(staff.community_id, project_id=project.id)
    return jsonify({"items": [contributions.contribution_view(c) for c in rows], "totals": projects.totals(project.id)})


@route("/projects/<int:project_id>/contributions", ["POST"], summary="记录单位或党员的贡献（时长、物资、资金…）",
       tags=TAGS, body=CONTRIBUTION_BODY, responses={"201": {"description": "recorded"}},
       returns=schemas.RECORD_PROJECT_CONTRIBUTION,
       errors={400: ["inactive", "negative_total"], 409: ["invalid_state", "not_partner"]})
def record_project_contribution(project_id: int):
    staff = staff_of(*EDITORS)
    project = projects.project_in(staff.community_id, project_id)
    entry = contributions.record_contribution(project, json_body(), staff)
    return jsonify(contributions.contribution_view(entry)), 201


@route("/governance/report", summary="共建共治年度统计（单位、党员、清单、议事）", tags=TAGS,
       query={"year": YEAR_QUERY, "community_id": {"type": "integer", "description": "street admins"}},
       returns=schemas.GOVERNANCE_REPORT, errors={404: ["not_found"]})
def governance_report():
    community, _staff = community_for_report()
    return jsonify(report.community_report(community, year()))


@route("/governance/export", summary="导出街道上报用的 Excel 统计表", tags=TAGS,
       query={"year": YEAR_QUERY, "community_id": {"type": "integer", "description": "street admins"}},
       responses={"200": {"description": "the workbook", "content": {XLSX: {}}}},
       errors={404: ["not_found"]})
def governance_export():
    community, staff = community_for_report()
    the_year = year()
    name = f"{community.name}-{the_year}年度共建共治统计表.xlsx"
    return Response(export.export_xlsx(community, the_year, staff), mimetype=XLSX, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})
