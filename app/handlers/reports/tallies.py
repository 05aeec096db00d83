"""Additive tallies of requests and reply clocks: what the rollup stores and the dashboard adds up.

A request counts for the keys of ``requests.COUNTS``; a reply clock for clocks / replied / within /
unanswered / still open, with its first-reply time. Sums of these give exactly the figures of
``requests.request_stats_by`` and ``sla.summarise`` (tests/handlers/reports/test_rollup.py).
"""
from __future__ import annotations

import statistics
from bisect import bisect_right
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from app.handlers import requests as requests_flow
from app.handlers.sla.views import percentile
from app.localtime import at_local


@dataclass
class ClockTally:
    clocks: int = 0
    replied: int = 0
    within: int = 0
    unanswered: int = 0
    open: int = 0       # still inside its hour at the moment of asking (only ever live)
    times: list[float] = field(default_factory=list)

    def add(self, other: ClockTally) -> None:
        self.clocks += other.clocks
        self.replied += other.replied
        self.within += other.within
        self.unanswered += other.unanswered
        self.open += other.open
        self.times.extend(other.times)

    def add_clock(self, started_at: datetime, due_at: datetime, stopped_at: datetime | None, at: datetime) -> None:
        self.clocks += 1
        if stopped_at is not None:
            self.replied += 1
            self.within += stopped_at <= due_at
            self.times.append((stopped_at - started_at).total_seconds())
        elif at >= due_at:
            self.unanswered += 1
        else:
            self.open += 1

    def summary(self) -> dict:
        """What ``sla.summarise`` says of the same clocks."""
        decided = self.clocks - self.open
        return {"clocks": self.clocks, "replied": self.replied, "within": self.within,
                "late": self.replied - self.within, "unanswered": self.unanswered, "open": self.open,
                "rate": (self.within / decided) if decided else None,
                "median_seconds": statistics.median(self.times) if self.times else None,
                "p90_seconds": percentile(self.times, 0.9)}


@dataclass
class Tallies:
    """A scope and period, added up: requests by community, grid, category and (day, category); clocks by
    community, grid and the staff member who answered."""

    total: Counter = field(default_factory=Counter)
    community: dict[int, Counter] = field(default_factory=lambda: defaultdict(Counter))
    grid: dict[int, Counter] = field(default_factory=lambda: defaultdict(Counter))
    category: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    created: Counter = field(default_factory=Counter)  # (day, category) → requests created, merged included
    clocks: ClockTally = field(default_factory=ClockTally)
    clocks_of_community: dict[int, ClockTally] = field(default_factory=lambda: defaultdict(ClockTally))
    clocks_of_grid: dict[int, ClockTally] = field(default_factory=lambda: defaultdict(ClockTally))
    clocks_of_staff: dict[int, ClockTally] = field(default_factory=lambda: defaultdict(ClockTally))

    def add_requests(self, community_id: int, grid_id: int | None, category: str, day: date,
                     counts: Counter) -> None:
        self.total.update(counts)
        self.community[community_id].update(counts)
        if grid_id is not None:
            self.grid[grid_id].update(counts)
        self.category[category].update(counts)
        self.created[(day, category)] += counts["total"] + counts["merged"]

    def add_clocks(self, community_id: int, grid_id: int | None, staff_id: int | None, tally: ClockTally) -> None:
        self.clocks.add(tally)
        self.clocks_of_community[community_id].add(tally)
        if grid_id is not None:
            self.clocks_of_grid[grid_id].add(tally)
        if staff_id is not None:
            self.clocks_of_staff[staff_id].add(tally)


class Days:
    """The local day of an instant in [first, last], by bisecting local midnights (no time-zone conversion
    per row)."""

    def __init__(self, first: date, last: date):
        self.first = first
        self.edges = [at_local(first + timedelta(days=n)) for n in range(1, (last - first).days + 1)]

    def of(self, moment: datetime) -> date:
        return self.first + timedelta(days=bisect_right(self.edges, moment))


def request_counts(rows, kinds, days: Days) -> dict[tuple, Counter]:
    """(community, day, grid, category) → additive counts, of ``requests.classified`` rows. ``overdue`` is
    left out: it depends on the moment of asking, and the dashboard counts it live for every day."""
    counts: dict[tuple, Counter] = defaultdict(Counter)
    for row, kind in zip(rows, kinds, strict=True):
        key = (row.community_id, days.of(row.created_at), row.grid_id, row.category)
        requests_flow.add_kind(counts[key], kind._replace(overdue=False))
    return counts


def clock_counts(rows, grid_of: dict[int, int | None], days: Days, at: datetime,
                 settled: bool) -> dict[tuple, ClockTally]:
    """(community, day, grid, staff) → tally of clock rows (started_at, due_at, stopped_at, …).

    ``settled``: for the rollup, a clock neither stopped nor due yet counts as unanswered (its day is read
    live until its deadline, ``RollupDay.settles_at``); otherwise as still open at ``at``."""
    tallies: dict[tuple, ClockTally] = defaultdict(ClockTally)
    for row in rows:
        grid_id = grid_of.get(row.request_id) if row.request_id is not None else None
        staff_id = row.stopped_by_staff_id if row.stopped_at is not None else None
        tally = tallies[(row.community_id, days.of(row.started_at), grid_id, staff_id)]
        tally.add_clock(row.started_at, row.due_at, row.stopped_at,
                        max(at, row.due_at) if settled and row.stopped_at is None else at)
    return tallies
