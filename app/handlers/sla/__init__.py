"""The one-hour public reply clock (1小时内公开回复) and the 24-hour duty roster behind it.

clock.py starts and stops clocks, deadlines.py schedules their two alert jobs,
alerting.py fires the alerts exactly once (job or sweep), views.py shows
clocks and statistics; roster.py says who is on duty, roster_import.py reads
the roster spreadsheet. See docs/sla-and-roster.md.

The names below are what the rest of the service uses; the conversation
router and the requests domain start and stop clocks through them.
"""
from app.handlers.sla.alerting import (
    alert_text,
    describe_clock,
    due_clock_ids,
    fire_clock_alert,
    format_duration,
    request_summary,
    sweep,
)
from app.handlers.sla.clock import record_staff_reply, start_reply_clock, stop_clock
from app.handlers.sla.deadlines import BREACH, CLOCK_KINDS, NO_DUTY, WARN, sla_seconds, warn_seconds
from app.handlers.sla.views import clock_view, sla_stats, summarise

__all__ = [
    "BREACH", "CLOCK_KINDS", "NO_DUTY", "WARN", "alert_text", "clock_view", "describe_clock", "due_clock_ids",
    "fire_clock_alert", "format_duration", "record_staff_reply", "request_summary", "sla_seconds", "sla_stats",
    "start_reply_clock", "stop_clock", "summarise", "sweep", "warn_seconds",
]
