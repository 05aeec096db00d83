"""Resident requests (诉求): the closed loop 受理 → 派单 → 处置 → 办结 → 回访.

Shared by the bot (``chat.CHAT``, loaded by app.handlers.conversation.registry),
the mini-program API (app/api/requests.py) and the workers (workers/requests.py).
The package is cut by subject, each module importing only those listed before it:

- ``rules``: labels, who may do what, deadline classes and ``compute_due_at``, input checks;
- ``timeline``: ``transition`` / ``record_event``, so every change lands on the append-only timeline;
- ``access``: what a staff member sees (404) and may do (403);
- ``notify``: messages to the reporter and to staff, and stopping the reply clock;
- ``supervision``: 督办 — the exact job at ``due_at`` (via app.jobs), the sweep, closing unrated ones;
- ``intake``: ``create_request`` (every channel: it also starts the reply clock) and follow-ups;
- ``deferred``: a new /wechat/mp report answered with its number at once, its request created by a worker;
- ``lifecycle`` and ``escalation`` (吹哨): acknowledge, reply, dispatch, start, resolve, rate, merge, …;
- ``possible``: 疑似诉求, silent group messages the bot marks as possible reports, for staff to decide;
- ``chat``: the bot's handlers and ``CHAT``;
- ``views`` and ``stats``: what the API shows.

Reply clocks and staff rosters belong to app.handlers.sla, the one other domain
this package imports. The names below are the package's public API.
"""
from __future__ import annotations

from app.handlers.requests.access import authorize, can_see, is_plain_grid_worker, visible_clause
from app.handlers.requests.deferred import finish_deferred, finish_pending, finish_pending_of_sender
from app.handlers.requests.escalation import escalate
from app.handlers.requests.intake import add_follow_up, create_request, find_follow_up_target, locate
from app.handlers.requests.lifecycle import (
    acknowledge,
    acknowledge_by_staff_message,
    dispatch,
    grid_worker_for,
    merge,
    rate,
    reclassify,
    reject,
    reopen,
    reply_publicly,
    resolve,
    start,
)
from app.handlers.requests.possible import (
    convert_possible,
    dismiss_possible,
    flag_possible_request,
    open_possible_query,
    possible_in_community,
    possible_view,
)
from app.handlers.requests.rules import (
    ACTION_ROLES,
    CATEGORIES,
    MAX_PHOTOS,
    MAX_TEXT,
    URGENCIES,
    compute_due_at,
    deadline_spec,
    describe_limit,
    parse_rating,
    urgency_for,
)
from app.handlers.requests.stats import (
    COUNTS,
    add_kind,
    classified,
    empty_stats,
    reply_sla,
    request_stats,
    request_stats_by,
    summarise_counts,
)
from app.handlers.requests.supervision import (
    cancel_overdue_check,
    close_unrated,
    overdue_job_id,
    schedule_overdue_check,
    supervise_overdue,
    sweep_overdue,
)
from app.handlers.requests.views import resident_request_view, staff_request_view, timeline

__all__ = [
    "ACTION_ROLES", "CATEGORIES", "MAX_PHOTOS", "MAX_TEXT", "URGENCIES",
    "acknowledge", "acknowledge_by_staff_message", "add_follow_up", "authorize", "can_see",
    "cancel_overdue_check", "close_unrated", "compute_due_at", "convert_possible", "create_request",
    "deadline_spec", "describe_limit", "dismiss_possible", "dispatch", "flag_possible_request", "open_possible_query",
    "possible_in_community", "possible_view", "escalate", "find_follow_up_target", "grid_worker_for", "is_plain_grid_worker",
    "locate", "merge", "overdue_job_id", "parse_rating", "rate", "reclassify", "reject", "reopen",
    "reply_publicly", "request_stats", "resident_request_view", "resolve", "schedule_overdue_check", "staff_request_view",
    "empty_stats", "finish_deferred", "finish_pending", "finish_pending_of_sender", "request_stats_by", "COUNTS", "add_kind", "classified", "reply_sla", "summarise_counts",
    "start", "supervise_overdue", "sweep_overdue", "timeline", "urgency_for", "visible_clause",
]
