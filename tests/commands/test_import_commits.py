"""An import window's pages share commits on SQLite (a commit a page bounds its rate) and not on PostgreSQL."""

import datetime as dt
import uuid

import pytest
from django.db import connection

from cdms_api import odata
from migrator.mirror import import_windows
from organisation.models import Organisation


def _page(first):
    stamp = odata.format_date(dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
    return [
        {"AccountId": str(uuid.uuid4()), "Name": f"Firm {first + i}", "ModifiedOn": stamp, "CreatedOn": stamp}
        for i in range(50)
    ]


@pytest.mark.django_db(transaction=True)
def test_the_pages_of_a_window_are_committed_several_at_a_time_on_sqlite(monkeypatch):
    commits = []
    real = connection.commit
    monkeypatch.setattr(connection, "commit", lambda: commits.append(1) or real())
    monkeypatch.setattr(import_windows, "PAGES_PER_COMMIT", 4)
    import_windows._write_pages(Organisation, iter([_page(50 * n) for n in range(10)]))
    assert Organisation.objects.skip_cdms().count() == 500
    assert len(commits) == (3 if connection.vendor == "sqlite" else 10)  # 4 + 4 + 2, or one a page
