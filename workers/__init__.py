"""RQ jobs. Queue names are constants; every job is declared with ``@job``."""
from workers.jobs import QUEUE_DEFAULT, QUEUE_SEND, QUEUE_SLA, ALL_QUEUES, job  # noqa: F401
