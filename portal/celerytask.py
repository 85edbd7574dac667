"""The base class of every Celery task: one database connection per worker process, and a message whose
job already finished is not run again.

Each task in a worker runs as Django runs a request: stale or broken connections are closed before and
after it (``close_old_connections``: ``CONN_MAX_AGE``, ``CONN_HEALTH_CHECKS``), a healthy one is kept.
Celery's own fix-up would close it around every task (settings: ``CELERY_DB_REUSE_MAX``).

With acks-late a message can arrive twice: Redis delivers an unacknowledged message again after its
visibility timeout, and a pool child lost mid-task puts its message back. When the first delivery's JobRun
has finished (or was declared lost and sent again as a new message, portal/jobs.py), the repeat is dropped.
Models are imported on first call: Celery loads this class before Django's apps are ready.
"""

from __future__ import annotations

import logging

from celery.contrib.django.task import DjangoTask
from django.db import close_old_connections

logger = logging.getLogger(__name__)


class PortalTask(DjangoTask):
    def __call__(self, *args, **kwargs):
        request = self.request
        if not request.id or request.is_eager:
            return super().__call__(*args, **kwargs)
        close_old_connections()
        try:
            from portal.models import JobRun

            job = JobRun.objects.filter(task_id=request.id).first()
            if job is not None and job.status not in (JobRun.Status.PENDING, JobRun.Status.RUNNING):
                logger.warning("Task %s[%s] delivered again after its job ended; not run again", self.name, request.id)
                return None
            request.job_run_row = job  # read once: job_run() (portal/jobs.py) starts from it
            return super().__call__(*args, **kwargs)
        finally:
            close_old_connections()
