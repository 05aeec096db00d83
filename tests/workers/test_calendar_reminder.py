"""The weekly reminder while a holiday notice is missing: from 1 November, once per community per ISO week,
delivered to the admins for real (fake WeCom API on loopback), silent once the notice is imported."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from rq import SimpleWorker
from sqlalchemy import select

from app.clock import FrozenClock, set_app_clock
from app.extensions import db
from app.handlers.calendar import overrides
from app.models.alerts import Alert
from tests import factories as f
from workers.calendar import remind_missing_notice
from workers.jobs import QUEUE_SEND
from workers.runner import build_worker

SHANGHAI = timezone(timedelta(hours=8))


@pytest.fixture
def frozen(app):
    clock = FrozenClock(datetime(2026, 10, 31, 23, 30, tzinfo=SHANGHAI))  # Saturday night, 31 October
    set_app_clock(app, clock)
    return clock


@pytest.fixture
def communities(app):
    first, second = f.community(name="富强新村社区"), f.community(name="和平里社区")
    admin = f.staff(roles=("community_admin",), community=first, name="王书记", wework_userid="wangsj")
    f.staff(roles=("duty",), community=first, name="张伟", wework_userid="zhangwei")  # not an admin
    other = f.staff(roles=("community_admin",), community=second, name="李主任", wework_userid="lizr")
    db.session.commit()
    return {"first": first, "second": second, "admin": admin, "other": other}


def _alerts() -> list[Alert]:
    db.session.expire_all()
    return list(db.session.scalars(select(Alert).order_by(Alert.id)))


def test_nothing_before_1_november(frozen, communities):
    assert remind_missing_notice() == {"missing_years": [], "alerted": 0}
    assert _alerts() == []


def test_once_a_week_per_community_to_its_admins_until_the_notice_is_imported(app, frozen, communities,
                                                                            fake_wechat):
    frozen.advance(hours=1)  # Sunday 1 November 00:30 local, ISO week 2026-W44
    assert remind_missing_notice() == {"missing_years": [2027], "alerted": 2}
    alerts = _alerts()
    assert [a.key for a in alerts] == [f"calendar:notice:2027:community:{communities['first'].id}:2026-W44",
                                       f"calendar:notice:2027:community:{communities['second'].id}:2026-W44"]
    assert {a.kind for a in alerts} == {"calendar"}
    assert [r.staff_id for r in alerts[0].recipients] == [communities["admin"].id]
    assert "2027年的放假调休安排还没有导入系统" in alerts[0].text and "linli calendar import" in alerts[0].text
    build_worker(app, queues=[QUEUE_SEND], worker_class=SimpleWorker).work(burst=True)
    assert sorted(m.body["touser"] for m in fake_wechat.sent("/cgi-bin/message/send")) == ["lizr", "wangsj"]

    frozen.advance(days=1)  # Monday 2 November: a new ISO week (W45) starts
    assert remind_missing_notice()["alerted"] == 2
    frozen.advance(days=1)
    assert remind_missing_notice()["alerted"] == 0  # the same week: recorded once
    assert remind_missing_notice()["alerted"] == 0
    assert len(_alerts()) == 4

    overrides.set_day(date(2027, 1, 1), "holiday", "元旦")  # the year is loaded (import or by hand)
    frozen.advance(days=7)
    assert remind_missing_notice() == {"missing_years": [], "alerted": 0}
    assert len(_alerts()) == 4


def test_a_current_year_nobody_loaded_is_reported_all_year(frozen, communities):
    frozen.set(datetime(2027, 3, 10, 9, 0, tzinfo=SHANGHAI))
    result = remind_missing_notice()
    assert result == {"missing_years": [2027], "alerted": 2}
    assert _alerts()[0].key.endswith(":2027-W10")
