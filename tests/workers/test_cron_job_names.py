"""Periodic jobs are recorded by RQ under their real dotted names, and still run in an app context."""
from rq import SimpleWorker
from rq.cron import CronScheduler

from app import jobs
from workers.cron import PERIODIC
from workers.runner import build_worker


def test_cron_jobs_are_described_by_their_function_path_and_run(app, redis_client):
    scheduler = CronScheduler(connection=redis_client)
    scheduler.load_config_from_file("workers.cron")
    by_name = {cron_job.name: cron_job for cron_job in scheduler.get_jobs()}
    assert set(by_name) == {jobs.spec(name).path for name, _ in PERIODIC}
    sweep = by_name["workers.sla.sweep_reply_clocks"]
    queued = sweep.enqueue(redis_client)
    # A callable instance would be recorded as "__call__" (logged "__call__()").
    assert queued.func_name == "workers.sla.sweep_reply_clocks"
    assert queued.description == "workers.sla.sweep_reply_clocks()"
    build_worker(app, worker_class=SimpleWorker).work(burst=True)
    assert queued.get_status(refresh=True) == "finished"
