"""End to end in a real browser: the admin's "CRM sync" page resolves both kinds of conflict.

Headless Chromium drives pytest-django's live server, which talks to the emulator over HTTP.
Two organisations are changed locally behind the CRM's back; on the page one keeps the CRM's
version and the other pushes the local version, after which each local row equals its CRM
record. Every ORM call happens before or after the browser block (Playwright's sync API runs
an event loop in this thread).
"""

import pytest

from migrator.cdms_migrator import get_migrator
from organisation.models import Organisation
from tests.crm_records import later, seed_account
from tests.domain.browser import signed_in_admin


@pytest.fixture
def cdms(crm, settings, transactional_db):
    settings.CDMS_BASE_URL = crm.base_url
    return crm


@pytest.fixture
def conflicted(cdms):
    """Two accounts read locally, then renamed locally with a `modified` ahead of the CRM's."""
    keys = {name: seed_account(cdms, f"{name} Ltd", Address1_City="Leeds") for name in ("Keep", "Push")}
    list(Organisation.objects.all())
    for name, key in keys.items():
        row = Organisation.objects.skip_cdms().get(cdms_pk=key)
        row.name, row.city, row.modified = f"{name} Local", "York", later(3600)
        row.save(skip_cdms=True)
    return keys


def same_on_both_sides(crm, key):
    """The local row's mapped and system values, and the CRM record's, as model values."""
    migrator = get_migrator(Organisation)
    crm_side = migrator.from_cdms(crm.store.get("Account", key))
    row = Organisation.objects.skip_cdms().get(cdms_pk=key)
    return {name: getattr(row, name) for name in crm_side}, crm_side


def test_both_conflict_actions_leave_local_equal_to_the_crm(live_server, cdms, conflicted):
    keep, push = conflicted["Keep"], conflicted["Push"]
    with signed_in_admin(live_server.url) as page:
        page.click("text=CRM sync")
        listed = page.locator("#entity-Account tr.conflict").count()
        differences = page.text_content(f'tr[data-key="{keep}"]')
        page.click(f'tr[data-key="{keep}"] button[value="keep_crm"]')
        kept = page.text_content(".messagelist")
        page.click(f'tr[data-key="{push}"] button[value="push_local"]')
        pushed = page.text_content(".messagelist")
        after = page.text_content("#entity-Account")
    assert listed == 2
    assert "Keep Local / Keep Ltd" in differences and "York / Leeds" in differences
    assert f"Account {keep}: conflict resolved: kept the crm's version." in kept
    assert f"Account {push}: conflict resolved: pushed the local version." in pushed
    assert "None: every local row is as new as the CRM's." in after
    local, crm = same_on_both_sides(cdms, keep)
    assert local == crm and (crm["name"], crm["city"]) == ("Keep Ltd", "Leeds")
    local, crm = same_on_both_sides(cdms, push)
    assert local == crm and (crm["name"], crm["city"]) == ("Push Local", "York")
