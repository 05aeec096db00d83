"""Messages a worker still has to finish (a report answered in the callback), handed over through Redis.

Enqueueing one RQ job per message cost the callback about a fifth of its CPU
(RQ builds and saves a job hash per call: docs/benchmarks.md), and each job forked
a work horse of its own. Instead the callback sends one small pipeline:

- ``RPUSH`` of the message id onto ``LIST_KEY``;
- ``SET NX`` of ``FLAG_KEY`` (expiring after ``FLAG_SECONDS``): only the caller that set it
  enqueues the ``inbound.finish`` job, so under load one job is queued per batch, not per message.

The job (workers/inbound.py) deletes the flag *first*, then pops ids until the list is
empty and finishes each: an id pushed after the delete either sets the flag again (and
queues the next job) or finds it set by a caller whose job has not started yet, and so
has not deleted it — every pushed id is popped by some job. Several workers each run such
a job when messages keep coming, in parallel: ``LPOP`` gives each id to one of them; a job
that finds more than a batch waiting queues one more job, so a backlog is shared out.

Nothing here is the only record: the message row stays ``pending_at`` until it is
finished, so an id lost with Redis (flushed, restarted, down at push time) or popped by a
worker killed mid-batch is finished by the inbound sweep (app/channels/recovery.py) after
its settle time.
"""
from __future__ import annotations

import logging

from app import jobs
from app.extensions import redis_ext

log = logging.getLogger(__name__)

FINISH_JOB = "inbound.finish"
LIST_KEY = "linli:inbound:to-finish"
FLAG_KEY = "linli:inbound:finisher-queued"
# A flag whose job never started (the enqueue failed after the SET NX) is given up after this.
FLAG_SECONDS = 30
BATCH = 50
# A job that is still draining after this hands on to a fresh one (its RQ timeout is 600 s).
JOB_SECONDS = 120


def request_finish(message_id: int) -> bool:
    """Hand a stored, pending message to the finisher. False when Redis could not be told (the sweep will)."""
    try:
        pipe = redis_ext.client.pipeline(transaction=False)
        pipe.rpush(LIST_KEY, message_id)
        pipe.set(FLAG_KEY, 1, nx=True, ex=FLAG_SECONDS)
        _pushed, first = pipe.execute()
        if first:
            jobs.enqueue(FINISH_JOB)
        return True
    except Exception:  # noqa: BLE001 - Redis down: the sweep finishes it from the database
        log.warning("could not hand message %s to the finisher; the inbound sweep will finish it", message_id,
                    exc_info=True)
        return False


def finisher_started() -> None:
    """The job's first step: later pushes queue a job of their own."""
    redis_ext.client.delete(FLAG_KEY)


def hand_on() -> None:
    """Queue another job for ids still waiting (the current one stops, or wants help with a backlog)."""
    jobs.enqueue(FINISH_JOB)


def take(count: int = BATCH) -> list[int]:
    """Up to ``count`` message ids to finish, each given to one caller only."""
    return [int(raw) for raw in (redis_ext.client.lpop(LIST_KEY, count) or [])]


def give_back(message_ids: list[int]) -> None:
    """Ids a job could not finish (it will be retried): pushed again for the retry or the next job."""
    if message_ids:
        redis_ext.client.rpush(LIST_KEY, *message_ids)


def backlog() -> int:
    return int(redis_ext.client.llen(LIST_KEY))


def waiting() -> list[int]:
    """The ids still to be taken (for tests and `linli` diagnostics), oldest first."""
    return [int(raw) for raw in redis_ext.client.lrange(LIST_KEY, 0, -1)]
