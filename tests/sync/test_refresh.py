"""Reconcile: constant SQL per refreshed page, monotonic and duplicate-free under concurrent refreshes."""

import datetime as dt
import json
import os
import random
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cdms_api import odata
from migrator.mirror.reconcile import reconcile_page
from organisation.models import Organisation
from tests.crm_records import seed_account
from tests.subprocesses import database_url

ROOT = Path(__file__).resolve().parents[2]


def statements_to_read(n, cdms):
    for i in range(n):
        seed_account(cdms, f"Firm {i}", NumberOfEmployees=n)
    with CaptureQueriesContext(connection) as ctx:
        assert len(Organisation.objects.filter(number_of_employees=n)) == n
    return len(ctx.captured_queries)


def test_a_page_of_50_refreshed_rows_costs_what_5_rows_cost(cdms):
    from django.contrib.contenttypes.models import ContentType

    ContentType.objects.get_for_model(Organisation)  # warm the content-type cache, as in a live process
    five = statements_to_read(5, cdms)
    fifty = statements_to_read(50, cdms)
    assert fifty == five
    # existing keys, savepoint, upsert, revisions, versions, release, suspects, the answer; on
    # PostgreSQL the foreign keys (the lookups to the lists and the parent) are checked at each
    # statement inside the savepoint: one statement more.
    assert five == (9 if connection.vendor == "postgresql" else 8)


def _record(key, second, name):
    stamp = dt.datetime(2024, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=second)
    return {
        "AccountId": key,
        "Name": name,
        "ModifiedOn": odata.format_date(stamp),
        "CreatedOn": odata.format_date(stamp),
        "VersionNumber": second,
    }


def test_refresh_never_moves_modified_backwards(db):
    key = str(uuid.uuid4())
    reconcile_page(Organisation, [_record(key, 10, "newer")])
    reconcile_page(Organisation, [_record(key, 5, "older")])  # a slow concurrent reader's answer
    row = Organisation.objects.skip_cdms().get(cdms_pk=key)
    assert row.name == "newer" and row.cdms_version == 10


@pytest.mark.django_db(transaction=True)
def test_concurrent_refreshes_from_several_processes_converge():
    keys = [str(uuid.uuid4()) for _ in range(20)]
    versions = [_record(key, second, f"{key[:4]} v{second}") for key in keys for second in range(1, 6)]
    env = {**os.environ, "DATABASE_URL": database_url(), "PYTHONPATH": str(ROOT)}
    workers = []
    for seed in range(4):
        batch = versions[:]
        random.Random(seed).shuffle(batch)
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.sync.refresh_worker"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        workers.append((proc, json.dumps(batch)))
    for proc, payload in workers:
        proc.stdin.write(payload)
        proc.stdin.close()
    for proc, _ in workers:
        assert proc.wait(timeout=120) == 0, proc.stderr.read()
    rows = list(Organisation.objects.skip_cdms().values_list("cdms_pk", "name", "cdms_version"))
    assert len(rows) == len(keys)
    assert all(version == 5 and name.endswith("v5") for _, name, version in rows)


def test_fast_version_serialization_matches_django(db):
    from django.core import serializers

    from migrator.mirror.revisions import serialize

    org = Organisation(pk=7, name="Acme", number_of_employees=5, cdms_pk=str(uuid.uuid4()))
    org.last_verified = dt.datetime(2020, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    assert json.loads(serialize(org)) == json.loads(serializers.serialize("json", [org]))


def test_bulk_versions_are_ordinary_reversion_versions(db):
    from reversion.models import Version

    from migrator.mirror.revisions import record_versions

    # Inserted without save(), which would record a revision of its own.
    orgs = Organisation.objects.skip_cdms().bulk_create(
        [Organisation(name=f"Firm {i}", cdms_pk=str(uuid.uuid4())) for i in range(3)]
    )
    record_versions(Organisation, orgs, comment="CDMS refresh")
    for org in orgs:
        (version,) = Version.objects.get_for_object(org)
        assert version.revision.comment == "CDMS refresh" and version.revision.user is None
        assert version.field_dict["name"] == org.name
        assert version.object_repr == org.name


def test_a_local_newer_row_is_named_and_the_rest_of_the_page_still_refreshed(db):
    from migrator.exceptions import ObjectsNotInSyncError

    newer, stale = str(uuid.uuid4()), str(uuid.uuid4())
    reconcile_page(Organisation, [_record(newer, 5, "crm"), _record(stale, 5, "old")])
    Organisation.objects.skip_cdms().filter(cdms_pk=newer).update(
        modified=dt.datetime(2030, 1, 1, tzinfo=dt.UTC), name="edited locally"
    )
    with pytest.raises(ObjectsNotInSyncError) as err:
        reconcile_page(Organisation, [_record(newer, 6, "crm"), _record(stale, 6, "new")])
    assert err.value.keys == [newer]
    rows = dict(Organisation.objects.skip_cdms().values_list("cdms_pk", "name"))
    assert rows == {newer: "edited locally", stale: "new"}
