"""The year's co-governance report as the workbook a street office sends upward (openpyxl).

Each sheet is a 统计表 as offices fill them in: a merged title row
(“红梅街道富强新村社区2026年度……统计表”), a line with 填报单位 and 填报日期, a
header row, the numbered rows (序号), a 合计 row where sums make sense, and the
填表人 line at the foot.
"""
from __future__ import annotations

import io
import re
from typing import Any, BinaryIO, Iterable

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from sqlalchemy import select

from app.clock import now
from app.extensions import db
from app.handlers.governance import needs, projects, report, resources, votes
from app.localtime import to_local
from app.models import Community, Need, Project, Staff, Street, Topic
from app.models.deliberation import STAGES, TOPIC_SOURCES

# What a cell cannot hold (openpyxl refuses control characters; names and notes come from chats).
ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
THIN = Side(style="thin", color="999999")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
KIND_LABELS = {"party": "在职党员", "volunteer": "志愿者"}


def _clean(value: Any) -> Any:
    return ILLEGAL.sub("", value) if isinstance(value, str) else value


class Sheet:
    """One 统计表: title, 填报 line, header, rows, totals."""

    def __init__(self, wb: Workbook, name: str, title: str, filler: str, headers: list[str], widths: list[int],
                 first: bool = False):
        self.ws = wb.active if first else wb.create_sheet()
        self.ws.title = name
        self.headers = headers
        self.rows = 0
        last = get_column_letter(len(headers))
        self.ws.append([title])
        self.ws.merge_cells(f"A1:{last}1")
        self.ws["A1"].font = Font(bold=True, size=14)
        self.ws["A1"].alignment = Alignment(horizontal="center")
        self.ws.append([filler])
        self.ws.merge_cells(f"A2:{last}2")
        self.ws.append(headers)
        for cell in self.ws[3]:
            cell.font, cell.border = Font(bold=True), BORDER
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        for index, width in enumerate(widths, start=1):
            self.ws.column_dimensions[get_column_letter(index)].width = width
        self.ws.freeze_panes = "A4"

    def add(self, values: Iterable[Any]) -> None:
        self.rows += 1
        self.ws.append([self.rows, *(_clean(v) for v in values)])
        for cell in self.ws[self.ws.max_row]:
            cell.border = BORDER

    def total(self, sums: dict[int, float]) -> None:
        """A 合计 row: ``sums`` maps a column number (1-based) to its total."""
        row = ["合计"] + [""] * (len(self.headers) - 1)
        for column, value in sums.items():
            row[column - 1] = round(value, 2)
        self.ws.append(row)
        for cell in self.ws[self.ws.max_row]:
            cell.font, cell.border = Font(bold=True), BORDER

    def foot(self, text: str) -> None:
        self.ws.append([])
        self.ws.append([text])


def export_xlsx(community: Community, year: int, staff: Staff | None = None,
                out: BinaryIO | str | None = None) -> bytes | None:
    """Sheets: 汇总表, 共建单位, 在职党员, 项目清单, 需求清单, 资源清单, 议事记录. Bytes when ``out`` is None."""
    data = report.community_report(community, year)
    street = db.session.get(Street, community.street_id)
    prefix = f"{street.name if street else ''}{community.name}{year}年度"
    filler = f"填报单位（盖章）：{community.name}党组织    填报日期：{to_local(now()):%Y年%m月%d日}"
    foot = f"填表人：{staff.name if staff else ''}    联系电话：{community.phone or ''}    审核人："
    wb = Workbook()
    _summary_sheet(wb, prefix, filler, foot, data["summary"])
    _unit_sheet(wb, prefix, filler, foot, data["units"])
    _member_sheet(wb, prefix, filler, foot, data["members"])
    _project_sheet(wb, prefix, filler, foot, community.id, year)
    _need_sheet(wb, prefix, filler, foot, community.id, year)
    _resource_sheet(wb, prefix, filler, foot, community.id)
    _topic_sheet(wb, prefix, filler, foot, community.id, year)
    if out is None:
        buffer = io.BytesIO()
        wb.save(buffer)
        return buffer.getvalue()
    wb.save(out)
    return None


def _summary_sheet(wb, prefix, filler, foot, s: dict) -> None:
    sheet = Sheet(wb, "汇总表", f"{prefix}共建共治工作情况汇总表", filler, ["序号", "项目", "数量", "单位"],
                  [8, 36, 14, 10], first=True)
    for label, value, unit in (
            ("共建单位（驻区单位）", s["units"], "家"), ("其中参与共建的单位", s["units_contributing"], "家"),
            ("报到在职党员", s["members"], "名"), ("其中参与认领或服务的党员", s["members_contributing"], "名"),
            ("资源清单（可用资源）", s["resources"], "项"), ("需求清单（本年新增）", s["needs"], "项"),
            ("其中已认领", s["needs_claimed"], "项"), ("共建项目（本年立项）", s["projects_started"], "个"),
            ("其中已完成", s["projects_done"], "个"), ("项目服务时长", s["hours"], "小时"),
            ("受益群众", s["beneficiaries"], "人次"), ("议事议题", s["topics"], "个"),
            ("其中已办结", s["topics_closed"], "个"), ("网上茶馆会投票", s["votes"], "人次"),
            ("百姓说事（收集建议）", s["suggestions"], "条"), ("其中已公开答复", s["suggestions_answered"], "条")):
        sheet.add([label, value, unit])
    sheet.foot(foot)


def _unit_sheet(wb, prefix, filler, foot, rows: list) -> None:
    sheet = Sheet(wb, "共建单位", f"{prefix}驻区单位参与社区共建情况统计表", filler,
                  ["序号", "单位名称", "单位类型", "联系人", "联系电话", "登记资源（项）", "认领需求（项）",
                   "参与项目（个）", "服务时长（小时）", "投入物资/资金", "备注"],
                  [6, 28, 12, 10, 16, 12, 12, 12, 14, 24, 10])
    for r in rows:
        sheet.add([r["name"], r["kind"], r["contact_name"] or "", r["phone"] or "", r["resources"],
                   r["needs_claimed"], r["projects"], r["hours"], r["other"], "" if r["active"] else "已停用"])
    sheet.total({6: sum(r["resources"] for r in rows), 7: sum(r["needs_claimed"] for r in rows),
                 8: sum(r["projects"] for r in rows), 9: sum(r["hours"] for r in rows)})
    sheet.foot(foot)


def _member_sheet(wb, prefix, filler, foot, rows: list) -> None:
    sheet = Sheet(wb, "在职党员", f"{prefix}在职党员到社区报到服务情况统计表", filler,
                  ["序号", "姓名", "类型", "工作单位", "所在党组织", "认领需求（项）", "参与项目（个）",
                   "项目服务时长（小时）", "志愿服务总时长（小时）", "其他贡献"],
                  [6, 10, 10, 24, 24, 12, 12, 16, 18, 20])
    for r in rows:
        sheet.add([r["name"], KIND_LABELS.get(r["kind"], r["kind"]), r["work_unit"] or "", r["party_org"] or "",
                   r["needs_claimed"], r["projects"], r["project_hours"], r["volunteer_hours"], r["other"]])
    sheet.total({6: sum(r["needs_claimed"] for r in rows), 7: sum(r["projects"] for r in rows),
                 8: sum(r["project_hours"] for r in rows), 9: sum(r["volunteer_hours"] for r in rows)})
    sheet.foot(foot)


def _project_sheet(wb, prefix, filler, foot, community_id: int, year: int) -> None:
    start, end = report.year_bounds(year)
    sheet = Sheet(wb, "项目清单", f"{prefix}共建项目清单", filler,
                  ["序号", "项目编号", "项目名称", "来源需求", "牵头单位", "参与方", "负责人", "计划完成", "状态",
                   "进度", "服务时长（小时）", "受益人数"],
                  [6, 12, 26, 26, 20, 30, 10, 12, 10, 8, 14, 10])
    rows = [p for p in projects.projects(community_id) if start <= p.created_at < end or p.status == "in_progress"]
    hours = 0.0
    for project in sorted(rows, key=lambda p: p.code):
        view = projects.project_view(project)
        need = db.session.get(Need, project.need_id)
        hours += view["hours"]
        sheet.add([project.code, project.title, need.title if need else "",
                   view["lead_unit"]["name"] if view["lead_unit"] else "",
                   "、".join(p["name"] for p in view["partners"]), (view["owner"] or {}).get("name", ""),
                   view["deadline"] or "", view["status_label"], f"{project.progress}%", view["hours"],
                   project.beneficiaries or ""])
    sheet.total({11: hours})
    sheet.foot(foot)


def _need_sheet(wb, prefix, filler, foot, community_id: int, year: int) -> None:
    start, end = report.year_bounds(year)
    sheet = Sheet(wb, "需求清单", f"{prefix}居民需求清单", filler,
                  ["序号", "需求名称", "需要资源", "来源", "楼栋", "时间要求", "状态", "认领单位/党员", "共建项目"],
                  [6, 28, 10, 10, 10, 24, 10, 30, 12])
    for need in needs.needs(community_id)[::-1]:
        if not (start <= need.created_at < end) and need.status not in ("open", "claimed", "in_project"):
            continue
        view = needs.need_view(need)
        project = db.session.get(Project, view["project_id"]) if view["project_id"] else None
        sheet.add([need.title, view["kind_label"], view["source_label"], view["building"] or "", view["when"],
                   view["status_label"], "、".join(c["party"]["name"] for c in view["claims"] if c["status"] == "active"),
                   project.code if project else ""])
    sheet.foot(foot)


def _resource_sheet(wb, prefix, filler, foot, community_id: int) -> None:
    sheet = Sheet(wb, "资源清单", f"{prefix}共建资源清单", filler,
                  ["序号", "资源名称", "类型", "提供方", "可用时间", "数量", "剩余", "说明"],
                  [6, 26, 10, 24, 30, 10, 10, 30])
    for view in resources.resource_views(resources.resources(community_id)):
        amount = f"{view['quantity']:g}{view['quantity_unit'] or ''}" if view["quantity"] is not None else "不限"
        left = f"{view['remaining']:g}{view['quantity_unit'] or ''}" if view["remaining"] is not None else ""
        sheet.add([view["title"], view["kind_label"], view["owner"]["name"], view["when"], amount, left,
                   view["detail"] or ""])
    sheet.foot(foot)


def _topic_sheet(wb, prefix, filler, foot, community_id: int, year: int) -> None:
    start, end = report.year_bounds(year)
    sheet = Sheet(wb, "议事记录", f"{prefix}“四方五步”议事情况登记表", filler,
                  ["序号", "议题", "来源", "所处步骤", "支持", "反对", "弃权", "议事决定", "负责人", "完成期限", "满意度"],
                  [6, 28, 12, 12, 8, 8, 8, 36, 10, 12, 12])
    topics = db.session.scalars(select(Topic).where(Topic.community_id == community_id, Topic.created_at >= start,
                                                    Topic.created_at < end).order_by(Topic.number))
    for topic in topics:
        vote = {c["choice"]: c["count"] for c in votes.result(topic, "vote")["counts"]}
        review = votes.result(topic, "review")
        rated = review["total"]
        pleased = sum(c["count"] for c in review["counts"] if c["choice"] in ("satisfied", "basically"))
        owner = db.session.get(Staff, topic.owner_staff_id) if topic.owner_staff_id else None
        sheet.add([f"{topic.label} {topic.title}", TOPIC_SOURCES.get(topic.source, topic.source),
                   STAGES.get(topic.stage, topic.stage), vote.get("support", 0), vote.get("oppose", 0),
                   vote.get("abstain", 0), topic.decision or "", owner.name if owner else "",
                   topic.deadline.isoformat() if topic.deadline else "",
                   f"{pleased}/{rated}" if rated else ""])
    sheet.foot(foot)
