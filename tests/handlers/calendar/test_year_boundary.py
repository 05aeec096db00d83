"""Deadlines across New Year with the injectable clock: right for the statutory days before the next
year's notice exists, exactly right (make-up Sunday included) once it is imported."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from app.clock import FrozenClock, set_app_clock
from app.extensions import db
from app.handlers.calendar.notice_import import import_notice
from app.handlers.requests import create_request
from app.workcal import load_calendar
from tests import factories as f

SHANGHAI = timezone(timedelta(hours=8))
# An example 2027 notice (NOT the published one, which does not exist yet in these tests): New Year's
# Eve 2026 off with the long weekend, paid for by Sunday 10 January.
NOTICE_2027 = """国务院办公厅关于2027年部分节假日安排的通知
一、元旦：2026年12月31日（周四）至2027年1月3日（周日）放假调休，共4天。1月10日（周日）上班。
二、春节：2月5日（农历除夕、周五）至11日（农历正月初六、周四）放假调休，共7天。2月20日（周六）上班。
三、清明节：4月3日（周六）至5日（周一）放假，共3天。
四、劳动节：5月1日（周六）至5日（周三）放假调休，共5天。4月25日（周日）上班。
五、端午节：6月9日（周三）放假1天，不调休。
六、中秋节：9月15日（周三）放假1天，不调休。
七、国庆节：10月1日（周五）至7日（周四）放假调休，共7天。
"""


@pytest.fixture
def app_overrides():
    return {"RESOLUTION_DEADLINES": "general=3d"}


@pytest.fixture
def frozen(app):
    clock = FrozenClock(datetime(2026, 12, 29, 10, 0, tzinfo=SHANGHAI))  # Tuesday
    set_app_clock(app, clock)
    return clock


@pytest.fixture
def community(app):
    row = f.community()
    db.session.commit()
    return row


def _request(community, text="3号楼楼道灯坏了"):
    request = create_request(community_id=community.id, text=text, category="repair", source="form")
    db.session.commit()
    return request


def _local(request):
    return request.due_at.astimezone(SHANGHAI)


def test_before_the_notice_new_years_day_is_skipped_and_the_deadline_is_provisional(frozen, community):
    request = _request(community)
    # 12-30 (1), 12-31 (2), 元旦 Friday 01-01 skipped, the weekend, Monday 01-04 (3).
    assert _local(request) == datetime(2027, 1, 4, 23, 59, 59, tzinfo=SHANGHAI)
    assert load_calendar().deadline_is_provisional(request.created_at, request.due_at)


def test_a_deadline_that_stays_in_a_known_year_is_not_provisional(frozen, community, app):
    app.config["RESOLUTION_DEADLINES"] = "general=1d"
    request = _request(community)
    assert _local(request).date() == datetime(2026, 12, 30).date()
    assert not load_calendar().deadline_is_provisional(request.created_at, request.due_at)


def test_after_the_notice_the_make_up_sunday_counts(frozen, community):
    import_notice(NOTICE_2027, confirm=True)
    request = _request(community)
    # 12-30 (1); 12-31 to 01-03 off (the 2026 day too: the notice overrides the package); 01-04, 01-05.
    assert _local(request) == datetime(2027, 1, 5, 23, 59, 59, tzinfo=SHANGHAI)
    assert not load_calendar().deadline_is_provisional(request.created_at, request.due_at)
    # Thursday 7 January, three days: Friday 8, the make-up Sunday 10, Monday 11 (without it: Tuesday 12).
    frozen.set(datetime(2027, 1, 7, 16, 0, tzinfo=SHANGHAI))
    later = _request(community, "5号楼电梯异响")
    assert _local(later) == datetime(2027, 1, 11, 23, 59, 59, tzinfo=SHANGHAI)


def test_the_same_request_before_the_notice_counts_to_tuesday_12(frozen, community):
    frozen.set(datetime(2027, 1, 7, 16, 0, tzinfo=SHANGHAI))
    assert _local(_request(community)) == datetime(2027, 1, 12, 23, 59, 59, tzinfo=SHANGHAI)
