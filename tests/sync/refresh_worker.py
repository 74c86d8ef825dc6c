"""A separate process that refreshes CRM records into the test database (for concurrency tests).

Reads a JSON list of wire records on stdin and reconciles them one at a time, in order.
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

    for record in json.load(sys.stdin):
        reconcile_page(Organisation, [record])


if __name__ == "__main__":
    main()
