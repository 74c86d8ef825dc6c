"""Two clocks, never mixed: a CRM whose clock is minutes ahead of or behind this machine's loses nothing.

The emulator runs its clock `clock_offset` seconds off this machine's: it stamps CreatedOn and
ModifiedOn and the `Date` of its answers with it, as a CRM server does. Records are created,
edited and deleted after the follower's (or the import's) first round; every later round must
bring each change into the mirror, and a bounded read must see it.
"""

import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from contact.models import Contact
from migrator.mirror.state import Watermark
from organisation.models import Organisation
from tests.crm_records import seed_account, seed_contact
from tests.follow.test_follower import round_of

OFFSETS = [-600, 600]


def local_names():
    return set(Organisation.objects.skip_cdms().values_list("name", flat=True))


@pytest.fixture(params=OFFSETS, ids=["crm-10-min-behind", "crm-10-min-ahead"])
def skewed(cdms, request):
    """The emulator with its clock ten minutes behind or ahead of this machine's."""
    cdms.clock_offset = request.param
    return cdms


def test_changes_after_the_first_round_reach_the_mirror(skewed):
    acme = seed_account(skewed, "Acme")
    round_of()
    assert local_names() == {"Acme"}

    beta = seed_account(skewed, "Beta")
    skewed.store.update("Account", acme, {"Name": "Acme Renamed"})
    seed_contact(skewed, "Ann", account=beta)
    round_of()
    assert local_names() == {"Acme Renamed", "Beta"}
    assert Contact.objects.skip_cdms().get().organisation.cdms_pk == beta

    skewed.store.update("Account", beta, {"Name": "Beta Renamed"})
    skewed.store.delete("Account", acme)
    seed_account(skewed, "Gamma")
    round_of()
    assert local_names() == {"Beta Renamed", "Gamma"}


def test_the_cursor_is_on_the_crms_clock_and_the_watermark_on_this_machines(skewed):
    seed_account(skewed, "Acme")
    before = timezone.now()
    round_of()
    after = timezone.now()
    mark = Watermark.objects.get(entity="Account")
    assert before <= mark.changes_until <= after
    offset = skewed.clock_offset
    # The cursor is the Date of the round's first answer: the CRM's clock, to the second.
    assert abs((mark.cursor - before).total_seconds() - offset) <= 2
    assert abs(mark.crm_clock_skew - offset) <= 2


def test_records_made_after_an_import_reach_the_mirror(skewed):
    seed_account(skewed, "Acme")
    call_command("cdms_import", "--no-progress", stdout=io.StringIO())
    assert local_names() == {"Acme"}
    seed_account(skewed, "Beta")
    round_of()
    seed_account(skewed, "Gamma")
    round_of()
    assert local_names() == {"Acme", "Beta", "Gamma"}


def test_a_bounded_read_sees_what_was_made_after_the_first_round(skewed, settings):
    settings.CDMS_MAX_STALENESS = 60
    seed_account(skewed, "Acme")
    round_of()
    seed_account(skewed, "Beta")
    round_of()
    names = [org.name for org in Organisation.objects.order_by("name")]
    assert names == ["Acme", "Beta"]
