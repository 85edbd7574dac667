"""The base class of every Celery task: a message whose job already finished is not run again.

With acks-late a message can arrive twice: Redis delivers an unacknowledged message again after its
visibility timeout, and a pool child lost mid-task puts its message back. When the first delivery's JobRun
has finished (or was declared lost and sent again as a new message, portal/jobs.py), the repeat is dropped.
Models are imported on first call: Celery loads this class before Django's apps are ready.
"""

from __future__ import annotations

import logging

from celery.contrib.django.task import DjangoTask

logger = logging.getLogger(__name__)


class PortalTask(DjangoTask):
    def __call__(self, *args, **kwargs):
        request = self.request
        if request.id and not request.is_eager:
            from portal.models import JobRun

            done = JobRun.objects.filter(task_id=request.id).exclude(
                status__in=[JobRun.Status.PENDING, JobRun.Status.RUNNING]
            )
            if done.exists():
                logger.warning("Task %s[%s] delivered again after its job ended; not run again", self.name, request.id)
                return None
        return super().__call__(*args, **kwargs)
