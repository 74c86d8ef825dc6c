"""`manage.py cdms_follow`: one round on demand, and polls that go on while a sweep runs."""

import datetime as dt
import io
import re
import signal
import subprocess
import sys
import time

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from contact.models import Contact
from migrator.management.commands.cdms_follow import Command, backoff
from migrator.mirror import entities
from migrator.mirror.state import SweepPartition, Watermark
from migrator.throttle import Throttle
from organisation.models import Organisation
from tests.crm_records import seed_account, seed_contact
from tests.follow.celery_workers import ROOT, WorkerProcesses, wait_for


@pytest.mark.django_db(transaction=True)
def test_once_follows_every_entity_then_sweeps_and_says_so(cdms):
    seed_account(cdms, "Acme")
    out = io.StringIO()
    call_command("cdms_follow", "--once", stdout=out)
    text = out.getvalue()
    assert "Account: applied 1 changed rows in 1 pages; watermark" in text
    assert "Contact: applied 0 changed rows" in text
    assert "Account: key sweep removed 0 rows." in text
    assert Watermark.objects.exclude(changes_until=None).exclude(deletions_until=None).count() == len(
        entities.entity_names()
    )
    assert Organisation.objects.skip_cdms().count() == 1


def test_once_with_the_crm_down_fails_and_records_why(cdms):
    cdms.faults.add(status=503, count=200)
    with pytest.raises(CommandError, match="resumes from the checkpoint"):
        call_command("cdms_follow", "--once", "--no-sweep", stdout=io.StringIO(), stderr=io.StringIO())
    assert "503" in Watermark.objects.get(entity="Account").last_follow_error


def test_bad_intervals_are_refused(cdms):
    with pytest.raises(CommandError, match="must be positive"):
        call_command("cdms_follow", "--interval", "0")


def _claimed_now():
    return SweepPartition.objects.filter(claim_expires__gt=timezone.now())


@pytest.mark.django_db(transaction=True)
def test_watermarks_keep_moving_while_long_sweeps_run_several_parts_of_both_entities_at_once(cdms):
    # Changed an hour ago: a poll re-reads only its overlap window, so it is one quick request.
    # Created a second apart, so that the partitions by CreatedOn split them.
    an_hour_ago = (timezone.now() - dt.timedelta(hours=1)).replace(microsecond=0)
    for i in range(400):
        moment = an_hour_ago - dt.timedelta(seconds=i)
        cdms.store.insert("Account", {"Name": f"Org {i:03}"}, created_on=moment, modified_on=an_hour_ago)
        if i % 2:
            cdms.store.insert("Contact", {"FirstName": "Ann"}, created_on=moment, modified_on=an_hour_ago)
    call_command("cdms_follow", "--once", "--sweepers", "1", stdout=io.StringIO())
    cdms.latency_ms = 400  # a part (a page or two of keys) now takes about a second; a poll too
    command = [sys.executable, "manage.py", "cdms_follow", "--interval", "0.3", "--sweep-interval", "1"]
    env = WorkerProcesses(cdms, 0).env()
    follower = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    try:
        wait_for(lambda: _claimed_now().exists(), timeout=30)
        marks, most_at_once, entities_at_once = set(), 0, set()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (len(marks) < 3 or most_at_once < 2 or len(entities_at_once) < 2):
            marks.add(Watermark.objects.get(entity="Account").changes_until)
            claimed = list(_claimed_now().values_list("entity", flat=True))
            most_at_once = max(most_at_once, len(claimed))
            entities_at_once = max(entities_at_once, set(claimed), key=len)
            time.sleep(0.1)
        assert len(marks) >= 3, "the watermark stood still during the sweeps"
        assert most_at_once >= 2, "one sweep part at a time"
        assert len(entities_at_once) >= 2, "the entities were swept one after the other"
    finally:
        follower.send_signal(signal.SIGINT)
        follower.wait(timeout=30)


@pytest.mark.django_db(transaction=True)
def test_once_sweeps_every_part_on_several_threads_and_publishes_each_entity(cdms):
    keys = [seed_account(cdms, f"Org {i:03}") for i in range(30)]
    for key in keys[:4]:
        seed_contact(cdms, "Ann", account=key)
    call_command("cdms_follow", "--once", "--no-sweep", stdout=io.StringIO())
    cdms.store.delete("Account", keys[0])  # and its contact with it
    out = io.StringIO()
    call_command("cdms_follow", "--once", "--sweepers", "3", stdout=out)
    # The account and its contact, whichever of the two side-by-side sweeps removes the contact.
    removed = re.findall(r"(Account|Contact): key sweep removed (\d+) rows", out.getvalue())
    assert sum(int(n) for _, n in removed) == 2 and "Account" in dict(removed), out.getvalue()
    assert Organisation.objects.skip_cdms().count() == 29 and Contact.objects.skip_cdms().count() == 3
    assert SweepPartition.objects.filter(listed_from=None).count() == 0
    assert Watermark.objects.filter(deletions_until=None).count() == 0


def test_sweepers_must_be_at_least_one(cdms):
    with pytest.raises(CommandError, match="--sweepers must be at least 1"):
        call_command("cdms_follow", "--once", "--sweepers", "0")


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
    assert len(lines) == len(entities.entity_names())  # one for each entity, however many rounds failed
    assert all("the database failed while following changes" in line for line in lines)
    assert command._round(migrators, "holder", verbose=False) is False
    assert Organisation.objects.skip_cdms().get().name == "Acme"


def test_failed_rounds_back_off_up_to_a_minute():
    assert [backoff(1.0, n) for n in (0, 1, 3, 10)] == [1.0, 2.0, 8.0, 60.0]
    assert backoff(120.0, 5) == 120.0
