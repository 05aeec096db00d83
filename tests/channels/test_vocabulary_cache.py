"""The bot's vocabulary kept per process between callbacks, and a staff edit seen by the next message.

app/handlers/conversation/vocabulary.py. The full app on the test's real database and
Redis; a message's handling record says which service item the bot recognised.
"""
from __future__ import annotations

import pytest
from sqlalchemy import event, select

from app.extensions import db, redis_ext
from app.handlers.conversation import vocabulary
from app.handlers.proxy.catalogue import create_item, update_item
from app.models import Message
from app.models.proxy import ServiceItem
from tests import factories
from tests.channels.conftest import CHANNEL_SETTINGS, WECHAT_AES_KEY, WECHAT_TOKEN
from tests.support.fixtures import CREDENTIALS
from tests.support.wechat_sim import WeChatSimulator


@pytest.fixture
def app_overrides():
    return dict(CHANNEL_SETTINGS)


@pytest.fixture
def sim(client):
    return WeChatSimulator(client, token=WECHAT_TOKEN, aes_key=WECHAT_AES_KEY, appid=CREDENTIALS["WECHAT_APPID"])


@pytest.fixture
def community(app):
    row = factories.community()
    create_item(row.id, {"key": "laonianzheng", "name": "老年证办理", "aliases": ["老年证"], "time_limit_workdays": 5})
    db.session.commit()
    return row


def service_named(sim, text: str, openid: str = "o-vocab-1") -> str | None:
    assert sim.post(sim.text_xml(openid, text)).status == 200
    db.session.expire_all()
    row = db.session.scalars(select(Message).where(Message.text == text).order_by(Message.id.desc())).first()
    return (row.handling or {}).get("slots", {}).get("service")


def vocabulary_reads(app) -> list[str]:
    """The SELECTs of service items from now on (the vocabulary's rows)."""
    seen: list[str] = []

    @event.listens_for(db.engine, "before_cursor_execute")
    def _statement(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and "FROM service_item" in statement:
            seen.append(statement)

    return seen


def test_the_next_message_sees_a_staff_edit(app, sim, community):
    # Each message from another resident: a booking dialogue begun by one does not colour the next.
    assert service_named(sim, "想预约代办老年证", "o-vocab-a") == "laonianzheng"
    assert service_named(sim, "想预约代办敬老卡", "o-vocab-b") is None
    update_item(_item(community.id), {"name": "敬老卡办理", "aliases": ["敬老卡"]})
    db.session.commit()
    assert service_named(sim, "想预约代办敬老卡", "o-vocab-c") == "laonianzheng"
    assert service_named(sim, "想预约代办老年证", "o-vocab-d") is None


def _item(community_id: int) -> ServiceItem:
    return db.session.scalars(select(ServiceItem).where(ServiceItem.community_id == community_id)).one()


def test_rows_are_read_once_while_nothing_changes(app, sim, community):
    service_named(sim, "想预约代办老年证", "o-vocab-2")
    reads = vocabulary_reads(app)
    for n in range(3):
        assert service_named(sim, "想预约代办老年证", f"o-vocab-2{n}") == "laonianzheng"
    # The bot's vocabulary (the community's active items in order) came from the process's cache; the
    # booking handler still reads the one item it offers, by key.
    assert reads and not any("ORDER BY service_item.sort_order" in s for s in reads)


def test_another_process_entry_is_not_used_after_an_edit(app, sim, community):
    """An edit in another process renews the token in Redis: entries built under the old one are dropped."""
    assert service_named(sim, "想预约代办老年证", "o-vocab-3") == "laonianzheng"
    kept = dict(vocabulary._cache)   # what another process still holds
    update_item(_item(community.id), {"name": "敬老卡办理", "aliases": ["敬老卡"]})
    db.session.commit()
    vocabulary._cache.update(kept)   # that process never saw this one's commit
    assert service_named(sim, "想预约代办敬老卡", "o-vocab-3b") == "laonianzheng"


def test_redis_flushed_means_rows_read_again(app, sim, community):
    """A token, not a counter: a flushed Redis never hands an old entry's token back."""
    assert service_named(sim, "想预约代办老年证", "o-vocab-4") == "laonianzheng"
    token = redis_ext.client.get(vocabulary.VERSION_KEY)
    redis_ext.client.flushdb()
    assert service_named(sim, "想预约代办老年证", "o-vocab-4b") == "laonianzheng"
    assert redis_ext.client.get(vocabulary.VERSION_KEY) not in (None, token)
