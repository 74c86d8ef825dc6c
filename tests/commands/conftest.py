"""Fixtures for the command tests: Django pointed at a fresh emulator, and a way to run commands."""

import io

import pytest
from django.core.management import call_command


@pytest.fixture
def run():
    """Run a management command; returns its standard output."""

    def run_command(name, *args):
        out = io.StringIO()
        extra = ["--no-progress"] if name == "cdms_import" else []
        call_command(name, *args, *extra, stdout=out)
        return out.getvalue()

    return run_command
