"""Building the dashboard's rollup (app/models/reports.py; docs/scaling.md explains the choice).

Closed days are recomputed by a job (``reports.rollup``, every few minutes) rather than in the
transactions that change requests and clocks: every number depends on a request's state *now*, a
change to a January request touches January's counts, and the writers (intake, lifecycle, the SLA
clock, the WeChat callback's worker) would all have to keep counters in step under concurrency. The
job instead finds what changed by ``updated_at`` and recomputes those community-days with the same
code the live path uses; the dashboard reads what changed since the job's last run live, so its
figures are always the direct computation's.

``MARGIN``: a change is found by its ``updated_at``, set when the row is flushed and visible once the
transaction commits; a transaction that takes longer than this between the two could be missed.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Iterable

from sqlalchemy import and_, delete, false, insert, or_, select

from app.clock import now
from app.extensions import db
from app.handlers import requests as requests_flow
from app.handlers.reports import rollup_pg
from app.handlers.reports.tallies import ClockTally, Days, clock_counts, request_counts
from app.localtime import at_local, local_date
from app.models import Community
from app.models.reports import REQUEST_DAY_COUNTS, ClockDay, RequestDay, RollupDay, RollupState
from app.models.requests import ServiceRequest
from app.models.sla import ReplyClock

MARGIN = timedelta(minutes=5)
NEW_DAYS_MAX = 31       # days the job catches up by itself after an outage; beyond, `linli reports rollup`
CHUNK = 500

Pair = tuple[int, date]  # (community id, local day)


def runs(pairs: Iterable[Pair]) -> list[tuple[date, date, list[int]]]:
    """The pairs as runs of consecutive days, each with the communities it needs."""
    by_day: dict[date, set[int]] = defaultdict(set)
    for community_id, day in pairs:
        by_day[day].add(community_id)
    result: list[tuple[date, date, set[int]]] = []
    for day in sorted(by_day):
        if result and result[-1][1] + timedelta(days=1) == day:
            first, _, communities = result[-1]
            result[-1] = (first, day, communities | by_day[day])
        else:
            result.append((day, day, set(by_day[day])))
    return [(first, last, sorted(communities)) for first, last, communities in result]


def _grids(request_ids: set[int], known: dict[int, int | None]) -> dict[int, int | None]:
    grids = dict(known)
    missing = sorted(i for i in request_ids if i not in grids)
    for chunk in range(0, len(missing), CHUNK):
        grids.update(db.session.execute(select(ServiceRequest.id, ServiceRequest.grid_id).where(
            ServiceRequest.id.in_(missing[chunk:chunk + CHUNK]))).all())
    return grids


def pair_counts(pairs: set[Pair], at: datetime, *, settled: bool):
    """The requests' and clocks' tallies of these community-days, read from the source tables.

    Returns ({(community, day, grid, category): Counter}, {(community, day, grid, staff): ClockTally},
    {pair: latest deadline of a clock neither stopped nor due at ``at``})."""
    requests: dict[tuple, object] = {}
    clocks: dict[tuple, ClockTally] = {}
    settles: dict[Pair, datetime] = {}
    for first, last, communities in runs(pairs):
        days = Days(first, last)
        start, end = at_local(first), at_local(last + timedelta(days=1))
        rows, kinds = requests_flow.classified(ServiceRequest.community_id.in_(communities),
                                               start=start, end=end, at=at)
        for key, counts in request_counts(rows, kinds, days).items():
            if key[:2] in pairs:
                requests[key] = counts
        clock_rows = [row for row in db.session.execute(
            select(ReplyClock.community_id, ReplyClock.request_id, ReplyClock.started_at, ReplyClock.due_at,
                   ReplyClock.stopped_at, ReplyClock.stopped_by_staff_id)
            .where(ReplyClock.community_id.in_(communities), ReplyClock.started_at >= start,
                   ReplyClock.started_at < end)) if (row.community_id, days.of(row.started_at)) in pairs]
        grid_of = _grids({r.request_id for r in clock_rows if r.request_id is not None},
                         {row.id: row.grid_id for row in rows})
        clocks.update(clock_counts(clock_rows, grid_of, days, at, settled))
        for row in clock_rows:
            if row.stopped_at is None and row.due_at > at:
                pair = (row.community_id, days.of(row.started_at))
                settles[pair] = max(settles.get(pair, row.due_at), row.due_at)
    return requests, clocks, settles


def changed_pairs(since: datetime, before: datetime, community_ids: list[int] | None = None) -> set[Pair]:
    """Community-days before ``before`` with a request or clock changed at or after ``since`` (a clock
    also counts for its request's grid: a request that changed makes its clock's day change too)."""
    def scoped(column):
        return () if community_ids is None else (column.in_(community_ids),)

    changed = db.session.execute(select(ServiceRequest.id, ServiceRequest.community_id, ServiceRequest.created_at)
                                 .where(ServiceRequest.updated_at >= since, ServiceRequest.created_at < before,
                                        *scoped(ServiceRequest.community_id))).all()
    pairs = {(row.community_id, local_date(row.created_at)) for row in changed}
    clock_filter = [ReplyClock.updated_at >= since]
    ids = [row.id for row in changed]
    for chunk in range(0, len(ids), CHUNK):
        clock_filter.append(ReplyClock.request_id.in_(ids[chunk:chunk + CHUNK]))
    for row in db.session.execute(select(ReplyClock.community_id, ReplyClock.started_at).where(
            or_(*clock_filter), ReplyClock.started_at < before, *scoped(ReplyClock.community_id))):
        pairs.add((row.community_id, local_date(row.started_at)))
    return pairs


def among(pairs: Iterable[Pair], community_column, day_column):
    """A WHERE clause for rows of these pairs (SQLite has no row-value IN lists); negate to leave them out."""
    by_community: dict[int, list[date]] = defaultdict(list)
    for community_id, day in pairs:
        by_community[community_id].append(day)
    if not by_community:
        return false()
    return or_(*(and_(community_column == community_id, day_column.in_(sorted(days)))
                  for community_id, days in by_community.items()))


def _locked_state() -> RollupState:
    """The state row, locked until commit: the job and the command never rebuild at the same time."""
    state = db.session.scalars(select(RollupState).where(RollupState.id == 1).with_for_update()).first()
    if state is None:
        db.session.add(RollupState(id=1, generation=0))
        db.session.flush()
        state = db.session.scalars(select(RollupState).where(RollupState.id == 1).with_for_update()).one()
    return state


def build(pairs: set[Pair], at: datetime) -> int:
    """Recompute these community-days in the current transaction; the number of rows written."""
    if not pairs:
        return 0
    if db.session.get_bind().dialect.name == "postgresql":  # in the server (reports/rollup_pg.py)
        by_day: dict[date, list[Pair]] = defaultdict(list)
        for pair in sorted(pairs):
            by_day[pair[1]].append(pair)
        return rollup_pg.build([(first, last, communities,
                                 [pair for n in range((last - first).days + 1)
                                  for pair in by_day[first + timedelta(days=n)]])
                                for first, last, communities in runs(pairs)], at)
    requests, clocks, settles = pair_counts(pairs, at, settled=True)
    ordered = sorted(pairs)
    for chunk in range(0, len(ordered), CHUNK):
        part = ordered[chunk:chunk + CHUNK]
        for model in (RequestDay, ClockDay, RollupDay):
            db.session.execute(delete(model).where(among(part, model.community_id, model.day)))
    request_rows = [{"community_id": c, "day": d, "grid_id": g, "category": category,
                     **{name: counts[name] for name in REQUEST_DAY_COUNTS}}
                    for (c, d, g, category), counts in requests.items()]
    clock_rows = [{"community_id": c, "day": d, "grid_id": g, "staff_id": s, "clocks": t.clocks,
                   "replied": t.replied, "within": t.within, "unanswered": t.unanswered,
                   "reply_seconds": t.times} for (c, d, g, s), t in clocks.items()]
    sla_seconds = int(requests_flow.reply_sla().total_seconds())
    day_rows = [{"community_id": c, "day": d, "built_at": at, "reply_sla_seconds": sla_seconds,
                 "settles_at": settles.get((c, d))} for c, d in ordered]
    for model, rows in ((RequestDay, request_rows), (ClockDay, clock_rows), (RollupDay, day_rows)):
        for chunk in range(0, len(rows), CHUNK * 4):
            db.session.execute(insert(model), rows[chunk:chunk + CHUNK * 4])
    return len(request_rows) + len(clock_rows)


def refresh(at: datetime | None = None) -> dict:
    """The job: recompute the built days changed since the last run and build the days closed since, then
    move ``valid_at``; one transaction."""
    state = _locked_state()
    at = at or now()
    today = local_date(at)
    pairs: set[Pair] = set()
    if state.valid_at is not None:
        changed = changed_pairs(state.valid_at - MARGIN, at_local(today))
        built = _built(changed)
        pairs |= changed & built
    yesterday = today - timedelta(days=1)
    first_new = max(state.built_through + timedelta(days=1) if state.built_through else yesterday,
                    yesterday - timedelta(days=NEW_DAYS_MAX - 1))
    new_days = [first_new + timedelta(days=n) for n in range((yesterday - first_new).days + 1)]
    if new_days:
        communities = list(db.session.scalars(select(Community.id)))
        pairs |= {(c, d) for c in communities for d in new_days}
        state.built_through = yesterday
    rows = build(pairs, at)
    state.valid_at = at
    state.generation += 1
    db.session.commit()
    return {"pairs": len(pairs), "rows": rows, "new_days": len(new_days)}


def _built(pairs: set[Pair]) -> set[Pair]:
    found: set[Pair] = set()
    ordered = sorted(pairs)
    for chunk in range(0, len(ordered), CHUNK):
        part = ordered[chunk:chunk + CHUNK]
        rows = db.session.execute(select(RollupDay.community_id, RollupDay.day).where(
            among(part, RollupDay.community_id, RollupDay.day)))
        found.update((row.community_id, row.day) for row in rows)
    return found


def rebuild(first: date, last: date, community_ids: list[int] | None = None, *, batch: int = 20,
            progress=None) -> dict:
    """``linli reports rollup``: recompute [first, last] (closed days only) for these communities (all by
    default), ``batch`` communities per transaction."""
    at = now()
    last = min(last, local_date(at) - timedelta(days=1))
    everyone = community_ids is None
    if community_ids is None:
        community_ids = list(db.session.scalars(select(Community.id).order_by(Community.id)))
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    total_rows = 0
    for chunk in range(0, len(community_ids), batch):
        state = _locked_state()
        at = now()
        part = community_ids[chunk:chunk + batch]
        total_rows += build({(c, d) for c in part for d in days}, at)
        if state.valid_at is None:
            state.valid_at = at
        if everyone and days and chunk + batch >= len(community_ids):  # the job need not build these again
            state.built_through = max(state.built_through or days[-1], days[-1])
        state.generation += 1
        db.session.commit()
        if progress is not None:
            progress(chunk + len(part), len(community_ids))
    return {"communities": len(community_ids), "days": len(days), "rows": total_rows}
