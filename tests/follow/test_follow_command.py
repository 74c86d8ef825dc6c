"""`manage.py cdms_follow`: one round on demand, and polls that go on while a sweep runs."""

import datetime as dt
import io
import signal
import subprocess
import sys
import time

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from migrator.management.commands.cdms_follow import Command, backoff
from migrator.mirror import entities
from migrator.mirror.state import SweepPartition, Watermark
from migrator.throttle import Throttle
from organisation.models import Organisation
from tests.crm_records import seed_account
from tests.follow.celery_workers import ROOT, WorkerProcesses, wait_for


def test_once_follows_every_entity_then_sweeps_and_says_so(cdms):
    seed_account(cdms, "Acme")
    out = io.StringIO()
    call_command("cdms_follow", "--once", stdout=out)
    text = out.getvalue()
    assert "Account: applied 1 changed rows in 1 pages; watermark" in text
    assert "Contact: applied 0 changed rows" in text
    assert "Account: key sweep removed 0 rows." in text
    assert Watermark.objects.exclude(changes_until=None).exclude(deletions_until=None).count() == 2
    assert Organisation.objects.skip_cdms().count() == 1


def test_once_with_the_crm_down_fails_and_records_why(cdms):
    cdms.faults.add(status=503, count=200)
    with pytest.raises(CommandError, match="resumes from the checkpoint"):
        call_command("cdms_follow", "--once", "--no-sweep", stdout=io.StringIO(), stderr=io.StringIO())
    assert "503" in Watermark.objects.get(entity="Account").last_follow_error


def test_bad_intervals_are_refused(cdms):
    with pytest.raises(CommandError, match="must be positive"):
        call_command("cdms_follow", "--interval", "0")


@pytest.mark.django_db(transaction=True)
def test_watermarks_keep_moving_while_a_long_sweep_runs(cdms):
    # Changed an hour ago: a poll re-reads only its overlap window, so it is one quick request.
    an_hour_ago = (timezone.now() - dt.timedelta(hours=1)).replace(microsecond=0)
    for i in range(400):
        seed_account(cdms, f"Org {i:03}", modified_on=an_hour_ago)
    call_command("cdms_follow", "--once", "--entity", "Account", stdout=io.StringIO())
    cdms.latency_ms = 400  # a sweep (8 parts, 16 pages of keys) now takes seconds; a poll about one
    command = [sys.executable, "manage.py", "cdms_follow", "--entity", "Account", "--interval", "0.3"]
    env = WorkerProcesses(cdms, 0).env()
    follower = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    try:
        wait_for(lambda: SweepPartition.objects.filter(done_at=None).exists(), timeout=30)
        marks = set()
        while SweepPartition.objects.filter(done_at=None).exists() and len(marks) < 3:
            marks.add(Watermark.objects.get(entity="Account").changes_until)
            time.sleep(0.2)
        assert len(marks) >= 3, "the watermark stood still during the sweep"
    finally:
        follower.send_signal(signal.SIGINT)
        follower.wait(timeout=30)


@pytest.mark.django_db(transaction=True)
def test_a_database_error_is_reported_once_a_minute_and_the_next_round_recovers(cdms):
    seed_account(cdms, "Acme")
    out, err = io.StringIO(), io.StringIO()
    command = Command(stdout=out, stderr=err)
    command.following, command.throttle = True, Throttle()
    migrators = entities.ordered()
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE migrator_watermark RENAME TO migrator_watermark_away")
    try:
        assert all(command._round(migrators, "holder", verbose=False) for _ in range(5))
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE migrator_watermark_away RENAME TO migrator_watermark")
    lines = err.getvalue().splitlines()
    assert len(lines) == 2  # one for each entity, however many rounds failed
    assert all("the database failed while following changes" in line for line in lines)
    assert command._round(migrators, "holder", verbose=False) is False
    assert Organisation.objects.skip_cdms().get().name == "Acme"


def test_failed_rounds_back_off_up_to_a_minute():
    assert [backoff(1.0, n) for n in (0, 1, 3, 10)] == [1.0, 2.0, 8.0, 60.0]
    assert backoff(120.0, 5) == 120.0
