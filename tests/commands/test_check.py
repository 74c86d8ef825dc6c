"""cdms_check: reachability, authentication, entity sets and clock skew, against the emulator."""

import json
import socket

import pytest
from django.contrib.auth.models import User
from django.core.management.base import CommandError

from migrator.ops.health import run_checks


def test_all_checks_pass_against_the_emulator_and_leave_no_probe(cdms, run):
    out = run("cdms_check")
    assert "All checks passed." in out
    for name in ("reachable", "authenticated", "entity set AccountSet", "entity set ContactSet", "clock skew"):
        assert name in out
    assert cdms.store.count("Account") == 0
    methods = [method for method, _ in cdms.stats.requests]
    assert "POST" in methods and "DELETE" in methods


def test_without_probe_nothing_is_written(cdms, run):
    checks = json.loads(run("cdms_check", "--no-probe", "--json"))
    assert all(check["ok"] for check in checks)
    assert {method for method, _ in cdms.stats.requests} == {"GET"}


def test_an_unreachable_crm_fails(cdms, run, settings):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        settings.CDMS_BASE_URL = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with pytest.raises(CommandError, match="1 check\\(s\\) failed: reachable"):
        run("cdms_check")


def test_refused_credentials_fail_the_authentication_check(cdms, run):
    cdms.faults.add(kind="status", status=401, count=10)
    with pytest.raises(CommandError, match="authenticated"):
        run("cdms_check")


def test_demo_user_is_created_once_with_a_token(db, run):
    first = run("create_demo_user", "--password", "pw1")
    second = run("create_demo_user", "--password", "pw2")
    user = User.objects.get(username="demo")
    assert user.is_superuser and user.check_password("pw2")
    token = user.auth_token.key
    assert token in first and token in second and "Created" in first and "Reset" in second


@pytest.mark.parametrize("probe", [True, False], ids=["probe", "date-header"])
def test_a_crm_clock_ten_minutes_behind_is_measured_and_fails_the_skew_check(cdms, run, probe):
    cdms.clock_offset = -600
    with pytest.raises(CommandError, match="failed: clock skew"):
        run("cdms_check", *([] if probe else ["--no-probe"]))
    skew = {check.name: check for check in run_checks(probe=probe)}["clock skew"]
    measured = float(skew.detail.split("CRM clock ")[1].split(" s")[0])
    assert not skew.ok and -602 <= measured <= -598
