"""Start-up configuration: bad environment values stop start-up with a message naming the variable."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _check(**overrides):
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("CDMS_", "DATABASE_URL"))}
    environ.update(DJANGO_SETTINGS_MODULE="settings.base", SECRET_KEY="x", **overrides)
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=environ, capture_output=True, text=True
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CDMS_TIMEOUT", "soon"),
        ("CDMS_AUTH", "kerberos"),
        ("DATABASE_URL", "nosuchdb://x"),
        ("DEBUG", "maybe"),
        ("TIME_ZONE", "Mars/Olympus"),
        ("CDMS_SYNC_MAX_ROWS", "-3"),
    ],
)
def test_malformed_value_names_the_variable(name, value):
    result = _check(**{name: value})
    assert result.returncode != 0
    assert name in result.stderr


def test_secret_key_required_without_debug():
    environ = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    environ["DJANGO_SETTINGS_MODULE"] = "settings.base"
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=environ, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_ntlm_needs_credentials():
    result = _check(CDMS_AUTH="ntlm")
    assert result.returncode != 0
    assert "CDMS_USERNAME" in result.stderr


def test_good_configuration_starts():
    result = _check(CDMS_TIMEOUT="12.5", CDMS_AUTH="none", TIME_ZONE="UTC")
    assert result.returncode == 0, result.stderr


def test_settings_are_read_lazily(settings):
    from django.conf import settings as live

    settings.CDMS_BASE_URL = "http://example.invalid"
    assert live.CDMS_BASE_URL == "http://example.invalid"
