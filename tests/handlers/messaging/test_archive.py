"""`linli messages archive`: old chatter leaves the hot table, whatever something still needs stays,
and a run killed half way leaves every message in exactly one of the two tables."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, insert, select, text

from app.cli import cli
from app.db_setup import alembic_config
from app.extensions import db
from app.handlers.messaging import archive as archiving
from app.handlers.messaging.outbox import queue_message
from app.models import Message, ServiceRequest
from app.models.archive import message_archive
from app.models.sla import ReplyClock
from tests.factories.requests import build_world, inbound_message, report

pytest_plugins = ["tests.support.faults"]
ROOT = Path(__file__).resolve().parents[3]
START = datetime(2026, 1, 5, 2, 0, tzinfo=timezone.utc)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path, database_template):
    if request.param == "sqlite":
        if database_template is None:
            pytest.skip("the suite runs on PostgreSQL; the private server covers it")
        path = tmp_path / "linli.db"
        path.write_bytes(Path(database_template).read_bytes())
        return f"sqlite:///{path}"
    return request.getfixturevalue("private_postgres").url


def hot_ids() -> set[int]:
    return set(db.session.scalars(select(Message.id)))


def archived_ids() -> set[int]:
    return set(db.session.scalars(select(message_archive.c.id)))


def chatter(n: int, at: datetime, *, prefix: str = "c") -> None:
    """``n`` group messages received at ``at`` (one statement, for speed)."""
    db.session.execute(insert(Message), [
        {"direction": "in", "channel": "group", "dedupe_key": f"{prefix}-{i}", "chat_id": "chat-x", "sender_id": f"u{i}",
         "is_staff": False, "msg_type": "text", "text": f"早上好 {i}", "received_at": at, "attempts": 0}
        for i in range(n)])
    db.session.commit()


def test_old_chatter_moves_and_what_is_needed_stays(app, clock):
    clock.set(START)
    world = build_world()
    _, request = report(world)                                      # the request's message and its clock
    chat_message, _ = inbound_message("早上好")                        # plain chatter
    answered, _ = inbound_message("今天几点停水？", chat_id=None)         # a 1:1 question the bot answered
    reply = queue_message(channel="mp", recipient_kind="user", recipient_id="u-zhang", text="下午两点",
                          idempotency_key="reply-1", in_reply_to_id=answered.id, enqueue=False)
    reply.status = "sent"
    queued = queue_message(channel="mp", recipient_kind="user", recipient_id="u-zhang", text="还没发出",
                           idempotency_key="queued-1", enqueue=False)
    db.session.commit()
    ids = {"request": request.message_id, "chat": chat_message.id, "answered": answered.id, "reply": reply.id,
           "queued": queued.id}
    clock.advance(days=200)
    recent, _ = inbound_message("最近的一条")
    before = hot_ids()

    counted = archiving.plan(archiving.now() - timedelta(days=180))
    # Old: the request's message, the chatter, the question, its reply, the queued one, the request's own
    # outbound notices (still queued: no worker here).
    assert (counted.movable, counted.referenced) == (3, 1)
    assert counted.unsettled == counted.older - 4 >= 1
    assert hot_ids() == before                                        # a dry run writes nothing

    done = archiving.archive(archiving.now() - timedelta(days=180), batch_size=1)
    assert done.moved == 3
    assert archived_ids() == {ids["chat"], ids["answered"], ids["reply"]}
    assert hot_ids() == before - archived_ids()
    assert {ids["request"], ids["queued"], recent.id} <= hot_ids()
    # The request still finds its message and its clock; the archived message is still readable.
    assert db.session.get(Message, db.session.get(ServiceRequest, request.id).message_id) is not None
    assert db.session.scalar(select(ReplyClock.message_id).where(ReplyClock.request_id == request.id)) == ids["request"]
    row, is_archived = archiving.find_message(ids["chat"])
    assert is_archived and row["text"] == "早上好" and row["received_at"] == START
    assert archiving.archive(archiving.now() - timedelta(days=180)).moved == 0   # nothing left to do


def test_a_cutoff_inside_the_dedupe_horizon_is_refused(app, clock):
    clock.set(START)
    with pytest.raises(archiving.ArchiveError) as refused:
        archiving.archive(START - timedelta(days=archiving.MIN_RETENTION_DAYS - 1))
    assert refused.value.field == "before" and "7 天" in refused.value.message


def test_the_command_counts_moves_and_says_what_is_wrong(app, cli_runner):
    command.stamp(alembic_config(app), "head")
    chatter(5, datetime.now(timezone.utc) - timedelta(days=400))
    dry = cli_runner.invoke(cli, ["messages", "archive", "--older-than", "365d", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "早于它的消息 5，可归档 5" in dry.output
    assert len(hot_ids()) == 5
    done = cli_runner.invoke(cli, ["messages", "archive", "--before", "2026-01-01", "--batch-size", "2"])
    assert done.exit_code == 0, done.output
    assert "已归档 5 条消息" in done.output and len(archived_ids()) == 5
    shown = cli_runner.invoke(cli, ["messages", "show", str(min(archived_ids()))])
    assert shown.exit_code == 0 and "归档于" in shown.output and "早上好 0" in shown.output
    too_recent = cli_runner.invoke(cli, ["messages", "archive", "--older-than", "3d"])
    assert too_recent.exit_code == 1
    assert too_recent.output.strip().splitlines() == [too_recent.output.strip().splitlines()[0]]
    assert "至少要保留最近 7 天" in too_recent.output and "Traceback" not in too_recent.output
    bad = cli_runner.invoke(cli, ["messages", "archive", "--older-than", "half a year"])
    assert bad.exit_code == 2 and "--older-than" in bad.output
    missing = cli_runner.invoke(cli, ["messages", "show", "999999"])
    assert missing.exit_code == 1 and "没有 id 为 999999 的消息" in missing.output


def test_a_row_held_by_a_running_transaction_is_skipped_not_waited_for(app, private_postgres):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks: PostgreSQL")
    chatter(20, datetime.now(timezone.utc) - timedelta(days=400))
    held = min(hot_ids())
    other = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    with other.connect() as conn:
        # What inserting a row that references the message does: FOR KEY SHARE on it, until commit.
        conn.execute(text("SELECT id FROM message WHERE id = :id FOR KEY SHARE"), {"id": held})
        done = archiving.archive(datetime.now(timezone.utc) - timedelta(days=365), batch_size=7)
        conn.rollback()
    other.dispose()
    assert done.moved == 19 and hot_ids() == {held}
    assert archiving.archive(datetime.now(timezone.utc) - timedelta(days=365)).moved == 1


def test_killed_mid_run_every_message_is_in_exactly_one_table(app, tmp_path):
    command.stamp(alembic_config(app), "head")
    total = 6000
    chatter(total, datetime.now(timezone.utc) - timedelta(days=400))
    everything = hot_ids()
    db.session.rollback()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINLI_")}
    env.update({"LINLI_ENV": "development", "LINLI_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
                "LINLI_REDIS_URL": "redis://127.0.0.1:1/0", "LINLI_INSTANCE_PATH": str(tmp_path / "i"),
                "LINLI_LOG_LEVEL": "WARNING"})
    argv = [sys.executable, "-m", "app.cli", "messages", "archive", "--older-than", "365d", "--batch-size", "20"]
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    counter = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            with counter.connect() as conn:
                if conn.execute(text("SELECT count(*) FROM message_archive")).scalar() >= 200:
                    break
            time.sleep(0.01)
        assert proc.poll() is None, proc.stdout.read().decode()   # killed while it still had work
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finally:
        counter.dispose()
        if proc.poll() is None:
            proc.kill()
    db.session.rollback()
    hot, archived = hot_ids(), archived_ids()
    assert 0 < len(archived) < total
    assert hot.isdisjoint(archived) and hot | archived == everything
    again = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stdout + again.stderr
    db.session.rollback()
    assert hot_ids() == set() and archived_ids() == everything
