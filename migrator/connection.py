"""The CRM client of the current thread, built from the CDMS_* settings.

A CDMSClient is not thread-safe (one requests.Session, NTLM state per connection), so each
thread gets its own, built on first use from the settings read at that moment. When a CDMS_*
setting changes (`override_settings` in tests) a generation counter is bumped and every thread
rebuilds its client on its next call, so no thread keeps talking to the old CRM.

`CDMS_TIMEOUT` is one number of seconds: it is the read timeout, and the connect timeout is
min(CDMS_TIMEOUT, 5) because a CRM that takes longer than that to accept a connection is down.
"""

import itertools
import threading

from django.core.signals import setting_changed
from django.dispatch import receiver

from cdms_api.auth import make_auth
from cdms_api.client import CDMSClient

from .cdms_migrator import registered_migrators
from .conf import cdms_settings

CONNECT_TIMEOUT_CAP = 5.0
SETTINGS = ("CDMS_BASE_URL", "CDMS_AUTH", "CDMS_ADFS_URL", "CDMS_USERNAME", "CDMS_PASSWORD", "CDMS_TIMEOUT")

_local = threading.local()
_generations = itertools.count(1)
_generation = next(_generations)


def build_client():
    """Return a new CDMSClient configured from the current settings."""
    timeout = float(cdms_settings.CDMS_TIMEOUT)
    auth = make_auth(
        cdms_settings.CDMS_AUTH,
        cdms_settings.CDMS_USERNAME,
        cdms_settings.CDMS_PASSWORD,
        adfs_url=cdms_settings.CDMS_ADFS_URL,
    )
    return CDMSClient(
        cdms_settings.CDMS_BASE_URL,
        auth=auth,
        timeout=(min(timeout, CONNECT_TIMEOUT_CAP), timeout),
        key_attributes=KeyAttributes(),
    )


class KeyAttributes:
    """The key attribute of each mapped entity (`ActivityId` for an activity), read from the mappings."""

    def get(self, entity, default=None):
        """The key attribute a mapping names for `entity`, or `default`."""
        for migrator in registered_migrators():
            if migrator.service == entity:
                return migrator.key_attribute
        return default


def get_client():
    """Return this thread's CDMSClient, rebuilt if a CDMS_* setting changed since it was made."""
    generation = _generation
    client = getattr(_local, "client", None)
    if client is None or _local.generation != generation:
        if client is not None:
            client.close()
        _local.client, _local.generation = build_client(), generation
    return _local.client


@receiver(setting_changed)
def _cdms_setting_changed(*, setting, **kwargs):
    global _generation
    if setting.startswith("CDMS_"):
        _generation = next(_generations)
