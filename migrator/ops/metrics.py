"""Metrics read at scrape time, from the database: the age of every entity's watermarks, and
whether the CRM's credentials are refused.

No process keeps these: whichever process moved a watermark, `/metrics` reads it fresh, so the
ages are right across web, follower and worker processes. The counters every part increments
are in `migrator.instruments`.
"""

from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily

from ..credentials import refusal_in_force
from ..mirror.state import Watermark


def watermark_ages(now=None):
    """Return {entity: (changes age, deletions age)} in seconds (None where never set)."""
    now = now or timezone.now()

    def age(moment):
        return None if moment is None else max((now - moment).total_seconds(), 0.0)

    return {w.entity: (age(w.changes_until), age(w.deletions_until)) for w in Watermark.objects.order_by("entity")}


class WatermarkCollector:
    """Report the age of every entity's watermarks, read from the database at scrape time."""

    def collect(self):
        """Yield the watermark-age gauge family."""
        family = GaugeMetricFamily(
            "cdms_watermark_age_seconds",
            "Seconds since the follower's watermark (changes or deletions) of an entity",
            labels=["entity", "watermark"],
        )
        for entity, ages in watermark_ages().items():
            for kind, seconds in zip(("changes", "deletions"), ages, strict=True):
                if seconds is not None:
                    family.add_metric([entity, kind], seconds)
        yield family


class CredentialsCollector:
    """Report whether the CRM credentials are refused, and the seconds until one process tries again."""

    def collect(self):
        """Yield the refused-credentials gauges."""
        refusal = refusal_in_force()
        refused = GaugeMetricFamily(
            "cdms_credentials_refused", "1 while the CRM's credentials are refused and not sent, else 0"
        )
        refused.add_metric([], 0.0 if refusal is None else 1.0)
        yield refused
        retry = GaugeMetricFamily(
            "cdms_credentials_retry_seconds",
            "Seconds until refused CRM credentials may be tried again (0: not refused)",
        )
        wait = 0.0 if refusal is None else max((refusal.retry_at - timezone.now()).total_seconds(), 0.0)
        retry.add_metric([], wait)
        yield retry
