"""`manage.py cdms_services`: say which database and Celery broker this deployment found."""

import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection


def broker_answers(url, timeout=1.0):
    """True when the host and port of a broker URL accept a connection."""
    parts = urlsplit(url)
    if not parts.hostname:
        return False
    default_port = {"redis": 6379, "amqp": 5672}.get(parts.scheme, 0)
    try:
        socket.create_connection((parts.hostname, parts.port or default_port), timeout).close()
        return True
    except OSError:
        return False


class Command(BaseCommand):
    help = "Say which database and Celery broker this deployment uses or found."

    def handle(self, *args, **options):
        db = connection.settings_dict
        where = db["NAME"] if connection.vendor == "sqlite" else f"{db['HOST']}:{db['PORT']}/{db['NAME']}"
        self.stdout.write(f"  Database: {connection.vendor} ({where})")
        broker = settings.CELERY_BROKER_URL
        if broker_answers(broker):
            self.stdout.write(
                f"  Celery broker found at {broker}: to run the follower on workers instead, start "
                "`celery -A settings.celery worker` and `celery -A settings.celery beat`."
            )
        else:
            self.stdout.write(f"  No Celery broker at {broker}: the follower runs as one process.")
