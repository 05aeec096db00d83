"""The dashboard's tallies of a scope and period: closed days from the rollup, the rest live.

A community-day is read from the rollup when it was built with today's reply target, every clock it had
inside its hour then is due by now, and nothing of it changed since the job's last run (``valid_at``
less ``rollup.MARGIN``); every other day, today included, is computed from the requests and clocks
themselves. "Overdue" is always counted live (open requests past their deadline, a range of
``ix_service_request_open_due``). The rollup's state is read before and after: a rebuild that
committed in between (``generation`` moved) makes it read again.
"""
from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select

from app.extensions import db
from app.handlers import requests as requests_flow
from app.handlers.reports import rollup
from app.handlers.reports.tallies import ClockTally, Days, Tallies
from app.localtime import at_local, local_date
from app.models.reports import REQUEST_DAY_COUNTS, ClockDay, RequestDay, RollupDay, RollupState
from app.models.requests import OPEN_STATUSES, ServiceRequest

ATTEMPTS = 3


def _generation():
    return db.session.execute(select(RollupState.generation, RollupState.valid_at)
                              .where(RollupState.id == 1)).first()


def _trusted(ids: list[int], span, at: datetime, closed_last) -> tuple[set, set]:
    """(pairs to read from the rollup, built pairs to leave out of it)."""
    if closed_last < span.first:
        return set(), set()
    state = _generation()
    if state is None or state.valid_at is None:
        return set(), set()
    sla_seconds = int(requests_flow.reply_sla().total_seconds())
    in_span = (RollupDay.community_id.in_(ids), RollupDay.day >= span.first, RollupDay.day <= closed_last)
    fits = and_(RollupDay.reply_sla_seconds == sla_seconds,
                or_(RollupDay.settles_at.is_(None), RollupDay.settles_at <= at))
    # A street's year is thousands of pairs: the few that do not fit are picked out by the server.
    good, unfit = ({tuple(row) for row in db.session.execute(
        select(RollupDay.community_id, RollupDay.day).where(*in_span, which))} for which in (fits, ~fits))
    dirty = rollup.changed_pairs(state.valid_at - rollup.MARGIN, at_local(closed_last + timedelta(days=1)), ids)
    trusted = good - dirty
    return trusted, unfit | (good & dirty)


def _from_rollup(tallies: Tallies, ids: list[int], span, closed_last, left_out: set) -> None:
    def scope(model):
        return (model.community_id.in_(ids), model.day >= span.first, model.day <= closed_last,
                ~rollup.among(left_out, model.community_id, model.day))

    sums = [func.sum(getattr(RequestDay, name)).label(name) for name in REQUEST_DAY_COUNTS]
    for row in db.session.execute(select(RequestDay.community_id, RequestDay.grid_id, *sums)
                                  .where(*scope(RequestDay)).group_by(RequestDay.community_id, RequestDay.grid_id)):
        counts = Counter({name: int(getattr(row, name)) for name in REQUEST_DAY_COUNTS})
        tallies.total.update(counts)
        tallies.community[row.community_id].update(counts)
        if row.grid_id is not None:
            tallies.grid[row.grid_id].update(counts)
    for row in db.session.execute(select(RequestDay.category, *sums).where(*scope(RequestDay))
                                  .group_by(RequestDay.category)):
        tallies.category[row.category].update({name: int(getattr(row, name)) for name in REQUEST_DAY_COUNTS})
    for row in db.session.execute(select(RequestDay.day, RequestDay.category,
                                         func.sum(RequestDay.total + RequestDay.merged).label("created"))
                                  .where(*scope(RequestDay)).group_by(RequestDay.day, RequestDay.category)):
        tallies.created[(row.day, row.category)] += int(row.created)
    clock_sums = [func.sum(getattr(ClockDay, name)).label(name) for name in ("clocks", "replied", "within",
                                                                             "unanswered")]
    for row in db.session.execute(select(ClockDay.community_id, ClockDay.grid_id, *clock_sums)
                                  .where(*scope(ClockDay)).group_by(ClockDay.community_id, ClockDay.grid_id)):
        tally = ClockTally(clocks=int(row.clocks), replied=int(row.replied), within=int(row.within),
                           unanswered=int(row.unanswered))
        tallies.clocks.add(tally)
        tallies.clocks_of_community[row.community_id].add(tally)
        if row.grid_id is not None:
            tallies.clocks_of_grid[row.grid_id].add(tally)
    # Per person the median reply time is shown: their clocks' reply times are read, not only counted; the
    # server concatenates each person's lists (one JSON value per person, not one per community-day).
    lists = (func.json_agg(ClockDay.reply_seconds) if db.session.get_bind().dialect.name == "postgresql"
             else func.json_group_array(func.json(ClockDay.reply_seconds)))
    for row in db.session.execute(select(ClockDay.staff_id, *clock_sums[:3], lists.label("times"))
                                  .where(*scope(ClockDay), ClockDay.staff_id.is_not(None))
                                  .group_by(ClockDay.staff_id)):
        times = json.loads(row.times) if isinstance(row.times, str) else row.times
        tallies.clocks_of_staff[row.staff_id].add(ClockTally(clocks=int(row.clocks), replied=int(row.replied),
                                                             within=int(row.within),
                                                             times=[t for part in times for t in part]))


def _live(tallies: Tallies, pairs: set, at: datetime) -> None:
    requests, clocks, _ = rollup.pair_counts(pairs, at, settled=False)
    for (community_id, day, grid_id, category), counts in requests.items():
        tallies.add_requests(community_id, grid_id, category, day, counts)
    for (community_id, _day, grid_id, staff_id), tally in clocks.items():
        tallies.add_clocks(community_id, grid_id, staff_id, tally)


def _overdue(tallies: Tallies, ids: list[int], span, at: datetime) -> None:
    for row in db.session.execute(select(ServiceRequest.community_id, ServiceRequest.grid_id,
                                         ServiceRequest.category, func.count().label("n"))
                                  .where(ServiceRequest.community_id.in_(ids),
                                         ServiceRequest.status.in_(OPEN_STATUSES), ServiceRequest.due_at <= at,
                                         ServiceRequest.created_at >= span.start,
                                         ServiceRequest.created_at < span.end)
                                  .group_by(ServiceRequest.community_id, ServiceRequest.grid_id,
                                            ServiceRequest.category)):
        some = Counter(overdue=row.n)
        tallies.total.update(some)
        tallies.community[row.community_id].update(some)
        if row.grid_id is not None:
            tallies.grid[row.grid_id].update(some)
        tallies.category[row.category].update(some)


def tallies(ids: list[int], span, at: datetime, *, use_rollup: bool = True) -> Tallies:
    """The scope's requests and clocks of ``span`` (a ``stats.Period``), added up."""
    closed_last = min(span.last, local_date(at) - timedelta(days=1))
    every = {(c, span.first + timedelta(days=n)) for c in ids for n in range(span.days)}
    for _ in range(ATTEMPTS if use_rollup else 0):
        before = _generation()
        trusted, left_out = _trusted(ids, span, at, closed_last)
        result = Tallies()
        if trusted:
            _from_rollup(result, ids, span, closed_last, left_out)
        after = _generation()
        if before == after:
            break
    else:
        trusted, result = set(), Tallies()
    _live(result, every - trusted, at)
    _overdue(result, ids, span, at)
    return result


__all__ = ["Days", "tallies"]
