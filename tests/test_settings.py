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
        ("CDMS_WRITE_CONCURRENCY", "eight"),
        ("CDMS_BASE_URL", "notaurl"),
        ("CDMS_BASE_URL", "ftp://crm.example.org"),
        ("CDMS_BASE_URL", "http://crm.example.org:port"),
        ("CDMS_TIMOUT", "5"),
        ("CDMS_MAX_STALENESS", "-1"),
        ("CDMS_MAX_STALENESS", "soon"),
        ("CDMS_FOLLOW_OVERLAP", "-2"),
        ("CDMS_SWEEP_PARTITIONS", "0"),
        ("CDMS_UNVERIFIED_READS", "perhaps"),
        ("CELERY_VISIBILITY_TIMEOUT", "long"),
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


def test_a_base_url_carrying_credentials_stops_start_up_without_repeating_them():
    result = _check(CDMS_BASE_URL="https://DOMAIN%5Cann:hunter2@crm.example.org/Org")
    assert result.returncode != 0
    assert "CDMS_BASE_URL carries credentials" in result.stderr
    assert "hunter2" not in result.stderr


def test_a_settings_module_without_any_crm_setting_uses_the_defaults(tmp_path):
    (tmp_path / "bare_settings.py").write_text(
        "from settings.base import *  # noqa\n"
        "for _name in [n for n in globals() if n.startswith('CDMS_')]:\n"
        "    del globals()[_name]\n"
    )
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("CDMS_", "DATABASE_URL"))}
    environ.update(DJANGO_SETTINGS_MODULE="bare_settings", SECRET_KEY="x", PYTHONPATH=f"{tmp_path}:{ROOT}")
    code = "import django; django.setup(); from migrator.conf import cdms_settings as s; print(s.CDMS_TIMEOUT)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environ, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "30.0"


def test_environment_text_is_parsed_to_the_setting_type():
    code = (
        "import django; django.setup(); from migrator.conf import cdms_settings as s; "
        "print(repr(s.CDMS_TIMEOUT), repr(s.CDMS_SYNC_MAX_ROWS), s.CDMS_BASE_URL)"
    )
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("CDMS_", "DATABASE_URL"))}
    environ.update(
        DJANGO_SETTINGS_MODULE="settings.base",
        SECRET_KEY="x",
        CDMS_TIMEOUT="12.5",
        CDMS_SYNC_MAX_ROWS="70",
        CDMS_BASE_URL="https://crm.example.org/Org/",
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environ, capture_output=True, text=True)
    assert result.stdout.split() == ["12.5", "70", "https://crm.example.org/Org"], result.stderr


def test_settings_are_read_lazily_and_reloaded_when_they_change(settings):
    from migrator.conf import cdms_settings

    settings.CDMS_BASE_URL = "http://example.invalid"
    assert cdms_settings.CDMS_BASE_URL == "http://example.invalid"
    settings.CDMS_SYNC_MAX_ROWS = "12"
    assert cdms_settings.CDMS_SYNC_MAX_ROWS == 12


def test_a_bad_value_set_at_run_time_is_refused_on_use(settings):
    from django.core.exceptions import ImproperlyConfigured

    from migrator.conf import cdms_settings

    settings.CDMS_TIMEOUT = "soon"
    with pytest.raises(ImproperlyConfigured, match="CDMS_TIMEOUT"):
        _ = cdms_settings.CDMS_TIMEOUT
