"""How the browser tests start the distribution's headless Chromium (installed by `make browser`).

`signed_in_admin` opens a page signed in to the admin. Playwright's sync API runs an event loop
in this thread, so a test makes every ORM call before or after the block, never inside it.
"""

from contextlib import contextmanager

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
PASSWORD = "s3cret-pass"


@contextmanager
def signed_in_admin(base_url):
    """A headless Chromium page signed in to the admin at `base_url` as a new superuser."""
    User.objects.create_superuser("admin", "admin@example.test", PASSWORD)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(f"{base_url}/admin/")
            page.fill("#id_username", "admin")
            page.fill("#id_password", PASSWORD)
            page.click("input[type=submit]")
            yield page
        finally:
            browser.close()
