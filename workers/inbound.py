"""Inbound messages: finishing deferred reports, and the backstop for spooled or unhandled deliveries."""
from __future__ import annotations

import logging
import time

from app.channels.recovery import sweep
from app.handlers.messaging import to_finish
from app.handlers.requests import finish_deferred
from workers.jobs import job

log = logging.getLogger(__name__)


@job("inbound.finish")
def finish_message(message_id: int | None = None) -> dict:
    """Create the requests that reports answered in the callback were promised (app/handlers/messaging/to_finish.py).

    Drains the ids handed over until none is left, and with a backlog queues one more job so that
    another worker helps; ``message_id``: one more, from a job queued by an earlier version, which
    queued a job per message. A message that fails is given back and
    the job raises at the end, so RQ's retry (or the sweep) takes it again.
    """
    to_finish.finisher_started()
    done: list[int] = []
    created: list[int] = []
    failed: list[int] = []
    pending = [message_id] if message_id is not None else []
    started = time.monotonic()
    helped = False
    while True:
        if time.monotonic() - started > to_finish.JOB_SECONDS:
            to_finish.hand_on()   # messages keep coming: a fresh job goes on, within the job timeout
            break
        batch = pending or to_finish.take()
        pending = []
        if not batch:
            break
        if not helped and to_finish.backlog() > to_finish.BATCH:
            to_finish.hand_on()   # a backlog (workers were down, a burst): another worker may help
            helped = True
        for one in batch:
            try:
                request = finish_deferred(one)
            except Exception:  # noqa: BLE001 - logged; the message stays pending, tried again below
                log.exception("finishing message %s failed", one)
                failed.append(one)
                continue
            done.append(one)
            if request is not None:
                created.append(request.id)
    if failed:
        to_finish.give_back(failed)
        raise RuntimeError(f"{len(failed)} message(s) could not be finished: {failed[:10]}")
    return {"message_ids": done, "request_ids": created}


@job("inbound.sweep")
def sweep_inbound() -> dict:
    """Drain this node's spool, handle stored-but-unhandled messages, finish deferred reports left pending."""
    return sweep()
