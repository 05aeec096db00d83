"""Is the calendar loaded in time? This year's always, next year's from 1 November.

The State Council publishes next year's notice in October or November. Until
it is imported (or the holiday package knows the year), deadlines in that year
skip the statutory holidays but know no make-up working day, and are marked
provisional. ``/healthz`` reports the gap and a weekly alert tells every
community's admins, both with the command that closes it.
"""
from __future__ import annotations

from datetime import date

from app.clock import now
from app.localtime import local_date
from app.models.alerts import AlertKind
from app.workcal import WorkCalendar, load_calendar

WARN_FROM = (11, 1)  # month, day: next year's notice is due from then on
IMPORT_COMMAND = "linli calendar import FILE"
IMPORT_API = "POST /api/v1/calendar/import"
ALERT_KIND = AlertKind.CALENDAR.value


def years_to_check(today: date) -> list[int]:
    return [today.year] + ([today.year + 1] if (today.month, today.day) >= WARN_FROM else [])


def missing_years(today: date | None = None, calendar: WorkCalendar | None = None) -> list[int]:
    """The years that should be loaded by ``today`` and are not (app context needed without both)."""
    today = today or local_date(now())
    calendar = calendar or load_calendar()
    return [year for year in years_to_check(today) if calendar.is_fallback_year(year)]


def status(today: date | None = None, calendar: WorkCalendar | None = None) -> dict:
    """For /healthz: "ok", or "missing" with the years and the command (never changes the service's health)."""
    missing = missing_years(today, calendar)
    if not missing:
        return {"status": "ok", "missing_years": []}
    years = ", ".join(str(year) for year in missing)
    return {"status": "missing", "missing_years": missing,
            "message": f"the State Council's holiday notice for {years} is not loaded: deadlines there skip the "
                       "statutory holidays only, without make-up working days, and are marked provisional",
            "command": IMPORT_COMMAND}


def alert_text(missing: list[int]) -> str:
    """The admins' weekly reminder (Chinese, for staff)."""
    years = "、".join(f"{year}年" for year in missing)
    return (f"【节假日安排未导入】{years}的放假调休安排还没有导入系统。导入之前，这段时间的办理时限只跳过法定节假日、"
            "不计调休上班日，时限标为“暂定”，放假调休公布后可能变动。国务院办公厅发布通知后，请把通知全文导入："
            f"运维执行 {IMPORT_COMMAND}，或管理员调用 {IMPORT_API}。")


def alert_key(community_id: int, today: date, missing: list[int]) -> str:
    """One reminder per community per ISO week (and per set of missing years)."""
    iso_year, week, _ = today.isocalendar()
    years = "-".join(str(year) for year in missing)
    return f"calendar:notice:{years}:community:{community_id}:{iso_year}-W{week:02d}"
