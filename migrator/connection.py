"""The CRM client of the current thread, built from the CDMS_* settings.

A CDMSClient is not thread-safe (one requests.Session, NTLM state per connection), so each
thread gets its own, built on first use from the settings read at that moment. When a CDMS_*
setting changes (`override_settings` in tests) a generation counter is bumped and every thread
rebuilds its client on its next call, so no thread keeps talking to the old CRM.

The auth object is built once per process (and settings generation) and shared by every
thread's client: with AD FS they share one signed-in session (one sign-in at a time), and all
share one `CredentialGuard` whose refusals live in the database (`ops.credentials`), so refused
credentials are not sent again by any thread or process until the back-off passes.

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
from .credentials import make_guard

CONNECT_TIMEOUT_CAP = 5.0

_local = threading.local()
_generations = itertools.count(1)
_generation = next(_generations)
_shared_lock = threading.Lock()
_shared = {"generation": None, "auth": None}


def build_auth():
    """Return a new auth object (with its database-backed guard) for the current settings."""
    s = cdms_settings
    if s.CDMS_AUTH == "none":
        return None
    return make_auth(
        s.CDMS_AUTH,
        s.CDMS_USERNAME,
        s.CDMS_PASSWORD,
        adfs_url=s.CDMS_ADFS_URL,
        whr=s.CDMS_ADFS_WHR or None,
        sts_urls=s.CDMS_ADFS_STS_URLS,
        guard=make_guard(),
    )


def shared_auth():
    """The process's auth object for the current settings, shared by every thread's client."""
    generation = _generation
    with _shared_lock:
        if _shared["generation"] != generation:
            _shared.update(generation=generation, auth=build_auth())
        return _shared["auth"]


def build_client():
    """Return a new CDMSClient configured from the current settings."""
    timeout = float(cdms_settings.CDMS_TIMEOUT)
    connect = min(timeout, CONNECT_TIMEOUT_CAP)
    return CDMSClient(
        cdms_settings.CDMS_BASE_URL,
        auth=shared_auth(),
        timeout=(connect, timeout),
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
