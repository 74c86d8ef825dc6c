"""The Celery application: `celery -A settings.celery worker` and `celery -A settings.celery beat`.

Configuration comes from Django's settings named `CELERY_*` (see the CRM block of
`settings.base`); tasks are discovered in each app's `tasks` module.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings.base")

app = Celery("datahub")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
