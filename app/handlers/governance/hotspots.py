"""Recurring problems in the requests (诉求热点): the same kind of problem in one building again and again.

Read-only over ``service_request`` (the requests domain owns it): the governance
domain takes ids and reads the rows, it never changes a request. A hot spot can
be promoted to the need list or raised as a deliberation topic in one step.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from app.clock import now
from app.extensions import db
from app.handlers.governance.errors import refuse
from app.models import Building, ServiceRequest
from app.models.requests import CATEGORY_LABELS

# Duplicates merged into another request and refused ones say nothing about a recurring need.
NOT_COUNTED = ("merged", "rejected")
DEFAULT_DAYS, DEFAULT_MIN_COUNT = 90, 3


@dataclass
class Hotspot:
    category: str
    building_id: int | None
    request_ids: list[int]
    # What a list shows of each request (id, code, title, status), read with the ids: no query per request.
    requests: list[dict[str, Any]] = field(default_factory=list)

    def view(self) -> dict[str, Any]:
        building = db.session.get(Building, self.building_id) if self.building_id else None
        place = building.name if building else "全社区"
        label = CATEGORY_LABELS.get(self.category, self.category)
        return {"category": self.category, "category_label": label, "building_id": self.building_id,
                "building": building.name if building else None, "count": len(self.request_ids),
                "request_ids": self.request_ids,
                "requests": list(self.requests),
                "suggested_title": f"{place}{label}问题反复出现（{len(self.request_ids)}件）"}


def hotspots(community_id: int, *, days: int = DEFAULT_DAYS, min_count: int = DEFAULT_MIN_COUNT) -> list[Hotspot]:
    """Categories that came back at least ``min_count`` times in one building within ``days`` days."""
    since = now() - timedelta(days=days)
    rows = db.session.execute(select(ServiceRequest.id, ServiceRequest.category, ServiceRequest.building_id,
                                     ServiceRequest.code, ServiceRequest.title, ServiceRequest.status).where(
        ServiceRequest.community_id == community_id, ServiceRequest.created_at >= since,
        ServiceRequest.status.not_in(NOT_COUNTED), ServiceRequest.building_id.is_not(None))
        .order_by(ServiceRequest.id)).all()
    groups: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for request_id, category, building_id, code, title, status in rows:
        groups.setdefault((category, building_id), []).append(
            {"id": request_id, "code": code, "title": title, "status": status})
    found = [Hotspot(category, building_id, [r["id"] for r in shown], shown)
             for (category, building_id), shown in groups.items() if len(shown) >= min_count]
    return sorted(found, key=lambda h: (-len(h.request_ids), h.category, h.building_id or 0))


def requests_in(community_id: int, request_ids: list[int], field: str = "request_ids") -> list[ServiceRequest]:
    """The requests named, all of this community (a foreign or unknown id is refused by number)."""
    if not request_ids:
        raise refuse("请选择要汇总的诉求", field=field)
    rows = {r.id: r for r in db.session.scalars(select(ServiceRequest).where(ServiceRequest.id.in_(request_ids)))}
    missing = [rid for rid in request_ids if rid not in rows or rows[rid].community_id != community_id]
    if missing:
        raise refuse(f"没有找到诉求：{', '.join(map(str, missing))}", "not_found", 404, field=field)
    return [rows[rid] for rid in request_ids]


def common_building(requests: list[ServiceRequest]) -> int | None:
    counts = Counter(r.building_id for r in requests if r.building_id is not None)
    return counts.most_common(1)[0][0] if counts else None


def default_title(requests: list[ServiceRequest]) -> str:
    building_id = common_building(requests)
    building = db.session.get(Building, building_id) if building_id else None
    category = Counter(r.category for r in requests).most_common(1)[0][0]
    label = CATEGORY_LABELS.get(category, category)
    return f"{building.name if building else '社区'}{label}问题（{len(requests)}件诉求汇总）"
