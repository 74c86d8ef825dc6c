"""End to end in a real browser: sign in to the admin, edit an organisation, see it in the CRM over OData.

Headless Chromium from the distribution (`/usr/bin/chromium`) is driven by Playwright against
pytest-django's live server, which talks to the emulator over HTTP like the real service.
Playwright's sync API runs an event loop in this thread, so every ORM call happens before
or after the browser block, never inside it.
"""

import uuid

import pytest
import requests
from django.contrib.auth.models import User
from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 15_000


@pytest.fixture
def cdms(crm, settings, transactional_db):
    settings.CDMS_BASE_URL = crm.base_url
    return crm


@pytest.fixture
def acme(cdms):
    key = str(uuid.uuid4())
    cdms.store.insert("Account", {"AccountId": key, "Name": "Acme Browser Ltd", "Address1_City": "Leeds"})
    return key


def crm_accounts(crm, name):
    """Accounts with this name, asked of the emulator over OData as any CRM client would."""
    response = requests.get(
        f"{crm.service_root}/AccountSet",
        params={"$filter": f"Name eq '{name}'", "$select": "AccountId,Name,Address1_City"},
        headers={"Accept": "application/json"},
        timeout=5,
    )
    response.raise_for_status()
    return response.json()["d"]["results"]


def test_editing_an_organisation_in_the_admin_changes_it_in_the_crm(live_server, cdms, acme):
    User.objects.create_superuser("admin", "admin@example.test", "s3cret-pass")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(f"{live_server.url}/admin/")
        page.fill("#id_username", "admin")
        page.fill("#id_password", "s3cret-pass")
        page.click("input[type=submit]")
        page.click("text=Organisations")
        page.click("text=Acme Browser Ltd")
        page.fill("#id_name", "Acme Browser Renamed")
        page.fill("#id_city", "York")
        page.click("input[name=_save]")
        message = page.text_content(".messagelist")
        listed = page.text_content("#result_list")
        browser.close()
    assert "was changed successfully" in message
    assert "Acme Browser Renamed" in listed
    [record] = crm_accounts(cdms, "Acme Browser Renamed")
    assert (record["AccountId"].lower(), record["Address1_City"]) == (acme, "York")
    assert crm_accounts(cdms, "Acme Browser Ltd") == []
