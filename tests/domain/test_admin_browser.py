"""End to end in a real browser: sign in to the admin, edit an organisation, find it changed where it is stored.

Headless Chromium from the distribution (`/usr/bin/chromium`) is driven by Playwright against
pytest-django's live server, which (while the CRM is live) talks to the emulator over HTTP
like the real service.

Playwright's sync API runs an event loop in this thread, so every ORM call happens before
or after the browser block, never inside it.
"""

import pytest

from organisation.models import Organisation

from .browser import signed_in_admin


@pytest.fixture
def acme(world, transactional_db):
    return world.add(Organisation, name="Acme Browser Ltd", city="Leeds")


def test_editing_an_organisation_in_the_admin_stores_it(live_server, world, acme):
    with signed_in_admin(live_server.url) as page:
        page.click("text=Organisations")
        page.click("text=Acme Browser Ltd")
        page.fill("#id_name", "Acme Browser Renamed")
        page.fill("#id_city", "York")
        page.click("input[name=_save]")
        message = page.text_content(".messagelist")
        listed = page.text_content("#result_list")
    assert "was changed successfully" in message
    assert "Acme Browser Renamed" in listed
    stored = world.get(Organisation, acme)
    assert (stored["name"], stored["city"]) == ("Acme Browser Renamed", "York")
    assert world.count(Organisation) == 1
