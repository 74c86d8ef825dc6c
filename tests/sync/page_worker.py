"""A separate process that reconciles pages of CRM records into the test database (for concurrency tests).

Reads a JSON list of pages (lists of wire records) on stdin and reconciles them in order.
"""

import json
import os
import sys

import django


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings.test")
    django.setup()
    from migrator.mirror.reconcile import reconcile_page
    from organisation.models import Organisation

    for page in json.load(sys.stdin):
        reconcile_page(Organisation, page)


if __name__ == "__main__":
    main()
