"""The timer: runs ``precise`` jobs (the reply clock's alerts) at their time, and sends what they queue at once.

RQ's scheduler keys jobs by whole seconds and looks once a second, and one worker sends the
recipients' messages one job after another: alerts reached WeCom 1–2.7 s late. The timer sleeps
until the earliest entry of the timer's list in Redis (``app.jobs.TIMER_DUE``, milliseconds), wakes
early when a new entry is published on ``TIMER_WAKE`` (never sleeping more than ``MAX_SLEEP``), takes
the due entries atomically (of several timers each entry goes to one) and runs each job in a thread.
While a job runs, every message it queues through the outbox is delivered by the timer's send
threads side by side (``outbox.delivering_inline``) — the same ``deliver`` the RQ job runs, with the
same claim, so nothing can be sent twice.

Work before the due time: the timer takes each entry ``LEAD`` seconds early. A job with a preparing
half (``PREPARED``: the reply clock's alerts, app/handlers/sla/prepared.py) does its reads then —
recipients, texts, the rows to insert, in memory — and at the due time only its one transaction
(claim = re-check that the clock is still open, then the rows) and the sends remain. Other jobs wait
for their due time and run as they are. The database connections and send threads are opened when
the timer starts, not by the first alert.

Losing nothing: an entry is taken before its job runs (and before it is prepared), so a timer killed
-9 in between loses that run — nothing was written; the job's RQ twin (same job id, scheduled as before) runs a second later and the sweep is behind
both. A message the timer queued but did not get to send is handed over by the outbox reconciler
(its ``check_at``), a send it was killed in is resolved like any other (docs/reliability.md §4).

Runs as ``linli timer``, and as a thread of ``linli cron`` (so ``linli serve`` has it too).
"""
from __future__ import annotations

import importlib
import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from flask import Flask
from redis.exceptions import RedisError

from app import jobs
from app.clock import now
from app.extensions import db, redis_ext
from app.handlers.messaging.outbox import delivering_inline, enqueue_delivery
from workers.sends import SendRetry, deliver

log = logging.getLogger(__name__)

MAX_SLEEP = 1.0        # seconds; also how soon a timer notices an entry whose wake-up it missed
LEAD = 2.0             # seconds before its due time an entry is taken and prepared (a loaded machine needs ~1 s)
JOB_THREADS = 32       # a prepared job holds its thread until its due time: the next LEAD seconds' entries at once
SEND_THREADS = 16
BATCH = 100
# Jobs whose work splits into a preparation before the due time and a short firing at it:
# job name → (module, prepare function, fire function). The RQ twin runs the whole job as before.
PREPARED = {"sla.fire_alert": ("workers.sla", "prepare_reply_alert", "fire_prepared_alert")}


class Timer:
    def __init__(self, app: Flask, *, job_threads: int = JOB_THREADS, send_threads: int = SEND_THREADS):
        self.app = app
        self.stopping = threading.Event()
        self.jobs = ThreadPoolExecutor(job_threads, thread_name_prefix="linli-timer-job")
        self.sends = ThreadPoolExecutor(send_threads, thread_name_prefix="linli-timer-send")
        self.send_threads = send_threads
        self.fired = 0      # entries taken
        self.prepared = 0   # of them, prepared ahead of their due time
        self.finished = 0   # of them, done (fired, found nothing owed, or failed)
        self._count = threading.Lock()  # the job threads update the counters
        for spec in jobs.JOBS.values():
            if spec.precise:  # imported now, not in the first due job's time
                importlib.import_module(spec.path.rsplit(".", 1)[0])

    def run(self) -> None:
        """Until ``stop()``: take what is due, run it, sleep until the next entry (or a wake-up)."""
        self.warm()
        backoff = 0.5
        while not self.stopping.is_set():
            try:
                self._loop()
                return
            except RedisError as exc:
                log.warning("timer: Redis unavailable (%s); retrying in %.1f s", type(exc).__name__, backoff)
                self.stopping.wait(backoff)
                backoff = min(backoff * 2, 30.0)

    def _loop(self) -> None:
        connection = redis_ext.client_for(self.app)
        pubsub = connection.pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(jobs.TIMER_WAKE)
        try:
            while not self.stopping.is_set():
                self.tick(connection)
                wait = self._sleep_for(connection)
                if wait > 0:
                    pubsub.get_message(timeout=wait)
                while pubsub.get_message(timeout=0) is not None:
                    pass  # several wake-ups at once: one recomputation is enough
        finally:
            pubsub.close()

    def _now(self) -> float:
        with self.app.app_context():
            return now().timestamp()

    def _sleep_for(self, connection) -> float:
        due = jobs.timer_next(connection)
        if due is None:
            return MAX_SLEEP
        return max(0.0, min(MAX_SLEEP, due - LEAD - self._now()))

    def tick(self, connection=None) -> int:
        """Start every job due within ``LEAD`` seconds (each fires at its own due time); returns how many."""
        connection = connection or redis_ext.client_for(self.app)
        taken = jobs.timer_take(connection, self._now() + LEAD, BATCH)
        for job_id, entry in taken:
            self.jobs.submit(self._run, job_id, entry)
        self.fired += len(taken)
        return len(taken)

    def warm(self) -> None:
        """Open the send threads and the database connections they will use, now rather than at an alert."""
        pool = db.engine_for(self.app).pool
        count = min(self.send_threads, pool.size() if hasattr(pool, "size") else 1)
        barrier = threading.Barrier(count, timeout=10)

        def hold() -> None:  # every thread holds a connection at once, so the pool keeps `count` of them
            try:
                with db.engine_for(self.app).connect() as connection:
                    connection.exec_driver_sql("SELECT 1")
                    barrier.wait()
            except Exception:  # noqa: BLE001 - warming is an optimisation; the first send opens what it needs
                log.debug("timer: warming a connection failed", exc_info=True)
        for future in [self.sends.submit(hold) for _ in range(count)]:
            future.result()

    def _run(self, job_id: str, entry: dict) -> None:
        with self.app.app_context():
            try:
                self._prepare_and_fire(job_id, entry)
            except Exception:  # noqa: BLE001 - the RQ twin of this job and the sweep still do the work
                log.exception("timer: job %s failed; its RQ job and the sweep remain", job_id)
            finally:
                db.session.remove()
                with self._count:
                    self.finished += 1

    def _prepare_and_fire(self, job_id: str, entry: dict) -> None:
        args, kwargs = entry.get("args", []), entry.get("kwargs", {})
        hooks = PREPARED.get(entry["name"])
        if hooks is not None:
            module = importlib.import_module(hooks[0])
            try:
                prepared = getattr(module, hooks[1])(*args, **kwargs)
            except Exception:  # noqa: BLE001 - run the whole job at the due time instead
                log.exception("timer: preparing %s failed; running it whole at its time", job_id)
                hooks = None
            else:
                if prepared is None:
                    return  # nothing owed (the clock stopped, the alert fired); the RQ twin finds the same
                with self._count:
                    self.prepared += 1
                log.info("timer: prepared %s, due in %.3f s", job_id, float(entry.get("at") or 0) - now().timestamp())
        if not self._wait_until(float(entry.get("at") or 0)):
            return  # stopping: the RQ twin and the sweep do it
        with delivering_inline(self._send):
            if hooks is not None:
                getattr(module, hooks[2])(prepared)
            else:
                module_name, name = jobs.spec(entry["name"]).path.rsplit(".", 1)
                getattr(importlib.import_module(module_name), name)(*args, **kwargs)

    def _wait_until(self, due: float) -> bool:
        """Sleep until ``due`` by the app's clock (never early); False if the timer is stopping."""
        while True:
            left = due - now().timestamp()
            if left <= 0:
                return True
            db.session.remove()  # no connection held while waiting
            if self.stopping.wait(left):
                return False

    def _send(self, message_id: int) -> None:
        self.sends.submit(self._deliver, message_id)

    def _deliver(self, message_id: int) -> None:
        with self.app.app_context():
            try:
                deliver(message_id, final_attempt=False)
            except SendRetry:
                self._hand_over(message_id)  # transient trouble: RQ's retries with backoff take over
            except Exception:  # noqa: BLE001 - the row's check_at brings the reconciler
                log.exception("timer: sending message %s failed; the reconciler will hand it over", message_id)
            finally:
                db.session.remove()

    def _hand_over(self, message_id: int) -> None:
        try:
            enqueue_delivery(message_id)
        except Exception:  # noqa: BLE001 - Redis down: the reconciler hands it over later
            log.warning("timer: could not enqueue message %s", message_id, exc_info=True)

    def stop(self, wait: bool = True) -> None:
        self.stopping.set()
        self.jobs.shutdown(wait=wait)
        self.sends.shutdown(wait=wait)


def start_thread(app: Flask) -> Timer:
    """Run a timer in a daemon thread of this process (``linli cron``)."""
    timer = Timer(app)
    threading.Thread(target=timer.run, name="linli-timer", daemon=True).start()
    return timer


def run_timer(app: Flask) -> None:
    """``linli timer``: run in the foreground until interrupted."""
    timer = Timer(app)
    log.info("timer: running precise jobs (wakes at each due time, at most every %.1f s)", MAX_SLEEP)
    try:
        timer.run()
    except KeyboardInterrupt:
        pass
    finally:
        timer.stop(wait=False)
