"""RQ jobs. Queue names are constants of ``app.jobs``; every job is declared with ``@job(name)``."""
from app.jobs import ALL_QUEUES, QUEUE_DEFAULT, QUEUE_SEND, QUEUE_SLA  # noqa: F401
from workers.jobs import job  # noqa: F401
