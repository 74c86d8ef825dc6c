"""Concurrent writers wait instead of failing: rows in key order, SQLite's IMMEDIATE transactions."""

import datetime as dt
import json
import os
import random
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest
import requests
from django.core.servers.basehttp import ThreadedWSGIServer
from django.core.wsgi import get_wsgi_application
from django.test.testcases import QuietWSGIRequestHandler
from rest_framework.authtoken.models import Token

from cdms_api import odata
from organisation.models import Organisation
from tests.domain.users import make_user
from tests.subprocesses import database_url

WRITERS = 40


class _Server(ThreadedWSGIServer):
    # Room for every writer's connection at once (the default backlog of 10 would reset some
    # connections before Django sees them, which is not what this test is about).
    request_queue_size = WRITERS


@pytest.fixture
def live_server_url(transactional_db):
    """The API served by Django's threaded WSGI server (a thread per request), as `runserver` does."""
    server = _Server(("127.0.0.1", 0), QuietWSGIRequestHandler, allow_reuse_address=False)
    server.set_app(get_wsgi_application())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.mark.django_db(transaction=True)
def test_forty_concurrent_patches_against_a_live_server_all_succeed(live_server_url, cdms):
    user = make_user("editor", "view_organisation", "change_organisation")
    token = Token.objects.create(user=user).key
    orgs = [Organisation.objects.create(name=f"Firm {i}", city="Leeds") for i in range(8)]
    answers = []
    start = threading.Barrier(WRITERS)

    def patch(i):
        org = orgs[i % len(orgs)]
        start.wait()
        try:
            response = requests.patch(
                f"{live_server_url}/api/v1/organisations/{org.pk}/",
                json={"city": f"City {i}", "number_of_employees": i},
                headers={"Authorization": f"Token {token}"},
                timeout=60,
            )
            answers.append((response.status_code, response.text[:200]))
        except requests.RequestException as exc:
            answers.append((None, repr(exc)))

    threads = [threading.Thread(target=patch, args=(i,)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert [a for a in answers if a[0] != 200] == []
    assert len(answers) == WRITERS
    for org in Organisation.objects.skip_cdms().all():
        record = cdms.store.get("Account", org.cdms_pk)
        assert (org.city, org.number_of_employees) == (record["Address1_City"], record["NumberOfEmployees"])
        assert org.modified == odata.parse_date(record["ModifiedOn"])


ROOT = Path(__file__).resolve().parents[2]


def _record(key, version):
    stamp = odata.format_date(dt.datetime(2024, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=version))
    return {
        "AccountId": key,
        "Name": f"v{version}",
        "ModifiedOn": stamp,
        "CreatedOn": stamp,
        "VersionNumber": version,
    }


@pytest.mark.django_db(transaction=True)
def test_pages_of_the_same_rows_in_different_orders_never_deadlock():
    # Each process refreshes the same 50 rows, page after page, each page newer and in its own
    # order: without a common lock order, PostgreSQL's upserts deadlock within a few pages.
    keys = [str(uuid.uuid4()) for _ in range(50)]
    env = {**os.environ, "DATABASE_URL": database_url(), "PYTHONPATH": str(ROOT)}
    workers = []
    for seed in range(4):
        rng = random.Random(seed)
        pages = [[_record(key, version) for key in rng.sample(keys, len(keys))] for version in range(1, 9)]
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.sync.page_worker"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        workers.append((proc, json.dumps(pages)))
    for proc, payload in workers:
        proc.stdin.write(payload)
        proc.stdin.close()
    errors = [proc.stderr.read() for proc, _ in workers if proc.wait(timeout=300) != 0]
    assert errors == []
    rows = list(Organisation.objects.skip_cdms().values_list("name", "cdms_version"))
    assert len(rows) == len(keys) and set(rows) == {("v8", 8)}
