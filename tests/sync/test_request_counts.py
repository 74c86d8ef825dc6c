"""Exact CRM round trips per ORM operation, counted at the client like assertNumQueries."""

import pytest

from cdms_api.counting import count_requests
from contact.models import Contact
from organisation.models import Organisation
from tests.crm_records import later, seed_account, seed_contact


def methods(counter):
    return [r.method for r in counter.requests]


def test_get_by_pk_is_one_request(cdms):
    key = seed_account(cdms, "Acme")
    local = Organisation.objects.get(cdms_pk=key)
    with count_requests() as counter:
        org = Organisation.objects.get(pk=local.pk)
    assert org.name == "Acme"
    assert methods(counter) == ["GET"]


def test_get_of_a_record_unknown_locally_is_one_request(cdms):
    key = seed_account(cdms, "Acme")
    with count_requests() as counter:
        org = Organisation.objects.get(cdms_pk=key)
    assert org.name == "Acme"
    assert counter.count == 1


def test_create_is_one_post(cdms):
    with count_requests() as counter:
        org = Organisation.objects.create(name="Acme", number_of_employees=5)
    assert methods(counter) == ["POST"]
    assert cdms.store.get("Account", org.cdms_pk)["Name"] == "Acme"
    assert org.modified is not None


def test_update_is_one_merge_and_one_get(cdms):
    org = Organisation.objects.create(name="Acme", city="Leeds")
    org.city = "York"
    with count_requests() as counter:
        org.save()
    assert methods(counter) == ["MERGE", "GET"]
    assert cdms.store.get("Account", org.cdms_pk)["Address1_City"] == "York"


def test_update_sends_only_changed_fields(cdms):
    org = Organisation.objects.create(name="Acme", city="Leeds")
    cdms.store.update("Account", org.cdms_pk, {"Name": "Renamed in CRM"}, modified_on=None)
    org.city = "York"
    org.save()
    record = cdms.store.get("Account", org.cdms_pk)
    assert record["Name"] == "Renamed in CRM"  # not overwritten: only city was sent
    assert record["Address1_City"] == "York"
    org.refresh_from_db()
    assert org.name == "Renamed in CRM"  # the GET after the MERGE brought it in


def test_delete_is_one_request(cdms):
    org = Organisation.objects.create(name="Acme")
    contact = Contact.objects.create(first_name="Ann", last_name="Lee", organisation=org)
    with count_requests() as counter:
        contact.delete()
    assert methods(counter) == ["DELETE"]
    assert cdms.store.get("Contact", contact.cdms_pk) is None
    assert not Contact.objects.skip_cdms().exists()


def test_deleting_an_organisation_reads_its_contacts_first(cdms):
    org = Organisation.objects.create(name="Acme")
    key = org.cdms_pk
    with count_requests() as counter:
        org.delete()
    assert methods(counter) == ["GET", "DELETE"]  # what the CRM's cascade takes, then the delete
    assert cdms.store.get("Account", key) is None
    assert not Organisation.objects.skip_cdms().filter(cdms_pk=key).exists()


def test_filter_over_120_rows_is_three_requests(cdms):
    for i in range(120):
        seed_account(cdms, f"Firm {i}", NumberOfEmployees=10)
    with count_requests() as counter:
        rows = list(Organisation.objects.filter(number_of_employees=10))
    assert len(rows) == 120
    assert counter.count == 3


def test_ordered_slice_is_one_request(cdms):
    for i in range(120):
        seed_account(cdms, f"Firm {i}", NumberOfEmployees=i)
    with count_requests() as counter:
        rows = list(Organisation.objects.order_by("number_of_employees")[:5])
    assert [r.number_of_employees for r in rows] == [0, 1, 2, 3, 4]
    assert counter.count == 1


def test_descending_slice_on_a_nullable_key_walks_nulls_apart(cdms):
    for i in range(60):
        seed_account(cdms, f"Firm {i}", NumberOfEmployees=i if i % 10 else None)
    rows = list(Organisation.objects.order_by("-number_of_employees")[:8])
    expected = list(Organisation.objects.skip_cdms().order_by("-number_of_employees")[:8])
    assert Organisation.objects.skip_cdms().count() < 60  # fetched only part of the CRM
    assert [r.number_of_employees for r in rows] == [r.number_of_employees for r in expected]
    nulls_first = expected[0].number_of_employees is None  # PostgreSQL; SQLite puts them last
    assert [r.number_of_employees for r in rows][:1] == ([None] if nulls_first else [59])


def test_page_of_contacts_with_unknown_organisations_is_three_requests(cdms):
    accounts = [seed_account(cdms, f"Firm {i}") for i in range(50)]
    for i, account in enumerate(accounts):
        seed_contact(cdms, f"First{i}", "Person", account=account)
    with count_requests() as counter:
        contacts = list(Contact.objects.filter(last_name="Person"))
    assert len(contacts) == 50
    assert {c.organisation.cdms_pk for c in contacts} == set(accounts)
    # The contacts, then their 50 organisations by key: 23 keys a request beside the $select.
    assert counter.count == 4


def test_select_related_brings_the_organisations_inline(cdms):
    accounts = [seed_account(cdms, f"Firm {i}") for i in range(50)]
    for i, account in enumerate(accounts):
        seed_contact(cdms, f"First{i}", "Person", account=account)
    seed_contact(cdms, "No", "Person")
    with count_requests() as counter:
        contacts = list(Contact.objects.select_related("organisation").filter(last_name="Person"))
    assert len(contacts) == 51
    assert {c.organisation.cdms_pk for c in contacts if c.organisation} == set(accounts)
    assert counter.count == 2  # 51 contacts are two pages; their organisations came inline
    # An organisation renamed in the CRM is refreshed by the next select_related read.
    cdms.store.update("Account", accounts[0], {"Name": "Renamed"}, modified_on=later())
    names = {c.organisation.name for c in Contact.objects.select_related("organisation") if c.organisation}
    assert "Renamed" in names


def test_second_read_of_fresh_rows_writes_nothing(cdms, django_assert_num_queries):
    for i in range(5):
        seed_account(cdms, f"Firm {i}", NumberOfEmployees=3)
    list(Organisation.objects.filter(number_of_employees=3))
    # One SELECT of the page's keys, one for stale local rows, one for the answer.
    with django_assert_num_queries(3):
        assert len(Organisation.objects.filter(number_of_employees=3)) == 5


def test_long_in_list_is_split_into_several_requests(cdms):
    for i in range(30):
        seed_account(cdms, f"Firm {i}", NumberOfEmployees=i * 1000)
    wanted = list(range(0, 400_000, 1000))  # 400 values: far too long for one URL
    with count_requests() as counter:
        rows = list(Organisation.objects.filter(number_of_employees__in=wanted))
    assert len(rows) == 30
    assert counter.count > 1
    assert all(len(r.method) and r.status == 200 for r in counter.requests)


def test_long_in_list_of_keys_under_a_conjunction(cdms):
    keys = [seed_account(cdms, f"Firm {i}", NumberOfEmployees=i % 2) for i in range(120)]
    rows = list(Organisation.objects.filter(cdms_pk__in=keys, number_of_employees=1))
    assert len(rows) == 60


def test_queries_that_cannot_match_a_crm_row_cost_nothing(cdms):
    local_only = Organisation(name="Local")
    local_only.save(skip_cdms=True)
    with count_requests() as counter:
        assert list(Organisation.objects.none()) == []
        assert list(Organisation.objects.filter(pk__in=[])) == []
        assert list(Organisation.objects.filter(pk=local_only.pk)) == [local_only]
        assert Organisation.objects.filter(name__isnull=True).count() == 0
    assert counter.count == 0


def test_save_without_changes_costs_nothing(cdms):
    org = Organisation.objects.create(name="Acme")
    with count_requests() as counter:
        org.save()
    assert counter.count == 0


def test_a_sync_scope_fetches_each_read_once(cdms):
    from migrator.read.scope import sync_scope

    for i in range(120):
        seed_account(cdms, f"Firm {i:03}", NumberOfEmployees=7)
    listing = Organisation.objects.filter(number_of_employees=7).order_by("name")
    with count_requests() as unscoped:
        assert listing.count() == 120
        assert [o.name for o in listing[:2]] == ["Firm 000", "Firm 001"]
    with sync_scope(), count_requests() as scoped:
        assert listing.count() == 120
        assert [o.name for o in listing[:2]] == ["Firm 000", "Firm 001"]
        assert listing.exists()
    assert unscoped.count == 6  # the count and the page each read 3 pages
    assert scoped.count == 3


def test_a_sync_scope_still_sees_its_own_writes(cdms):
    from migrator.read.scope import sync_scope

    seed_account(cdms, "Acme", NumberOfEmployees=7)
    with sync_scope():
        assert Organisation.objects.filter(number_of_employees=7).count() == 1
        Organisation.objects.create(name="Beta", number_of_employees=7)
        org = Organisation.objects.get(name="Acme")
        org.number_of_employees = 8
        org.save()
        assert [o.name for o in Organisation.objects.filter(number_of_employees=7)] == ["Beta"]


def test_exists_on_a_large_local_mirror_is_one_request(cdms):
    for i in range(120):
        seed_account(cdms, f"Firm {i}", NumberOfEmployees=2)
    list(Organisation.objects.all())
    with count_requests() as counter:
        assert Organisation.objects.filter(number_of_employees=2).exists()
    assert counter.count == 1
    with count_requests() as counter:
        assert not Organisation.objects.filter(number_of_employees=3).exists()
    assert counter.count == 1


def test_annotating_across_the_reverse_relation_reads_the_children_of_the_fetched_parents(cdms):
    from django.db.models import Count

    accounts = [seed_account(cdms, f"Firm {i}") for i in range(3)]
    for account in accounts:
        seed_contact(cdms, "Ann", "Lee", account=account)
    with count_requests() as counter:
        counts = dict(Organisation.objects.annotate(n=Count("contacts")).values_list("name", "n"))
    assert counts == {"Firm 0": 1, "Firm 1": 1, "Firm 2": 1}
    assert [r.entity_set for r in counter.requests] == ["AccountSet", "ContactSet"]


def test_values_across_the_forward_relation_check_the_parents_by_key(cdms):
    acme = seed_account(cdms, "Acme")
    seed_contact(cdms, "Ann", "Lee", account=acme)
    list(Contact.objects.all())
    cdms.store.update("Account", acme, {"Name": "Acme Renamed"}, modified_on=later())
    with count_requests() as counter:
        assert list(Contact.objects.values_list("first_name", "organisation__name")) == [("Ann", "Acme Renamed")]
    assert [r.entity_set for r in counter.requests] == ["ContactSet", "AccountSet"]


def test_stale_local_rows_are_checked_26_keys_a_request(cdms):
    keys = [seed_account(cdms, f"Firm {i}", NumberOfEmployees=1) for i in range(60)]
    list(Organisation.objects.all())
    for key in keys:
        cdms.store.update("Account", key, {"NumberOfEmployees": 2}, modified_on=later())
    with count_requests() as counter:
        assert Organisation.objects.filter(number_of_employees=1).count() == 0
    assert counter.count == 1 + 3  # the filter (no rows), then 60 suspects: 27 + 27 + 6


STRATEGIES = [
    (lambda: list(Organisation.objects.filter(city__iexact="leeds").order_by()[:5]), ["WalkUntil"]),
    (lambda: list(Organisation.objects.order_by("number_of_employees")[:5]), ["OrderedSlice"]),
    (lambda: list(Organisation.objects.filter(city__iexact="leeds")[:5]), ["All"]),  # by name: not shared
    (lambda: Organisation.objects.filter(city="Leeds").exists(), ["WalkUntil"]),
    (lambda: list(Organisation.objects.filter(cdms_pk="0a4814f9-0000-4000-8000-000000000001")), ["ByKeys"]),
    (lambda: list(Organisation.objects.filter(number_of_employees=2**40)), ["Nothing"]),
    (lambda: list(Contact.objects.filter(organisation__name="Acme")), ["All", "All"]),
]


@pytest.mark.parametrize(("read", "chosen"), STRATEGIES)
def test_each_read_names_its_strategy(cdms, caplog, read, chosen):
    seed_account(cdms, "Acme", Address1_City="Leeds", NumberOfEmployees=5)
    with caplog.at_level("DEBUG", logger="migrator.read.strict"):
        read()
    assert [r.getMessage().split(": ")[1] for r in caplog.records if r.name == "migrator.read.strict"] == chosen
