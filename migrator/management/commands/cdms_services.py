"""`manage.py cdms_services`: say which database and Celery broker this deployment found."""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection

from migrator.management.broker import broker_answers, shown


class Command(BaseCommand):
    help = "Say which database and Celery broker this deployment uses or found."

    def handle(self, *args, **options):
        db = connection.settings_dict
        where = db["NAME"] if connection.vendor == "sqlite" else f"{db['HOST']}:{db['PORT']}/{db['NAME']}"
        self.stdout.write(f"  Database: {connection.vendor} ({where})")
        broker = settings.CELERY_BROKER_URL
        if broker_answers(broker):
            self.stdout.write(
                f"  Celery broker found at {shown(broker)}: to run the follower on workers instead, start "
                "`celery -A settings.celery worker` and `celery -A settings.celery beat`."
            )
        else:
            self.stdout.write(f"  No Celery broker at {shown(broker)}: the follower runs as one process.")
