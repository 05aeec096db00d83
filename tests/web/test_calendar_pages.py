"""The calendar on the pages: the start page says when next year's notice is missing, the board marks
deadlines that may still move ("暂定")."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from app.clock import FrozenClock, set_app_clock
from app.handlers import calendar_sync
from tests.factories.requests import build_world, report
from tests.handlers.calendar.test_year_boundary import NOTICE_2027

SHANGHAI = timezone(timedelta(hours=8))


def test_the_start_page_warns_from_1_november_until_the_notice_is_loaded(app, client):
    clock = FrozenClock(datetime(2026, 10, 31, 12, 0, tzinfo=SHANGHAI))
    set_app_clock(app, clock)
    assert "节假日安排未导入" not in client.get("/").get_data(as_text=True)
    clock.advance(days=1)
    page = client.get("/").get_data(as_text=True)
    assert "节假日安排未导入" in page and "2027年的放假调休安排还没有导入系统" in page
    assert "linli calendar import FILE" in page
    calendar_sync.set_day(date(2027, 1, 1), "holiday", "元旦")
    assert "节假日安排未导入" not in client.get("/").get_data(as_text=True)


def test_the_board_marks_provisional_deadlines(app, client):
    set_app_clock(app, FrozenClock(datetime(2026, 12, 29, 10, 0, tzinfo=SHANGHAI)))
    world = build_world()
    _, request = report(world)  # 7 working days: due in January 2027
    page = client.get(f"/board?community={world.community.id}").get_data(as_text=True)
    assert request.code in page and "暂定" in page
    calendar_sync.import_notice(NOTICE_2027, confirm=True)
    page = client.get(f"/board?community={world.community.id}").get_data(as_text=True)
    assert request.code in page and "暂定" not in page
