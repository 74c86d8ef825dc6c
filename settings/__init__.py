"""Settings modules: `base` (everything), `local` (development), `test` (the suite).

The Celery application is loaded with them, so that tasks queued from any process (a web
request, a management command) go to the configured broker.
"""

from .celery import app as celery_app

__all__ = ["celery_app"]
