"""A new report on /wechat/mp: answered at once with its number, its request created by a worker (issue 13 §1).

docs/reliability.md §11. The full app (bot, router, requests domain) on the test's
real database and Redis; the worker's job is taken from the real RQ queue and
performed, or left there (a worker that is down) for the sweep.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from rq import Queue
from rq.job import Job
from sqlalchemy import select, update

from app.channels import recovery
from app.extensions import db, redis_ext
from app.handlers.messaging import to_finish
from app.handlers.requests import deferred, finish_deferred
from app.handlers.requests.rules import reply_sla_text
from app.jobs import QUEUE_DEFAULT
from app.models import Message
from app.models.requests import ServiceRequest
from app.models.sla import ReplyClock
from tests.channels.conftest import inbound_rows
from tests.support.deferred_texts import CODE, DEFERRED_SETTINGS, REPORT

pytest_plugins = ["tests.support.faults", "tests.support.deferred_reports"]


@pytest.fixture
def app_overrides():
    return DEFERRED_SETTINGS


def requests_() -> list[ServiceRequest]:
    db.session.expire_all()
    return list(db.session.scalars(select(ServiceRequest).order_by(ServiceRequest.id)))


def clocks() -> list[ReplyClock]:
    db.session.expire_all()
    return list(db.session.scalars(select(ReplyClock).order_by(ReplyClock.id)))


def queued_finisher() -> Job | None:
    """The finisher job the callback queued (one per batch: app/handlers/messaging/to_finish.py)."""
    queue = Queue(QUEUE_DEFAULT, connection=redis_ext.client)
    jobs = [job for job in queue.jobs if job.func_name == "workers.inbound.finish_message"]
    assert len(jobs) <= 1
    return jobs[0] if jobs else None


def report(sim, openid: str = "o-defer-1", text: str = REPORT, *, aes: bool = False, msg_id: int | None = None):
    result = sim.post(sim.text_xml(openid, text, msg_id=msg_id), aes=aes)
    assert result.status == 200
    return result


def aware(moment):
    return moment if moment.tzinfo else moment.replace(tzinfo=__import__("datetime").timezone.utc)


@pytest.mark.parametrize("aes", [False, True], ids=["plain", "aes"])
def test_the_passive_reply_names_the_number_before_the_request_exists(app, sim, community, clock, aes):
    result = report(sim, aes=aes)
    [code] = CODE.findall(result.reply_content)
    assert result.reply_content == f"已收到您的反映（编号{code}），值班人员会在{reply_sla_text()}内答复。"
    assert code.startswith("R20261117-")
    assert requests_() == [] and clocks() == []          # nothing of the heavy part inside the callback
    [row] = inbound_rows()
    assert row.pending_at is not None and row.claimed_at is None
    assert row.handling["deferred"] == "requests.report" and row.handling["request_code"] == code
    assert queued_finisher() is not None and to_finish.waiting() == [row.id]


def test_the_worker_creates_exactly_that_request_with_the_clock_from_arrival(app, sim, community, clock):
    [code] = CODE.findall(report(sim).reply_content)
    [row] = inbound_rows()
    arrived = aware(row.received_at)
    clock.advance(seconds=7)                            # the worker gets to it later
    job = queued_finisher()
    assert job.perform()["message_ids"] == [row.id]
    assert to_finish.waiting() == []
    [request] = requests_()
    assert request.code == code and request.message_id == row.id
    assert request.resident_id == row.resident_id and request.community_id == community.id
    assert aware(request.created_at) == arrived
    [clock_row] = clocks()
    assert clock_row.request_id == request.id and clock_row.message_id == row.id
    assert aware(clock_row.started_at) == arrived
    assert aware(clock_row.due_at) == arrived + timedelta(seconds=app.config["REPLY_SLA_SECONDS"])
    [row] = inbound_rows()
    assert row.pending_at is None and row.claimed_at is None
    assert row.handling["request_id"] == request.id and row.handling["finished_by"] == "worker"
    assert row.handling["reply_text"].startswith(f"已收到您的反映（编号{code}）")


def test_finishing_twice_creates_one_request(app, sim, community, clock):
    report(sim)
    [row] = inbound_rows()
    first = finish_deferred(row.id)
    assert first is not None and finish_deferred(row.id) is None
    # A finisher that died after creating the request but before clearing the mark: finished again.
    db.session.execute(update(Message).where(Message.id == row.id)
                       .values(pending_at=clock() - timedelta(minutes=5), claimed_at=None))
    db.session.commit()
    clock.advance(seconds=deferred.SETTLE_SECONDS + 1)
    assert recovery.sweep(app.instance_path)["finished"] == 1
    assert [r.id for r in requests_()] == [first.id] and len(clocks()) == 1
    assert inbound_rows()[0].pending_at is None


def test_worker_down_the_sweep_finishes_it_later(app, sim, community, clock):
    [code] = CODE.findall(report(sim).reply_content)
    [row] = inbound_rows()
    arrived = aware(row.received_at)
    Queue(QUEUE_DEFAULT, connection=redis_ext.client).empty()   # no worker ever takes the job
    assert recovery.sweep(app.instance_path)["finished"] == 0    # too young: still its job's
    clock.advance(seconds=deferred.SETTLE_SECONDS + 1)
    assert recovery.sweep(app.instance_path) == {"spooled": 0, "handled": 0, "finished": 1}
    assert recovery.sweep(app.instance_path)["finished"] == 0
    [request] = requests_()
    assert request.code == code
    [clock_row] = clocks()
    assert aware(clock_row.started_at) == arrived
    assert inbound_rows()[0].handling["finished_by"] == "sweep"


def test_a_live_claim_is_left_alone_and_a_dead_ones_taken_over(app, sim, community, clock):
    report(sim)
    [row] = inbound_rows()
    db.session.execute(update(Message).where(Message.id == row.id).values(claimed_at=clock()))
    db.session.commit()
    clock.advance(seconds=deferred.SETTLE_SECONDS + 1)
    assert recovery.sweep(app.instance_path)["finished"] == 0   # a worker is on it
    assert finish_deferred(row.id) is None
    clock.advance(seconds=deferred.LEASE_SECONDS)
    assert recovery.sweep(app.instance_path)["finished"] == 1   # that worker died
    assert len(requests_()) == 1


def test_a_redelivery_while_pending_is_answered_the_same_and_makes_one_request(app, sim, community, clock):
    xml = sim.text_xml("o-defer-1", REPORT, msg_id=77001)
    first, again = sim.post(xml), sim.post(xml, aes=True)
    assert first.reply_content == again.reply_content and CODE.search(first.reply_content)
    [row] = inbound_rows()
    assert len(queued_finisher().perform()["request_ids"]) == 1
    assert sim.post(xml).reply_content == first.reply_content
    assert len(requests_()) == 1 and len(inbound_rows()) == 1


def test_a_follow_up_while_the_report_is_pending_joins_it(app, sim, community, clock):
    [code] = CODE.findall(report(sim).reply_content)
    clock.advance(seconds=2)
    follow = report(sim, text="3栋楼道灯还是不亮")
    assert follow.reply_content == f"已将您的补充说明记入诉求（编号{code}），值班人员会一并处理。"
    [request] = requests_()
    assert request.code == code
    first, second = inbound_rows()
    assert first.pending_at is None and first.handling["finished_by"] == "next_message"
    assert second.pending_at is None
    assert queued_finisher().perform()["request_ids"] == []   # the job finds it done


def test_two_residents_get_two_numbers_and_two_requests(app, sim, community, clock):
    codes = [CODE.findall(report(sim, f"o-defer-{n}", f"{n}号楼电梯坏了").reply_content)[0] for n in (1, 2)]
    assert len(set(codes)) == 2
    assert recovery.sweep(app.instance_path)["finished"] == 0
    clock.advance(seconds=deferred.SETTLE_SECONDS + 1)
    assert recovery.sweep(app.instance_path)["finished"] == 2
    assert sorted(r.code for r in requests_()) == sorted(codes)


def test_off_the_request_is_created_in_the_callback(app, sim, community, clock):
    app.config["INBOUND_DEFER_REPORTS"] = False
    [code] = CODE.findall(report(sim).reply_content)
    [request] = requests_()
    assert request.code == code and inbound_rows()[0].pending_at is None


class TestRedisDown:
    @pytest.fixture
    def redis_url(self, private_redis):
        return private_redis.url

    def test_no_number_from_redis_the_request_is_created_in_the_callback(self, app, sim, community, clock,
                                                                         private_redis):
        with private_redis.down():
            [code] = CODE.findall(report(sim).reply_content)
        [request] = requests_()
        assert request.code == code
        [row] = inbound_rows()
        assert row.pending_at is None and "deferred" not in row.handling

    def test_a_job_lost_with_redis_is_finished_by_the_sweep(self, app, sim, community, clock, private_redis):
        [code] = CODE.findall(report(sim).reply_content)
        private_redis.restart()     # not persisted: the queued job is gone with it
        [row] = inbound_rows()
        assert queued_finisher() is None and to_finish.waiting() == [] and row.pending_at is not None
        clock.advance(seconds=deferred.SETTLE_SECONDS + 1)
        assert recovery.sweep(app.instance_path)["finished"] == 1
        [request] = requests_()
        assert request.code == code
