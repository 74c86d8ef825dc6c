"""Settings of the change follower and of bounded-staleness reads, with their defaults.

Each is a Django setting of the same name, also read from the environment by `settings`;
read at call time, so `override_settings` works.
"""

from django.conf import settings

DEFAULTS = {
    # Seconds a read may lag the CRM when the follower's watermarks allow; None: every read strict.
    "CDMS_MAX_STALENESS": None,
    # Seconds a bounded read accepts since the last complete key sweep (deletions). Rows a read
    # returns are verified by key whatever this is, so it bounds only what count() can include.
    "CDMS_MAX_DELETE_STALENESS": 600.0,
    # Seconds each poll re-reads before its cursor: equal timestamps at page ends, late commits,
    # clock skew between the CRM and this machine.
    "CDMS_FOLLOW_OVERLAP": 5.0,
    "CDMS_FOLLOW_INTERVAL": 1.0,  # seconds between two polls of `cdms_follow`
    "CDMS_SWEEP_INTERVAL": 300.0,  # seconds between two key sweeps
    "CDMS_SWEEP_PARTITIONS": 8,  # parts of a sweep that workers share
    "CDMS_LEASE_SECONDS": 60.0,  # time-to-live of a follower's lease and a sweep part's claim
}


def follow_setting(name):
    """The value of a follower setting (the project's, or its default)."""
    return getattr(settings, name, DEFAULTS[name])
