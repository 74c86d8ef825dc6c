"""Moving the CRM's vouches back in time, so a test sees rows the CRM last showed long ago."""

import datetime as dt

from django.utils import timezone

from migrator.mirror.vouching import Vouch


def age_vouches(seconds=3600, **where):
    """Make every vouch (or those matching `where`) `seconds` old."""
    Vouch.objects.filter(**where).update(at=timezone.now() - dt.timedelta(seconds=seconds))
