"""A new report answered in the callback in one statement (app/handlers/conversation/express.py, issue 13 §1).

Through /wechat/mp with the full app on the test's real database and Redis. Which
path answered is seen from outside: the statements the callback sent to the
database (SQLAlchemy's cursor events) and the rows it left.
"""
from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event, func, select

from app.channels import intake, spool
from app.extensions import db
from app.handlers.governance.chat import might_listen
from app.handlers.requests import finish_deferred
from app.handlers.requests.intake import counted_code
from app.models import Resident, ResidentIdentity
from app.models.requests import ServiceRequest
from tests import factories
from tests.channels.conftest import inbound_rows as all_inbound_rows
from tests.support.deferred_texts import CODE, DEFERRED_SETTINGS, REPORT

pytest_plugins = ["tests.support.faults", "tests.support.deferred_reports"]


@pytest.fixture
def app_overrides():
    return DEFERRED_SETTINGS

# What differs between two reports of the same text: their numbers.
PER_MESSAGE = ("request_code", "reply_text")


@pytest.fixture(autouse=True)
def warm(sim, community, clock):
    """A first report reads the community's vocabulary into this process's cache and seeds the day's
    counter from the table (its number 1); the tests count after it."""
    say(sim, "o-warm", "小区东门的路灯不亮了")
    db.session.commit()


@pytest.fixture
def statements(app):
    """Statements sent to the database while the block runs."""
    seen: list[str] = []
    engine = db.engine

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement.split(None, 1)[0].upper())

    @contextmanager
    def watching():
        seen.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            yield seen
        finally:
            event.remove(engine, "before_cursor_execute", count)

    return watching


def say(sim, openid: str, text: str = REPORT, *, aes: bool = False, msg_id: int | None = None) -> str:
    result = sim.post(sim.text_xml(openid, text, msg_id=msg_id), aes=aes)
    assert result.status == 200
    return result.reply_content


def residents() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Resident))


def inbound_rows():
    return [row for row in all_inbound_rows() if row.sender_id != "o-warm"]


def requests_() -> list[ServiceRequest]:
    db.session.expire_all()
    return list(db.session.scalars(select(ServiceRequest).order_by(ServiceRequest.id)))


@pytest.mark.parametrize("aes", [False, True], ids=["plain", "aes"])
def test_a_new_report_is_one_statement_and_no_resident_yet(app, sim, community, clock, statements, aes):
    with statements() as seen:
        reply = say(sim, "o-express-1", aes=aes)
    assert seen == ["INSERT"]
    [code] = CODE.findall(reply)
    assert residents() == 0 and requests_() == []
    [row] = inbound_rows()
    assert row.resident_id is None and row.community_id == community.id and row.pending_at is not None
    # stored with its arrival time (the reply clock's start), not the database's or the worker's
    assert row.received_at.replace(tzinfo=None) == clock().replace(tzinfo=None)
    assert row.handling["request_code"] == code and row.handling["deferred"] == "requests.report"


def test_the_record_is_the_one_the_ordinary_path_writes(app, sim, community, clock, statements):
    """The same text from two new senders, once each way: the same handling record but for the number."""
    with statements() as seen:
        express_reply = say(sim, "o-express-1")
    assert len(seen) == 1
    app.config["INBOUND_EXPRESS"] = False
    with statements() as seen:
        ordinary_reply = say(sim, "o-ordinary-1")
    assert len(seen) > 1
    express_row, ordinary_row = inbound_rows()
    strip = lambda handling: {k: v for k, v in handling.items() if k not in PER_MESSAGE}  # noqa: E731
    assert strip(express_row.handling) == strip(ordinary_row.handling)
    assert CODE.sub("", express_reply) == CODE.sub("", ordinary_reply)
    assert express_row.community_id == ordinary_row.community_id == community.id


def test_the_worker_makes_the_sender_a_resident_and_the_request_theirs(app, sim, community, clock):
    [code] = CODE.findall(say(sim, "o-express-1"))
    [row] = inbound_rows()
    request = finish_deferred(row.id)
    assert request is not None and request.code == code
    identity = db.session.scalars(select(ResidentIdentity).where(ResidentIdentity.value == "o-express-1")).one()
    assert identity.channel == "mp" and identity.kind == "openid"
    assert request.resident_id == identity.resident_id
    assert identity.resident.community_id == community.id
    [row] = inbound_rows()
    assert row.resident_id == identity.resident_id and row.pending_at is None
    assert residents() == 1


def test_a_known_resident_with_nothing_open_is_answered_at_once_too(app, sim, community, clock, statements):
    factories.resident(community_id=community.id, identities=[("mp", "openid", "o-known")])
    db.session.commit()
    with statements() as seen:
        [code] = CODE.findall(say(sim, "o-known"))
    assert seen == ["INSERT"]
    [row] = inbound_rows()
    assert row.resident_id is not None
    assert finish_deferred(row.id).resident_id == row.resident_id


def test_with_several_communities_the_residents_own_is_asked_first(app, sim, community, clock, statements):
    other = factories.community(name="另一个社区")
    for openid in ("o-other-warm", "o-other"):
        factories.resident(community_id=other.id, identities=[("mp", "openid", openid)])
    db.session.commit()
    say(sim, "o-other-warm", "小区西门的路灯不亮了")   # reads the new community list and its vocabulary
    with statements() as seen:
        [code] = CODE.findall(say(sim, "o-other"))
    assert seen == ["SELECT", "INSERT"]
    [row] = [row for row in inbound_rows() if row.sender_id == "o-other"]
    assert row.community_id == other.id and finish_deferred(row.id).community_id == other.id
    with statements() as seen:
        reply = say(sim, "o-nobody-yet")   # which community? the ordinary path asks
    assert seen[:1] == ["SELECT"] and len(seen) > 2 and not CODE.search(reply or "")
    assert all(row.pending_at is None for row in inbound_rows() if row.sender_id == "o-nobody-yet")


def test_a_second_message_before_the_worker_joins_the_first(app, sim, community, clock, statements):
    [code] = CODE.findall(say(sim, "o-express-1"))
    clock.advance(seconds=3)
    with statements() as seen:
        follow = say(sim, "o-express-1", "3栋楼道灯还是不亮")
    assert seen[0] == "INSERT" and len(seen) > 2   # refused (a report of this sender is pending): the ordinary
    # path, which finishes the first report before it joins this message to it
    assert follow == f"已将您的补充说明记入诉求（编号{code}），值班人员会一并处理。"
    [request] = requests_()
    assert request.code == code and residents() == 1
    first, _second = inbound_rows()
    assert first.pending_at is None and first.handling["finished_by"] == "next_message"


def test_a_resident_with_an_open_request_takes_the_ordinary_path(app, sim, community, clock, statements):
    [code] = CODE.findall(say(sim, "o-express-1"))
    finish_deferred(inbound_rows()[0].id)
    clock.advance(seconds=30)
    with statements() as seen:
        follow = say(sim, "o-express-1", "楼道灯还是不亮，晚上上下楼很危险")
    assert len(seen) > 2
    assert f"编号{code}" in follow and len(requests_()) == 1


def test_staff_are_never_answered_at_once(app, sim, community, clock, statements):
    factories.staff(community=community, openid="o-staff-1")
    db.session.commit()
    with statements() as seen:
        reply = say(sim, "o-staff-1")
    assert len(seen) > 2 and not CODE.search(reply or "")
    assert inbound_rows()[0].pending_at is None


def test_a_repeat_gets_the_same_answer_and_one_row(app, sim, community, clock):
    first = say(sim, "o-express-1", msg_id=88001)
    assert say(sim, "o-express-1", msg_id=88001) == first
    assert say(sim, "o-express-1", msg_id=88001, aes=True) == first
    assert len(inbound_rows()) == 1


def test_a_number_already_a_requests_is_not_given_again(app, sim, community, clock, statements):
    """A counter that fell behind the table (Redis replaced, numbers given from the database meanwhile)."""
    [first] = CODE.findall(say(sim, "o-express-1"))
    finish_deferred(inbound_rows()[0].id)
    given = counted_code(clock())
    taken = f"{given[:-4]}{int(given[-4:]) + 1:04d}"   # the number the next report will get ...
    request = requests_()[0]
    request.code = taken                                # ... is already a request's
    db.session.commit()
    with statements() as seen:
        [code] = CODE.findall(say(sim, "o-express-2", "5号楼门禁坏了"))
    assert len(seen) > 2 and code not in (first, taken)
    assert len(inbound_rows()) == 2


def test_a_listeners_phrase_is_left_to_the_ordinary_path(app, sim, community, clock, statements):
    assert might_listen("支持，早就该装电梯了") and might_listen("百姓说事：门口装个快递柜")
    assert not might_listen(REPORT)
    with statements() as seen:
        say(sim, "o-express-1", "百姓说事：小区门口装一个快递柜吧")
    assert len(seen) > 2


class TestDatabaseDown:
    @pytest.fixture
    def database_url(self, private_postgres):
        return private_postgres.url

    def test_the_delivery_goes_to_the_spool_and_is_answered_received(self, app, sim, community, clock,
                                                                      private_postgres):
        with private_postgres.down():
            reply = say(sim, "o-express-1", msg_id=99001)
        assert reply == intake.RECEIVED_TEXT and spool.pending(app.instance_path)
        spool.drain(intake.store_spooled, app.instance_path)
        [row] = inbound_rows()
        assert row.channel_msg_id == "99001" and row.handling
