"""The dashboard's numbers (一目了然): 三率 and the one-hour reply rate per community, grid and staff
member, grid-level share, overdue and 督办 counts, category trends and hot spots (会商研判).

Rates come from the domains' own definitions (``requests.request_stats``, ``sla.summarise``),
so the dashboard, the board and the API agree. A community, grid or person with fewer than
``MIN_SAMPLE`` cases is reported with its count but not ranked: a rate of 100 % on one case
says nothing (FixMyStreet's "most responsive" council had one report).
"""
from __future__ import annotations

from bisect import bisect_right
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import func, select

from app.errors import ValidationError
from app.extensions import db
from app.handlers import requests as requests_flow
from app.handlers import sla
from app.handlers.reports import rollup_read
from app.handlers.reports.cache import cached
from app.localtime import at_local
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


class ClockRow(NamedTuple):
    """What the dashboard reads of a reply clock (no ORM object: a street's year has tens of thousands)."""

    community_id: int
    request_id: int | None
    grid_id: int | None  # the request's grid; None for a clock of chatter
    started_at: datetime
    due_at: datetime
    stopped_at: datetime | None
    stopped_by_staff_id: int | None

    def reply_seconds(self) -> float | None:
        return None if self.stopped_at is None else (self.stopped_at - self.started_at).total_seconds()


def clock_rows(condition, span: Period, grid_of: dict[int, int | None] | None = None) -> list[ClockRow]:
    """The period's clocks with their request's grid (sla.summarise reads them as clocks).

    ``grid_of``: the grids of the period's requests, already read by the statistics; a clock whose
    request is not in it (started just before midnight, the request created after) is looked up.
    """
    rows = db.session.execute(
        select(ReplyClock.community_id, ReplyClock.request_id, ReplyClock.started_at, ReplyClock.due_at,
               ReplyClock.stopped_at, ReplyClock.stopped_by_staff_id)
        .where(condition, ReplyClock.started_at >= span.start, ReplyClock.started_at < span.end)).all()
    grids = dict(grid_of or {})
    missing = sorted({r.request_id for r in rows if r.request_id is not None and r.request_id not in grids})
    for chunk in range(0, len(missing), 500):
        grids.update(db.session.execute(select(ServiceRequest.id, ServiceRequest.grid_id).where(
            ServiceRequest.id.in_(missing[chunk:chunk + 500]))).all())
    return [ClockRow(r.community_id, r.request_id, grids.get(r.request_id), r.started_at, r.due_at, r.stopped_at,
                     r.stopped_by_staff_id) for r in rows]


def _row(name: str, stats: dict, reply: dict, **extra) -> dict:
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


class Numbers(NamedTuple):
    """A scope's period, added up: request statistics (``requests.request_stats_by``'s shape) and reply
    clock summaries (``sla.summarise``'s) by community, grid and answering staff member."""

    stats: dict                 # {"total": {..., per_category}, "community_id": {id: {...}}, "grid_id": {...}}
    reply: dict                 # {"total": summary, "community": {id: summary}, "grid": {...}, "staff": {...}}
    created: Counter | None     # (day, category) → requests created; None: category_trend reads them


def numbers(ids: list[int], span: Period, at: datetime) -> Numbers:
    """From the rollup for the closed days it holds, live for the rest (reports/rollup_read.py)."""
    t = rollup_read.tallies(ids, span, at)
    summarise = requests_flow.summarise_counts
    total = {**summarise(t.total), "per_category": [
        {"category": category, "label": CATEGORY_LABELS[category], **summarise(t.category[category])}
        for category in requests_flow.CATEGORIES if sum(t.category.get(category, Counter()).values())]}
    stats = {"total": total,
             "community_id": {key: summarise(c) for key, c in t.community.items() if c["total"] + c["merged"]},
             "grid_id": {key: summarise(c) for key, c in t.grid.items() if c["total"] + c["merged"]}}
    reply = {"total": t.clocks.summary(),
             "community": {key: c.summary() for key, c in t.clocks_of_community.items()},
             "grid": {key: c.summary() for key, c in t.clocks_of_grid.items()},
             "staff": {key: c.summary() for key, c in t.clocks_of_staff.items()}}
    return Numbers(stats, reply, t.created)


def numbers_direct(ids: list[int], span: Period, at: datetime) -> Numbers:
    """The same from the requests and clocks themselves, one pass each (the reference the rollup is
    tested against, and the benchmark's baseline)."""
    grouped = requests_flow.request_stats_by(ServiceRequest.community_id.in_(ids), start=span.start, end=span.end,
                                             by=("community_id", "grid_id"))
    clocks = clock_rows(ReplyClock.community_id.in_(ids), span, grouped["grid_of"])
    parts: dict[str, dict[int, list[ClockRow]]] = {"community": defaultdict(list), "grid": defaultdict(list),
                                                   "staff": defaultdict(list)}
    for clock in clocks:
        parts["community"][clock.community_id].append(clock)
        if clock.grid_id is not None:
            parts["grid"][clock.grid_id].append(clock)
        if clock.stopped_by_staff_id is not None:
            parts["staff"][clock.stopped_by_staff_id].append(clock)
    reply = {"total": sla.summarise(clocks, at),
             **{part: {key: sla.summarise(items, at) for key, items in groups.items()}
                for part, groups in parts.items()}}
    return Numbers(grouped, reply, None)


NO_CLOCKS = {"rate": None, "replied": 0, "within": 0, "median_seconds": None}


def overview(ids: list[int], span: Period, found: Numbers) -> dict:
    in_scope = ServiceRequest.community_id.in_(ids)
    supervised = db.session.scalar(select(func.count()).select_from(ServiceRequest).where(
        in_scope, ServiceRequest.supervised_at >= span.start, ServiceRequest.supervised_at < span.end))
    stats = found.stats["total"]
    row = _row("合计", stats, found.reply["total"])
    row.update(supervised=supervised or 0, escalated=stats["escalated"], open=stats["open"],
               rated=stats["rated"], solved_at_grid_level=stats["solved_at_grid_level"])
    return row


def per_community(communities: list[Community], found: Numbers, total: dict | None = None) -> list[dict]:
    if len(communities) == 1 and total is not None:  # one community: its row is the total
        return rank([{**total, "name": communities[0].name}])
    empty = requests_flow.empty_stats()
    return rank([_row(c.name, found.stats["community_id"].get(c.id, empty),
                      found.reply["community"].get(c.id, NO_CLOCKS)) for c in communities])


def per_grid(ids: list[int], found: Numbers) -> list[dict]:
    """Per grid: a request's clock counts for the request's grid (clocks of chatter have no grid)."""
    empty = requests_flow.empty_stats()
    return rank([_row(grid.name, found.stats["grid_id"].get(grid.id, empty),
                      found.reply["grid"].get(grid.id, NO_CLOCKS)) for grid in db.session.scalars(select(Grid).where(Grid.community_id.in_(ids)).order_by(Grid.id))])


def per_staff(ids: list[int], span: Period, found: Numbers) -> list[dict]:
    """考核 per person: clocks they answered first (reply rate) and requests they resolved."""
    answered = found.reply["staff"]
    resolved = Counter(db.session.scalars(select(ServiceRequest.assignee_id).where(
        ServiceRequest.community_id.in_(ids), ServiceRequest.resolved_at >= span.start,
        ServiceRequest.resolved_at < span.end, ServiceRequest.assignee_id.is_not(None))))
    people = set(answered) | set(resolved)
    rows = []
    for member in db.session.scalars(select(Staff).where(Staff.id.in_(people))):
        summary = answered.get(member.id, NO_CLOCKS)
        rows.append({"name": member.name, "title": member.title or "", "answered": summary["replied"],
                     "within": summary["within"], "reply_rate": summary["rate"],
                     "median_seconds": summary["median_seconds"], "resolved": resolved.get(member.id, 0)})
    return rank(rows, key="reply_rate", sample="answered")


def _bucket_days(span: Period) -> int:
    return 1 if span.days <= 31 else 7


def category_trend(ids: list[int], span: Period, created: Counter | None = None) -> dict:
    """Requests per category per day (periods up to a month) or per week; ``created``: (day, category) →
    count already added up (the rollup's), else read here."""
    step = _bucket_days(span)
    starts = [span.first + timedelta(days=d) for d in range(0, span.days, step)]
    counts: dict[str, list[int]] = {}
    if created is not None:
        for (day, category), count in created.items():
            if count:
                counts.setdefault(category, [0] * len(starts))[(day - span.first).days // step] += count
        return _trend(span, starts, step, counts)
    # Each bucket's first instant (local midnight, in UTC): a bisect per request instead of a time-zone
    # conversion, which was most of the cost of a year of a street.
    edges = [at_local(day) for day in starts[1:]]
    for category, created_at in db.session.execute(select(ServiceRequest.category, ServiceRequest.created_at).where(
            ServiceRequest.community_id.in_(ids), ServiceRequest.created_at >= span.start,
            ServiceRequest.created_at < span.end)):
        counts.setdefault(category, [0] * len(starts))[bisect_right(edges, created_at)] += 1
    return _trend(span, starts, step, counts)


def _trend(span: Period, starts: list[date], step: int, counts: dict[str, list[int]]) -> dict:
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


def compute(communities: list[Community], span: Period, at: datetime, *, direct: bool = False) -> dict:
    """Everything the dashboard shows; ``direct``: without the rollup (the reference)."""
    ids = [c.id for c in communities]
    found = (numbers_direct if direct else numbers)(ids, span, at)
    total = overview(ids, span, found)
    return {"overview": total, "per_community": per_community(communities, found, total),
            "per_grid": per_grid(ids, found), "per_staff": per_staff(ids, span, found),
            "trend": category_trend(ids, span, found.created), "hotspots": hotspots(ids, span)}


def dashboard(communities: list[Community], span: Period, at: datetime) -> dict:
    """Everything the dashboard shows; the same scope and period is computed at most once a minute."""
    key = f"dashboard:{','.join(str(c.id) for c in communities)}:{span.first.isoformat()}:{span.last.isoformat()}"
    numbers = cached(key, CACHE_SECONDS, lambda: compute(communities, span, at))
    return {"period": span, "communities": communities, "min_sample": MIN_SAMPLE, **numbers}
