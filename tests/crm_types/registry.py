"""The test-only app's mappings, registered only while a test uses them (`mapped()`).

Registered at start-up like any app's, they are taken out of the registry at once, so that the
operations which go over every mapping (follower rounds, imports, sweeps, readiness) never meet
entities the other tests' CRM does not serve.
"""

from contextlib import contextmanager

from migrator import cdms_migrator

LABELS = ("crm_types.widget", "crm_types.visit", "crm_types.referencewidget")
_set_aside = {}


def set_aside():
    """Take the app's mappings out of the registry, keeping them for `mapped()`."""
    for label in LABELS:
        migrator = cdms_migrator._registry.pop(label, None)
        if migrator is not None:
            _set_aside[label] = migrator


@contextmanager
def mapped():
    """Register the app's mappings for the duration of the block."""
    cdms_migrator._registry.update(_set_aside)
    try:
        yield
    finally:
        for label in _set_aside:
            cdms_migrator._registry.pop(label, None)
