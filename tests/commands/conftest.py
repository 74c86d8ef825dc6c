"""Fixtures for the command tests: Django pointed at a fresh emulator, and a way to run commands."""

import io

import pytest
from django.core.management import call_command


@pytest.fixture
def cdms(crm, settings, db):
    """The emulator, empty, with Django's CRM settings pointing at it."""
    settings.CDMS_BASE_URL = crm.base_url
    settings.CDMS_TIMEOUT = 2.0
    return crm


@pytest.fixture
def run():
    """Run a management command; returns its standard output."""

    def run_command(name, *args):
        out = io.StringIO()
        extra = ["--no-progress"] if name == "cdms_import" else []
        call_command(name, *args, *extra, stdout=out)
        return out.getvalue()

    return run_command
