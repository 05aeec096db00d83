"""The dashboard's numbers (一目了然): 三率 and the one-hour reply rate per community, grid and staff
member, grid-level share, overdue and 督办 counts, category trends and hot spots (会商研判).

Rates come from the domains' own definitions (``requests.request_stats``, ``sla.summarise``),
so the dashboard, the board and the API agree. A community, grid or person with fewer than
``MIN_SAMPLE`` cases is reported with its count but not ranked: a rate of 100 % on one case
says nothing (FixMyStreet's "most responsive" council had one report).
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from app.errors import ValidationError
from app.extensions import db
from app.handlers import requests as requests_flow
from app.handlers import sla
from app.handlers.reports.cache import cached
from app.localtime import at_local, to_local
from app.models import Building, Community, Grid, Role, Staff
from app.models.requests import CATEGORY_LABELS, ServiceRequest
from app.models.sla import ReplyClock

MIN_SAMPLE = 10
MAX_DAYS = 366
HOTSPOT_MIN = 2        # the same category in the same building this often in the period is a hot spot
RATE_KEYS = ("response_rate", "resolution_rate", "satisfaction_rate", "reply_rate")
CACHE_SECONDS = 60


@dataclass(frozen=True)
class Period:
    first: date
    last: date  # inclusive

    @property
    def start(self) -> datetime:
        return at_local(self.first)

    @property
    def end(self) -> datetime:
        return at_local(self.last + timedelta(days=1))

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def period(first: date | None, last: date | None, today: date) -> Period:
    last = last or today
    first = first or last - timedelta(days=29)
    if first > last:
        raise ValidationError("开始日期不能晚于结束日期", field="from")
    if (last - first).days >= MAX_DAYS:
        raise ValidationError("统计区间最长一年", field="from")
    return Period(first, last)


def scope(staff: Staff) -> list[Community]:
    """The communities a staff member's dashboard covers: their own, or their street's (street admin)."""
    if staff.community_id is not None:
        return [db.session.get(Community, staff.community_id)]
    if staff.has_role(Role.STREET_ADMIN) and staff.street_id is not None:
        return list(db.session.scalars(select(Community).where(Community.street_id == staff.street_id)
                                       .order_by(Community.id)))
    return []


def _clocks(condition, span: Period) -> list[ReplyClock]:
    return list(db.session.scalars(select(ReplyClock).where(
        condition, ReplyClock.started_at >= span.start, ReplyClock.started_at < span.end)))


def _row(name: str, stats: dict, clocks: list[ReplyClock], at: datetime, **extra) -> dict:
    reply = sla.summarise(clocks, at)
    return {"name": name, "total": stats["total"], "response_rate": stats["response_rate"],
            "resolution_rate": stats["resolution_rate"], "satisfaction_rate": stats["satisfaction_rate"],
            "reply_rate": reply["rate"], "resolved": stats["resolved"],
            "grid_share": (stats["solved_at_grid_level"] / stats["resolved"]) if stats["resolved"] else None,
            "overdue_open": stats["overdue_open"], **extra}


def rank(rows: list[dict], key: str = "resolution_rate", sample: str = "total") -> list[dict]:
    """Rows with a large enough sample ranked by ``key`` (best first); the others after, unranked."""
    big = sorted((r for r in rows if r[sample] >= MIN_SAMPLE and r[key] is not None),
                 key=lambda r: (-r[key], r["name"]))
    small = sorted((r for r in rows if r not in big), key=lambda r: r["name"])
    for index, row in enumerate(big, start=1):
        row["rank"], row["small_sample"] = index, False
    for row in small:
        row["rank"], row["small_sample"] = None, row[sample] < MIN_SAMPLE
    return big + small


def overview(ids: list[int], span: Period, at: datetime, clocks: list[ReplyClock]) -> dict:
    in_scope = ServiceRequest.community_id.in_(ids)
    stats = requests_flow.request_stats(in_scope, start=span.start, end=span.end)
    supervised = db.session.scalar(select(func.count()).select_from(ServiceRequest).where(
        in_scope, ServiceRequest.supervised_at >= span.start, ServiceRequest.supervised_at < span.end))
    row = _row("合计", stats, clocks, at)
    row.update(supervised=supervised or 0, escalated=stats["escalated"], open=stats["open"],
               rated=stats["rated"], solved_at_grid_level=stats["solved_at_grid_level"])
    return row


def per_community(communities: list[Community], span: Period, at: datetime, clocks: list[ReplyClock],
                  total: dict | None = None) -> list[dict]:
    if len(communities) == 1 and total is not None:  # one community: its row is the total
        return rank([{**total, "name": communities[0].name}])
    rows = []
    for community in communities:
        stats = requests_flow.request_stats(ServiceRequest.community_id == community.id,
                                            start=span.start, end=span.end)
        rows.append(_row(community.name, stats, [c for c in clocks if c.community_id == community.id], at))
    return rank(rows)


def per_grid(ids: list[int], span: Period, at: datetime, clocks: list[ReplyClock]) -> list[dict]:
    """Per grid: a request's clock counts for the request's grid (clocks of chatter have no grid)."""
    grid_of = dict(db.session.execute(select(ServiceRequest.id, ServiceRequest.grid_id).where(
        ServiceRequest.id.in_({c.request_id for c in clocks if c.request_id is not None}))).all())
    by_grid: dict[int, list[ReplyClock]] = defaultdict(list)
    for clock in clocks:
        if grid_of.get(clock.request_id) is not None:
            by_grid[grid_of[clock.request_id]].append(clock)
    rows = []
    for grid in db.session.scalars(select(Grid).where(Grid.community_id.in_(ids)).order_by(Grid.id)):
        stats = requests_flow.request_stats(ServiceRequest.grid_id == grid.id, start=span.start, end=span.end)
        rows.append(_row(grid.name, stats, by_grid.get(grid.id, []), at))
    return rank(rows)


def per_staff(ids: list[int], span: Period, at: datetime, clocks: list[ReplyClock]) -> list[dict]:
    """考核 per person: clocks they answered first (reply rate) and requests they resolved."""
    answered: dict[int, list[ReplyClock]] = defaultdict(list)
    for clock in clocks:
        if clock.stopped_by_staff_id is not None:
            answered[clock.stopped_by_staff_id].append(clock)
    resolved = Counter(db.session.scalars(select(ServiceRequest.assignee_id).where(
        ServiceRequest.community_id.in_(ids), ServiceRequest.resolved_at >= span.start,
        ServiceRequest.resolved_at < span.end, ServiceRequest.assignee_id.is_not(None))))
    people = set(answered) | set(resolved)
    rows = []
    for member in db.session.scalars(select(Staff).where(Staff.id.in_(people))):
        summary = sla.summarise(answered.get(member.id, []), at)
        rows.append({"name": member.name, "title": member.title or "", "answered": summary["replied"],
                     "within": summary["within"], "reply_rate": summary["rate"],
                     "median_seconds": summary["median_seconds"], "resolved": resolved.get(member.id, 0)})
    return rank(rows, key="reply_rate", sample="answered")


def _bucket_days(span: Period) -> int:
    return 1 if span.days <= 31 else 7


def category_trend(ids: list[int], span: Period) -> dict:
    """Requests per category per day (periods up to a month) or per week."""
    step = _bucket_days(span)
    starts = [span.first + timedelta(days=d) for d in range(0, span.days, step)]
    counts: dict[str, list[int]] = {}
    for category, created in db.session.execute(select(ServiceRequest.category, ServiceRequest.created_at).where(
            ServiceRequest.community_id.in_(ids), ServiceRequest.created_at >= span.start,
            ServiceRequest.created_at < span.end)):
        index = min(len(starts) - 1, (to_local(created).date() - span.first).days // step)
        counts.setdefault(category, [0] * len(starts))[index] += 1
    labels = [d.strftime("%m-%d") for d in starts]
    series = [{"category": c, "label": CATEGORY_LABELS.get(c, c), "counts": counts[c]}
              for c in CATEGORY_LABELS if c in counts]
    return {"labels": labels, "step_days": step, "series": series}


def hotspots(ids: list[int], span: Period) -> list[dict]:
    """Buildings where one category keeps coming back (会商研判), with the requests behind each."""
    rows = db.session.execute(select(ServiceRequest.building_id, ServiceRequest.category, ServiceRequest.id,
                                     ServiceRequest.code, ServiceRequest.title, ServiceRequest.status)
                              .where(ServiceRequest.community_id.in_(ids), ServiceRequest.building_id.is_not(None),
                                     ServiceRequest.created_at >= span.start, ServiceRequest.created_at < span.end,
                                     ServiceRequest.status != "merged")
                              .order_by(ServiceRequest.created_at)).all()
    groups: dict[tuple[int, str], list] = defaultdict(list)
    for row in rows:
        groups[(row.building_id, row.category)].append(row)
    hot = {key: items for key, items in groups.items() if len(items) >= HOTSPOT_MIN}
    names = {b.id: b.name for b in db.session.scalars(
        select(Building).where(Building.id.in_({key[0] for key in hot})))} if hot else {}
    result = [{"building": names.get(building_id, ""), "category": CATEGORY_LABELS.get(category, category),
               "count": len(items),
               "requests": [{"id": r.id, "code": r.code, "title": r.title, "status": r.status} for r in items]}
              for (building_id, category), items in hot.items()]
    result.sort(key=lambda h: (-h["count"], h["building"], h["category"]))
    return result


def compute(communities: list[Community], span: Period, at: datetime) -> dict:
    ids = [c.id for c in communities]
    clocks = _clocks(ReplyClock.community_id.in_(ids), span)  # once, shared out below
    total = overview(ids, span, at, clocks)
    return {"overview": total, "per_community": per_community(communities, span, at, clocks, total),
            "per_grid": per_grid(ids, span, at, clocks), "per_staff": per_staff(ids, span, at, clocks),
            "trend": category_trend(ids, span), "hotspots": hotspots(ids, span)}


def dashboard(communities: list[Community], span: Period, at: datetime) -> dict:
    """Everything the dashboard shows; the same scope and period is computed at most once a minute."""
    key = f"dashboard:{','.join(str(c.id) for c in communities)}:{span.first.isoformat()}:{span.last.isoformat()}"
    numbers = cached(key, CACHE_SECONDS, lambda: compute(communities, span, at))
    return {"period": span, "communities": communities, "min_sample": MIN_SAMPLE, **numbers}
