"""Matching help: for a need, the resources that fit — by kind, words, time, distance and quantity — explained.

The score is a plain sum the staff can follow (each reason says what it added);
nothing is assigned automatically: the community assigns a resource it chooses.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from app.clock import now
from app.handlers.governance import claims, geo, resources, schedule, units
from app.localtime import local_date
from app.models import Need, Resource
from app.models.governance import RESOURCE_KINDS

NEAR_METRES, WALK_METRES = 500, 1500
# Words too common to say two texts are about the same thing.
STOP = {"社区", "居民", "服务", "需要", "提供", "帮助", "问题", "活动", "志愿", "我们", "一个", "可以"}


@dataclass
class Match:
    resource: Resource
    score: float = 0.0
    reasons: list[str] = field(default_factory=list)
    fits: bool = True

    def add(self, points: float, reason: str) -> None:
        self.score += points
        self.reasons.append(reason)


def _words(*texts: str | None) -> set[str]:
    """Two-character pieces of the Chinese text, and whole Latin words: enough to see shared topics."""
    found: set[str] = set()
    for text in texts:
        for run in re.findall(r"[\u4e00-\u9fff]+", text or ""):
            found.update(run[i:i + 2] for i in range(len(run) - 1))
        found.update(w.lower() for w in re.findall(r"[A-Za-z]{2,}", text or ""))
    return found - STOP


def suggest(need: Need, *, limit: int = 10) -> list[Match]:
    """The active resources of the need's community, best fit first (those that cannot fit last)."""
    today = local_date(now())
    claimed = {(c.unit_id, c.member_id) for c in claims.active_claims(need.id)}
    need_point = units.building_point(need.building_id)
    need_words = _words(need.title, need.detail, " ".join(need.tags or []))
    need_tags = set(need.tags or [])
    want = schedule.Window.of(need, None, "wanted_by")
    rows = resources.resources(need.community_id)
    drawn = resources.used([r.id for r in rows])
    found = []
    for resource in rows:
        match = Match(resource)
        if not _kind_and_words(match, need, need_words, need_tags):
            continue
        _time(match, schedule.Window.of(resource, "available_from", "available_until"), want, today)
        _distance(match, need_point, units.party_location(resource.unit_id, resource.member_id))
        _quantity(match, need, resources.remaining(resource, drawn.get(resource.id, 0.0)))
        if (resource.unit_id, resource.member_id) in claimed:
            match.reasons.append("该单位/党员已认领此需求")
        found.append(match)
    found.sort(key=lambda m: (not m.fits, -m.score, m.resource.id))
    return found[:limit]


def _kind_and_words(match: Match, need: Need, need_words: set[str], need_tags: set[str]) -> bool:
    resource = match.resource
    shared_tags = sorted(need_tags & set(resource.tags or []))
    shared = sorted(need_words & _words(resource.title, resource.detail, " ".join(resource.tags or [])))
    if resource.kind == need.kind:
        match.add(3, f"类型相符：{RESOURCE_KINDS.get(resource.kind, resource.kind)}（+3）")
    elif not shared_tags and len(shared) < 2:
        return False   # another kind and nothing in common: not a candidate at all
    else:
        match.reasons.append(f"类型不同（{RESOURCE_KINDS.get(resource.kind, resource.kind)}），但内容相关")
    if shared_tags:
        match.add(min(2 * len(shared_tags), 4), f"关键词相同：{'、'.join(shared_tags)}（+{min(2 * len(shared_tags), 4)}）")
    elif shared:
        points = min(len(shared), 3)
        match.add(points, f"内容相近：{'、'.join(shared[:4])}（+{points}）")
    return True


def _time(match: Match, offer: schedule.Window, want: schedule.Window, today) -> None:
    fits, reason = schedule.fit(offer, want, today)
    if fits:
        match.add(1, f"{reason}（+1）")
    else:
        match.fits = False
        match.add(-3, f"时间不合适：{reason}（-3）")


def _distance(match: Match, need_point, offer_point) -> None:
    if need_point is None or offer_point is None:
        match.reasons.append("距离未知（楼栋或单位未标注位置）")
        return
    metres = geo.distance_m(need_point, offer_point)
    if metres <= NEAR_METRES:
        match.add(2, f"距离{geo.distance_text(metres)}，步行可达（+2）")
    elif metres <= WALK_METRES:
        match.add(1, f"距离{geo.distance_text(metres)}（+1）")
    else:
        match.reasons.append(f"距离{geo.distance_text(metres)}，较远")


def _quantity(match: Match, need: Need, left: float | None) -> None:
    resource = match.resource
    if left is None:
        return
    if left <= 0:
        match.fits = False
        match.add(-3, "已全部用完（-3）")
        return
    enough = need.quantity is None or (need.quantity_unit == resource.quantity_unit and left >= need.quantity)
    if enough and need.quantity is not None:
        match.add(1, f"剩余{left:g}{resource.quantity_unit or ''}，够用（+1）")
    elif need.quantity is not None and need.quantity_unit == resource.quantity_unit:
        match.reasons.append(f"剩余{left:g}{resource.quantity_unit or ''}，不足需要的{need.quantity:g}")
    else:
        match.reasons.append(f"剩余{left:g}{resource.quantity_unit or ''}")


def match_view(match: Match) -> dict[str, Any]:
    return {"resource": resources.resource_view(match.resource), "score": round(match.score, 1),
            "fits": match.fits, "reasons": match.reasons}
