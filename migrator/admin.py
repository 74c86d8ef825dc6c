"""Django's admin finds the app's admin here: the CRM sync page lives in `ops.sync_page`."""

from .ops import sync_page  # noqa: F401 - importing it registers the page
