"""One soak worker process: reads in different orders, saves and bulk writes, until its time is up.

Run as `python -m tests.soak.worker SECONDS SEED` with DATABASE_URL and CDMS_BASE_URL set.
Outcomes that another CRM user's deletions explain (a record gone, a parent gone, a row gone) are counted;
anything else is an error: it is printed and the process exits non-zero. Each read of the
local table also checks that no row's `modified` moved backwards since this worker last saw it.
"""

import os
import random
import sys
import time
import traceback


def main(seconds, seed):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings.test")
    import django

    django.setup()
    from django.db import connection

    rng = random.Random(seed)
    soak = Soak(rng, seed)
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            rng.choice(soak.operations)()
            soak.check_monotonic()
    except Exception:
        traceback.print_exc()
        print(f"worker {seed} failed after {soak.done} operations", file=sys.stderr)
        return 1
    finally:
        connection.close()
    print(
        f"worker {seed}: {soak.done} operations ({soak.rolled_back} blocks rolled back), "
        f"{soak.expected} explained by the other CRM user"
    )
    return 0


def _gone(exc):
    """Whether a CRM error says a record is gone: the record written, or the parent it refers to."""
    from cdms_api.exceptions import CDMSBadRequestError, CDMSNotFoundError

    # The emulator refuses a lookup to a deleted record with a 400 naming it (CRM 2011: a 500).
    return isinstance(exc, CDMSNotFoundError) or (
        isinstance(exc, CDMSBadRequestError) and "Does Not Exist" in str(exc)
    )


# The city a rolled-back block writes: the CRM must never keep it, unless kept as a conflict.
ROLLED_BACK = "Rolled back"


class _Rollback(Exception):
    """The failure that ends a rolled-back block."""


class Soak:
    """The operations of one worker, and what it has seen."""

    def __init__(self, rng, seed):
        self.rng, self.seed = rng, seed
        self.done = self.expected = 0
        self.seen = {}
        self.serial = 0
        self.operations = [
            self.read_organisations,
            self.read_organisations,
            self.read_contacts,
            self.read_filtered,
            self.save_organisation,
            self.save_organisation,
            self.save_contact,
            self.bulk_update,
            self.create_and_delete,
            self.rolled_back_block,
        ]
        self.rolled_back = 0

    def _run(self, call):
        from django.core.exceptions import ObjectDoesNotExist

        from migrator.exceptions import BulkWriteError

        try:
            call()
        except ObjectDoesNotExist:
            self.expected += 1
        except BulkWriteError as exc:
            if not all(_gone(error) for _, error in exc.failures):
                raise
            self.expected += 1
        except Exception as exc:
            if not _gone(exc):
                raise
            self.expected += 1
        self.done += 1

    def read_organisations(self):
        from organisation.models import Organisation

        order = self.rng.choice(["name", "-name", "number_of_employees", "-modified", "city", "-cdms_pk"])
        self._run(lambda: list(Organisation.objects.order_by(order)))

    def read_contacts(self):
        from contact.models import Contact

        order = self.rng.choice(["last_name", "-first_name", "-modified"])
        self._run(lambda: list(Contact.objects.select_related("organisation").order_by(order)))

    def read_filtered(self):
        from organisation.models import Organisation

        low = self.rng.randrange(0, 100)
        self._run(lambda: list(Organisation.objects.filter(number_of_employees__range=(low, low + 20))))

    def _pick(self, model):
        pks = list(model.objects.skip_cdms().values_list("pk", flat=True))
        return self.rng.choice(pks) if pks else None

    def save_organisation(self):
        from organisation.models import Organisation

        def save():
            org = Organisation.objects.get(pk=self._pick(Organisation))
            org.city = f"City {self.rng.randrange(1000)}"
            org.number_of_employees = self.rng.randrange(100)
            org.save()

        self._run(save)

    def save_contact(self):
        from contact.models import Contact
        from organisation.models import Organisation

        def save():
            from django.db import IntegrityError

            contact = Contact.objects.get(pk=self._pick(Contact))
            contact.organisation = Organisation.objects.get(pk=self._pick(Organisation))
            contact.first_name = f"Name {self.rng.randrange(1000)}"
            try:
                contact.save()
            except IntegrityError:
                # Refused before the CRM was asked, only when another process removed the
                # organisation (deleted in the CRM) since it was read: as if it had not been found.
                if Organisation.objects.skip_cdms().filter(pk=contact.organisation_id).exists():
                    raise
                raise Organisation.DoesNotExist from None

        self._run(save)

    def bulk_update(self):
        from organisation.models import Organisation

        low = self.rng.randrange(0, 100)
        city = f"Bulk {self.rng.randrange(1000)}"
        self._run(lambda: Organisation.objects.filter(number_of_employees__range=(low, low + 5)).update(city=city))

    def create_and_delete(self):
        from organisation.models import Organisation

        self.serial += 1
        prefix = f"w{self.seed}-{self.serial}-"

        def create_and_delete():
            Organisation.objects.bulk_create([Organisation(name=f"{prefix}{i}") for i in range(3)])
            Organisation.objects.create(name=f"{prefix}single").delete()
            Organisation.objects.filter(name__startswith=prefix, name__endswith="0").delete()

        self._run(create_and_delete)

    def rolled_back_block(self):
        """A block that creates an organisation and moves another, then fails: the CRM must lose both writes."""
        from django.db import transaction

        from organisation.models import Organisation

        self.serial += 1
        name = f"rolled back {self.seed}-{self.serial}"

        def block():
            try:
                with transaction.atomic():
                    Organisation.objects.create(name=name)
                    org = Organisation.objects.get(pk=self._pick(Organisation))
                    org.city = f"{ROLLED_BACK} {self.rng.randrange(1000)}"
                    org.save()
                    raise _Rollback
            except _Rollback:
                self.rolled_back += 1

        self._run(block)

    def check_monotonic(self):
        from organisation.models import Organisation

        for key, modified in Organisation.objects.skip_cdms().values_list("cdms_pk", "modified"):
            if key in self.seen and modified is not None and modified < self.seen[key]:
                raise AssertionError(f"{key}: modified moved back from {self.seen[key]} to {modified}")
            self.seen[key] = modified


if __name__ == "__main__":
    sys.exit(main(float(sys.argv[1]), int(sys.argv[2])))
