"""Every job in app.jobs.JOBS resolves to the @job function at its path, and every @job is registered."""
import importlib
import pkgutil

import pytest

import workers
from app import jobs
from workers.jobs import JobFunction

SERVICE_JOBS = {name: spec for name, spec in jobs.JOBS.items() if spec.path.startswith("workers.")}


@pytest.mark.parametrize("name", sorted(SERVICE_JOBS))
def test_every_registered_job_resolves_to_its_job_function(name):
    module, attr = SERVICE_JOBS[name].path.rsplit(".", 1)
    function = getattr(importlib.import_module(module), attr)
    assert isinstance(function, JobFunction)
    assert function.name == name
    assert function.path == SERVICE_JOBS[name].path


def test_every_job_function_in_workers_is_registered():
    found = {}
    for info in pkgutil.iter_modules(workers.__path__):
        module = importlib.import_module(f"workers.{info.name}")
        for value in vars(module).values():
            if isinstance(value, JobFunction) and value.fn.__module__ == module.__name__:
                found[value.path] = value.name
    assert found, "no job functions found under workers/"
    assert {path: jobs.JOBS[name].path for path, name in found.items()} == {path: path for path in found}
    assert set(found) == {spec.path for spec in SERVICE_JOBS.values()}


def test_job_ids_keep_their_production_shape():
    # Jobs already waiting in a production Redis carry these ids: they must not change.
    assert jobs.job_id("sla", "breach", 7) == "sla-breach-7"
    assert jobs.job_id("request", "overdue", 7) == "request-overdue-7"
    assert jobs.job_id("proxy", "remind", 7, "day_before") == "proxy-remind-7-day_before"
    assert jobs.job_id("event", "remind", 7) == "event-remind-7"
    assert jobs.job_id("send", 7) == "send-7"
