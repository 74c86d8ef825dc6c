"""A separate process that runs one multi-write block and kills itself (SIGKILL) at a chosen step.

`python -m tests.sync.block_worker STEP EXISTING DOOMED`: in one `atomic()` block, create an
organisation, create a contact of it, move organisation EXISTING to York, delete organisation
DOOMED (and with it its contacts). STEP is where the process dies:

- `before-write-N`: just before the N-th CRM write (1-4) is sent, its intent recorded;
- `after-write-N`: just after the CRM answered the N-th write;
- `before-commit`: the CRM has every write, the local commit is about to run;
- `after-commit`: the block has committed;
- `never`: the process ends normally.
"""

import os
import signal
import sys

import django

WRITES = ("POST", "MERGE", "DELETE")


def die():
    os.kill(os.getpid(), signal.SIGKILL)


def arm(step):
    """Make the process kill itself at `step`."""
    from django.db.backends.base.base import BaseDatabaseWrapper

    from cdms_api.client import CDMSClient

    request = CDMSClient.request
    writes = []

    def counted(self, method, path, **kwargs):
        if method in WRITES:
            writes.append(method)
            if step == f"before-write-{len(writes)}":
                die()
        answer = request(self, method, path, **kwargs)
        if method in WRITES and step == f"after-write-{len(writes)}":
            die()
        return answer

    CDMSClient.request = counted
    commit = BaseDatabaseWrapper.commit

    def dying_commit(self):
        if step == "before-commit" and writes:
            die()
        return commit(self)

    BaseDatabaseWrapper.commit = dying_commit


def main(step, existing, doomed):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings.test")
    django.setup()
    from django.db import transaction

    from contact.models import Contact
    from organisation.models import Organisation

    arm(step)
    with transaction.atomic():
        org = Organisation.objects.create(name="Made in the block")
        Contact.objects.create(first_name="Made", last_name="In the block", organisation=org)
        moved = Organisation.objects.get(cdms_pk=existing)
        moved.city = "York"
        moved.save()
        Organisation.objects.get(cdms_pk=doomed).delete()
    if step == "after-commit":
        die()


if __name__ == "__main__":
    main(*sys.argv[1:])
