"""Every read of CRM records asks `$select` for what the sync layer reads, on every page it follows.

A real CRM record carries hundreds of attributes and navigation links; a read names the key,
`CreatedOn`, `ModifiedOn`, `VersionNumber` and the mapped attributes (and, for a parent it
expands, the same of the parent as `navigation/Attribute`). Asserted on the requests the client
sent, counted as `assertNumQueries` counts SQL.
"""

import pytest
from django.core.management import call_command
from reversion.models import Version

from cdms_api.counting import count_requests
from contact.models import Contact
from migrator import fetch
from migrator.cdms_migrator import get_migrator
from migrator.mirror.follower import follow
from migrator.mirror.import_windows import import_one_window
from migrator.mirror.importer import EntityImport
from migrator.mirror.sweep import sweep
from organisation.models import Organisation
from tests.crm_records import seed_account, seed_contact
from tests.follow.vouches import age_vouches

SYSTEM = {"CreatedOn", "ModifiedOn", "VersionNumber"}


def read_attributes(model):
    """What a read of `model` must ask for: the key, the system attributes, every mapped attribute."""
    migrator = get_migrator(model)
    return {migrator.key_attribute, *SYSTEM, *(field.cdms_name for field in migrator.fields.values())}


def selected(request):
    """The names of a request's `$select`, or None without one."""
    value = request.option("$select")
    return None if value is None else set(value.split(","))


def gets(counter, entity_set="AccountSet"):
    return [r for r in counter.requests if r.method == "GET" and r.entity_set == entity_set]


def test_the_select_names_the_key_the_system_attributes_and_every_mapped_attribute():
    assert set(get_migrator(Organisation).select) == {
        "AccountId", "CreatedOn", "ModifiedOn", "VersionNumber", "Name", "optevia_Alias",
        "optevia_ukorganisation", "EMailAddress1", "Address1_City", "Address1_PostalCode",
        "NumberOfEmployees", "optevia_LastVerified", "optevia_CompaniesHouseNumber", "optevia_Address1",
        "optevia_Address2", "optevia_Address3", "optevia_Address4", "optevia_TownCity", "optevia_StateCounty",
        "optevia_PostCode", "Description", "WebSiteURL", "optevia_Country", "optevia_UKRegion",
        "optevia_BusinessType", "optevia_Sector", "optevia_EmployeeRange", "optevia_TurnoverRange",
        "ParentAccountId",
    }  # fmt: skip
    assert set(get_migrator(Contact).select) == {
        "ContactId", "CreatedOn", "ModifiedOn", "VersionNumber", "FirstName", "LastName", "EMailAddress1",
        "ParentCustomerId", "optevia_Title", "JobTitle", "optevia_CountryCode", "optevia_TelephoneNumber",
        "optevia_Address1", "optevia_Address2", "optevia_Address3", "optevia_Address4", "optevia_TownCity",
        "optevia_StateCounty", "optevia_PostCode", "optevia_Country", "optevia_PrimaryContact",
    }  # fmt: skip


def test_a_strict_read_asks_for_the_mapped_attributes_on_every_page(cdms):
    for i in range(120):
        seed_account(cdms, f"Org {i:03}", Address1_City="Leeds")
    with count_requests() as counter:
        rows = list(Organisation.objects.filter(city="Leeds"))
    assert len(rows) == 120 and rows[0].city == "Leeds"
    requests = gets(counter)
    assert len(requests) == 3  # the CRM's `__next` links kept the options
    assert [selected(r) for r in requests] == [read_attributes(Organisation)] * 3
    assert [r.option("$skiptoken") is not None for r in requests] == [False, True, True]


def test_a_check_by_key_asks_for_the_mapped_attributes(cdms):
    key = seed_account(cdms, "Acme", NumberOfEmployees=7)
    with count_requests() as counter:
        org = Organisation.objects.get(cdms_pk=key)
    assert org.number_of_employees == 7
    [request] = gets(counter)
    assert "AccountId eq guid" in request.option("$filter")
    assert selected(request) == read_attributes(Organisation)


def test_local_rows_checked_by_key_ask_for_the_mapped_attributes(cdms):
    keys = [seed_account(cdms, f"Firm {i}", Address1_City="York") for i in range(30)]
    list(Organisation.objects.all())
    for key in keys:  # another CRM user moves them all: they now match only locally
        cdms.store.update("Account", key, {"Address1_City": "Hull"})
    with count_requests() as counter:
        assert list(Organisation.objects.filter(city="York")) == []
    by_key = [r for r in gets(counter) if "AccountId eq guid" in r.option("$filter")]
    assert len(by_key) == 2  # the filter's page, then 30 suspects in two by-key requests
    assert all(selected(r) == read_attributes(Organisation) for r in gets(counter))


def test_a_bounded_read_verifies_its_rows_by_key_with_the_mapped_attributes(cdms, settings):
    settings.CDMS_MAX_STALENESS = 60
    for i in range(10):
        seed_account(cdms, f"Org {i}", NumberOfEmployees=i)
    follow(Organisation, "test")
    sweep(Organisation, "test", partitions=1)
    age_vouches()
    with count_requests() as counter:
        rows = list(Organisation.objects.order_by("number_of_employees")[:5])
    assert [r.number_of_employees for r in rows] == [0, 1, 2, 3, 4]
    [request] = gets(counter)
    assert "AccountId eq guid" in request.option("$filter")
    assert selected(request) == read_attributes(Organisation)


def test_a_follower_round_asks_for_the_mapped_attributes_on_every_page(cdms):
    keys = [seed_account(cdms, f"Org {i:03}") for i in range(60)]
    for i, key in enumerate(keys[:55]):
        seed_contact(cdms, f"First{i}", "Person", account=key)
    with count_requests() as counter:
        follow(Organisation, "test")
        follow(Contact, "test")
    assert Contact.objects.skip_cdms().filter(organisation__cdms_pk=keys[0]).count() == 1
    accounts, contacts = gets(counter), gets(counter, "ContactSet")
    assert (len(accounts), len(contacts)) == (2, 2)
    assert [selected(r) for r in accounts] == [read_attributes(Organisation)] * 2
    assert [selected(r) for r in contacts] == [read_attributes(Contact)] * 2


def test_an_import_page_asks_for_the_mapped_attributes(cdms):
    for i in range(70):
        seed_account(cdms, f"Org {i:03}")
    with count_requests() as counter:
        call_command("cdms_import", "--full", "--entity", "Account", "--workers", "1", "--no-progress")
    assert Organisation.objects.skip_cdms().count() == 70
    windows = [r for r in gets(counter) if r.option("$orderby") == "ModifiedOn,AccountId"]
    edges = [r for r in gets(counter) if r.option("$top") == "1"]
    assert windows and len(edges) == 2
    assert all(selected(r) == read_attributes(Organisation) for r in windows)
    assert all(selected(r) == {"AccountId", "ModifiedOn"} for r in edges)  # the run's first and last change


def test_an_import_window_run_by_a_worker_asks_for_the_mapped_attributes(cdms):
    for i in range(70):
        seed_account(cdms, f"Org {i:03}")
    importer = EntityImport(Organisation, full=True, show_progress=False)
    with count_requests() as counter:
        importer.run_on_workers(lambda entity, index: import_one_window(Organisation, index), poll_seconds=0.01)
    assert Organisation.objects.skip_cdms().count() == 70
    windows = [r for r in gets(counter) if r.option("$orderby") == "ModifiedOn,AccountId"]
    assert windows and all(selected(r) == read_attributes(Organisation) for r in windows)


def test_the_read_after_a_merge_asks_for_the_mapped_attributes(cdms):
    org = Organisation.objects.create(name="Acme", city="Leeds")
    org.city = "York"
    with count_requests() as counter:
        org.save()
    assert [r.method for r in counter.requests] == ["MERGE", "GET"]
    assert selected(counter.requests[1]) == read_attributes(Organisation)
    assert Organisation.objects.skip_cdms().get(pk=org.pk).modified == org.modified


def test_the_read_after_reverting_a_version_asks_for_the_mapped_attributes(cdms):
    org = Organisation.objects.create(name="Acme", city="Leeds")
    org.city = "York"
    org.save()
    with count_requests() as counter:
        Version.objects.get_for_object(org)[1].revert()
    assert [r.method for r in counter.requests] == ["MERGE", "GET"]
    assert selected(counter.requests[1]) == read_attributes(Organisation)
    assert Organisation.objects.skip_cdms().get(pk=org.pk).city == "Leeds"


def test_a_merge_whose_answer_was_lost_is_read_back_with_the_mapped_attributes(cdms, settings):
    settings.CDMS_TIMEOUT = 0.3
    org = Organisation.objects.create(name="Acme", city="Leeds")
    cdms.faults.add(kind="status", status=500, method="MERGE", after=True, count=10)
    org.city = "York"
    with count_requests() as counter:
        org.save()
    [read_back] = [r for r in counter.requests if r.method == "GET"]
    assert selected(read_back) == read_attributes(Organisation)
    assert cdms.store.get("Account", org.cdms_pk)["Address1_City"] == "York"


def test_select_related_asks_for_the_parents_attributes_through_the_navigation(cdms):
    for i in range(3):
        account = seed_account(cdms, f"Firm {i}", Address1_City="Leeds")
        seed_contact(cdms, f"First{i}", "Person", account=account)
    with count_requests() as counter:
        contacts = list(Contact.objects.select_related("organisation").filter(last_name="Person"))
    assert {c.organisation.city for c in contacts} == {"Leeds"}
    [request] = counter.requests  # the organisations came inline and were stored
    assert request.option("$expand") == "contact_customer_accounts"
    parent = {f"contact_customer_accounts/{name}" for name in read_attributes(Organisation)}
    assert selected(request) == read_attributes(Contact) | parent


def test_a_key_sweep_proves_deletions_asking_only_for_keys(cdms):
    keys = [seed_account(cdms, f"Org {i}") for i in range(5)]
    follow(Organisation, "test")
    cdms.store.delete("Account", keys[0])
    with count_requests() as counter:
        sweep(Organisation, "test", partitions=1)
    assert keys[0] not in set(Organisation.objects.skip_cdms().values_list("cdms_pk", flat=True))
    assert [selected(r) for r in gets(counter)] == [{"AccountId"}] * 2  # the listing, the proof


def test_cdms_reconcile_repairs_with_the_mapped_attributes(cdms):
    keys = [seed_account(cdms, f"Org {i}") for i in range(3)]
    with count_requests() as counter:
        call_command("cdms_reconcile", "--fix", "--entity", "Account", "--json")
    assert set(Organisation.objects.skip_cdms().values_list("cdms_pk", flat=True)) == set(keys)
    listing, *repairs = gets(counter)
    assert selected(listing) == {"AccountId", "ModifiedOn", "VersionNumber"}
    assert repairs and all(selected(r) == read_attributes(Organisation) for r in repairs)


@pytest.mark.parametrize("setting", [False, "false"])
def test_with_select_turned_off_reads_fetch_whole_records(cdms, settings, setting):
    settings.CDMS_SELECT = setting
    seed_account(cdms, "Acme", Address1_City="Leeds")
    with count_requests() as counter:
        [org] = Organisation.objects.filter(city="Leeds")
    assert org.name == "Acme"
    assert [selected(r) for r in counter.requests] == [None]


def test_a_select_too_long_for_the_query_string_reads_whole_records():
    class Wide:
        select = [f"optevia_Attribute{i:03}" for i in range(90)]
        navigation = {}

    assert fetch.selection(get_migrator(Organisation)) is not None
    assert fetch.selection(Wide()) is None
