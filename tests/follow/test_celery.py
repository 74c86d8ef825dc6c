"""The follower's work on Celery: real worker processes on the real Redis (in memory without one)."""

import datetime as dt
import io
import os
import signal
import subprocess
import sys
import time

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from contact.models import Contact
from migrator.mirror.follower import follow
from migrator.mirror.importer import EntityImport, WorkersStalledError
from migrator.mirror.state import ImportCursor, SweepPartition, Watermark
from migrator.mirror.tasks import follow_entity, import_window, start_sweep
from organisation.models import Organisation
from tests.crm_records import seed_account, seed_contact
from tests.follow.celery_workers import (
    QUEUE,
    REDIS_URL,
    ROOT,
    ThreadWorker,
    WorkerProcesses,
    redis_answers,
    wait_for,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def broker():
    """The broker these tests use: the real Redis if it answers, else Celery's in-memory one."""
    from settings.celery import app

    real = redis_answers() and os.environ.get("CELERY_TEST_BROKER") != "memory"
    app.conf.update(broker_url=REDIS_URL if real else "memory://", task_default_queue=QUEUE)
    print(f"Celery tests on {'Redis at ' + REDIS_URL if real else 'the in-memory broker (no Redis found)'}")
    return app, real


@pytest.fixture
def workers(broker, cdms, settings):
    """A function starting `n` workers (processes on Redis, a thread in memory); all stopped after."""
    app, real = broker
    started = []

    def start(count=2, **env):
        group = WorkerProcesses(cdms, count, env) if real else ThreadWorker(app)
        started.append(group.start())
        return group

    yield start
    for group in started:
        group.stop()


def local_keys(model):
    return set(model.objects.skip_cdms().values_list("cdms_pk", flat=True))


def crm_keys(crm, entity):
    return {row[0] for row in crm.store.select(f'SELECT "{entity}Id" FROM "{entity}"')}


def test_a_sweep_split_into_tasks_is_shared_by_two_workers(cdms, workers):
    keys = [seed_account(cdms, f"Org {i:03}") for i in range(120)]
    for key in keys[:5]:
        seed_contact(cdms, "Ann", account=key)
    follow(Organisation, "test")
    follow(Contact, "test")
    for key in keys[::17]:  # 8 accounts, one with a contact, deleted by another CRM user
        cdms.store.delete("Account", key)
    workers(2)
    start_sweep.delay("Account", 4)
    wait_for(lambda: Watermark.objects.filter(entity="Account").exclude(deletions_until=None).exists())
    assert local_keys(Organisation) == crm_keys(cdms, "Account")
    assert local_keys(Contact) == crm_keys(cdms, "Contact")
    assert SweepPartition.objects.filter(entity="Account", done_at=None).count() == 0


def test_a_worker_killed_mid_task_the_task_runs_again_to_the_same_result(cdms, workers, broker):
    _, real = broker
    keys = [seed_account(cdms, f"Org {i:03}") for i in range(200)]
    follow(Organisation, "test")
    for key in keys[::9]:
        cdms.store.delete("Account", key)
    cdms.latency_ms = 150  # each page of keys takes a while: the kill lands mid-task
    if real:
        group = workers(1, CDMS_LEASE_SECONDS="2")
        start_sweep.delay("Account", 1)
        victims = _busy(group.children)
    else:  # no worker processes on the in-memory broker: kill a sweeping process, then a worker resumes
        sweeper = subprocess.Popen(
            [sys.executable, "manage.py", "cdms_follow", "--once", "--sweep-only", "--entity", "Account"],
            cwd=ROOT, env=WorkerProcesses(cdms, 0, {"CDMS_LEASE_SECONDS": "2"}).env(),
        )  # fmt: skip
        victims = _busy(lambda: [sweeper.pid])
    for pid in victims:
        os.kill(pid, signal.SIGKILL)  # the task's process dies mid-task; its message is delivered again
    if not real:
        sweeper.wait()
        workers(1)
        time.sleep(2)  # the dead sweeper's claim expires
        start_sweep.delay("Account", 1)
    wait_for(lambda: Watermark.objects.filter(entity="Account").exclude(deletions_until=None).exists())
    assert local_keys(Organisation) == crm_keys(cdms, "Account")


def _busy(pids):
    """The pids of the processes working on a sweep, once one of them has claimed its part."""
    wait_for(lambda: SweepPartition.objects.exclude(claimed_by="").exists())
    time.sleep(0.3)
    found = pids()
    assert found, "no process is working on the sweep"
    return found


def test_followers_on_two_workers_apply_each_change_once(cdms, workers):
    keys = {seed_account(cdms, f"Org {i:03}") for i in range(60)}
    workers(2)
    for _ in range(4):
        follow_entity.delay("Account")
    wait_for(lambda: Watermark.objects.filter(entity="Account").exclude(changes_until=None).exists())
    wait_for(lambda: Watermark.objects.filter(entity="Account", lease_holder="").exists())
    assert local_keys(Organisation) == keys
    assert Organisation.objects.skip_cdms().count() == 60


def test_cdms_import_through_workers_copies_every_record(cdms, workers):
    keys = {seed_account(cdms, f"Org {i:03}") for i in range(150)}
    workers(2)
    job = EntityImport(Organisation, full=True, workers=2, show_progress=False)
    result = job.run_on_workers(lambda entity, index: import_window.delay(entity, index))
    assert local_keys(Organisation) == keys and result.new_rows == 150
    cursor = ImportCursor.objects.get(entity="Account")
    assert not cursor.run_in_progress and cursor.imported_until is not None


def test_cdms_import_through_workers_without_workers_stops_with_a_clear_error(cdms, broker):
    seed_account(cdms, "Acme")
    job = EntityImport(Organisation, full=True, workers=1, show_progress=False)
    with pytest.raises(WorkersStalledError, match="are Celery workers running"):
        job.run_on_workers(lambda entity, index: None, poll_seconds=0.05, stall_seconds=0.3)
    assert ImportCursor.objects.get(entity="Account").run_in_progress  # the next run resumes it


def test_tasks_belong_to_the_project_application_so_any_process_queues_them_on_its_broker():
    from settings.celery import app

    assert import_window.app is app and app.main == "datahub"


def test_cdms_import_through_workers_without_a_broker_says_so_before_planning_anything(cdms, broker):
    app, _ = broker
    seed_account(cdms, "Acme")
    answering = app.conf.broker_url
    app.conf.broker_url = "redis://:secret@127.0.0.1:1/0"
    try:
        with pytest.raises(CommandError, match=r"no Celery broker answers at redis://:\*\*@127.0.0.1:1/0"):
            call_command("cdms_import", "--celery", "--no-progress", stdout=io.StringIO())
    finally:
        app.conf.broker_url = answering
    assert not ImportCursor.objects.filter(run_windows__gt=0).exists()


def test_beat_queues_only_the_sweep_parts_that_are_due(cdms, workers, settings):
    from migrator.mirror.sweep import sweep

    keys = [seed_account(cdms, f"Org {i:03}") for i in range(10)]
    follow(Organisation, "test")
    settings.CDMS_SWEEP_INTERVAL, settings.CDMS_SWEEP_PARTITIONS = 300, 1
    sweep(Organisation, "test")
    assert start_sweep("Account") == 0  # listed a moment ago: not due for five minutes
    SweepPartition.objects.update(listed_from=timezone.now() - dt.timedelta(minutes=6))
    cdms.store.delete("Account", keys[0])
    workers(1)
    assert start_sweep("Account") == 1
    wait_for(
        lambda: SweepPartition.objects.filter(listed_from__gt=timezone.now() - dt.timedelta(minutes=1)).exists()
    )
    assert local_keys(Organisation) == set(keys[1:])


def test_cdms_import_through_celery_says_soon_when_no_worker_takes_a_window(cdms, broker):
    seed_account(cdms, "Acme")
    out = io.StringIO()
    with pytest.raises(CommandError, match=r"no Celery worker has taken any of \d+ import windows in 0.5 s"):
        call_command("cdms_import", "--celery", "--worker-wait", "0.5", stdout=out)
    cursor = ImportCursor.objects.get(entity="Account")
    assert cursor.run_in_progress and cursor.windows_taken == []  # planned: the next run resumes it


def test_cdms_import_through_workers_marks_windows_taken_and_publishes_the_watermarks(cdms, workers):
    keys = {seed_account(cdms, f"Org {i:03}") for i in range(60)}
    workers(1)
    out = io.StringIO()
    call_command("cdms_import", "--celery", "--entity", "Account", "--progress-every", "0", stdout=out)
    assert local_keys(Organisation) == keys
    mark = Watermark.objects.get(entity="Account")
    assert mark.changes_until is not None and mark.deletions_until is not None
    assert "Account: done, 60 rows" in out.getvalue()


def test_beat_keeps_sweep_tasks_within_the_sweep_concurrency_so_follower_rounds_find_slots(cdms, broker, settings):
    start = timezone.now().replace(microsecond=0) - dt.timedelta(hours=1)
    for i in range(40):
        moment = start + dt.timedelta(seconds=i)
        cdms.store.insert("Account", {"Name": f"Org {i:02}"}, created_on=moment, modified_on=moment)
    follow(Organisation, "test")
    settings.CDMS_SWEEP_PARTITIONS, settings.CDMS_SWEEP_CONCURRENCY = 4, 2
    assert start_sweep("Account") == 2  # four parts due, two at a time
    alive = timezone.now() + dt.timedelta(minutes=1)
    SweepPartition.objects.filter(index=0).update(claimed_by="w", claim_expires=alive)
    assert start_sweep("Account") == 1  # one part is being swept
