"""Synced reads: every QuerySet method answers what Django answers on the CRM's current data."""

import datetime as dt

import pytest
from django.db.models import Count, Max, Q

from cdms_api.counting import count_requests
from contact.models import Contact
from organisation.models import Organisation
from tests.crm_records import later, seed_account, seed_contact, wire_date

UTC = dt.UTC


@pytest.fixture
def firms(cdms):
    """Five accounts with varied attributes, in the CRM only."""
    rows = [
        ("Acme Ltd", "London", 10, True, dt.datetime(2019, 12, 31, 23, 30, tzinfo=UTC)),
        ("Beta plc", "Leeds", 250, False, dt.datetime(2020, 6, 1, 12, 0, tzinfo=UTC)),
        ("Café Ltd", "london", None, None, None),
        ("Delta", "", 42, True, dt.datetime(2021, 3, 4, 5, 6, 7, tzinfo=UTC)),
        ("O'Brien & Sons", "York", 7, False, dt.datetime(2020, 1, 1, 0, 30, tzinfo=UTC)),
    ]
    for name, city, employees, uk, verified in rows:
        attrs = {"Address1_City": city or None, "NumberOfEmployees": employees, "optevia_ukorganisation": uk}
        if verified:
            attrs["optevia_LastVerified"] = wire_date(verified)
        seed_account(cdms, name, **attrs)
    return cdms


def names(qs):
    return sorted(o.name for o in qs)


@pytest.mark.parametrize(
    ("lookup", "expected"),
    [
        ({"name": "Acme Ltd"}, ["Acme Ltd"]),
        ({"name__iexact": "acme ltd"}, ["Acme Ltd"]),
        ({"name__contains": "Ltd"}, ["Acme Ltd", "Café Ltd"]),
        ({"name__icontains": "ltd"}, ["Acme Ltd", "Café Ltd"]),
        ({"name__startswith": "O'B"}, ["O'Brien & Sons"]),
        ({"name__istartswith": "o'b"}, ["O'Brien & Sons"]),
        ({"name__endswith": "plc"}, ["Beta plc"]),
        ({"name__iendswith": "PLC"}, ["Beta plc"]),
        ({"city": ""}, ["Delta"]),
        ({"city": "London"}, ["Acme Ltd"]),
        ({"number_of_employees__gt": 10}, ["Beta plc", "Delta"]),
        ({"number_of_employees__gte": 10}, ["Acme Ltd", "Beta plc", "Delta"]),
        ({"number_of_employees__lt": 10}, ["O'Brien & Sons"]),
        ({"number_of_employees__lte": 10}, ["Acme Ltd", "O'Brien & Sons"]),
        ({"number_of_employees__in": [7, 42, 1000]}, ["Delta", "O'Brien & Sons"]),
        ({"number_of_employees__range": (8, 100)}, ["Acme Ltd", "Delta"]),
        ({"number_of_employees__isnull": True}, ["Café Ltd"]),
        ({"uk_organisation": False}, ["Beta plc", "O'Brien & Sons"]),
        ({"last_verified__year": 2020}, ["Beta plc", "O'Brien & Sons"]),
        ({"last_verified__month": 6}, ["Beta plc"]),
        ({"last_verified__day": 4}, ["Delta"]),
        ({"last_verified__week_day": 2}, ["Beta plc"]),
        ({"last_verified__hour": 5}, ["Delta"]),
        ({"last_verified__minute": 30}, ["Acme Ltd", "O'Brien & Sons"]),
        ({"last_verified__second": 7}, ["Delta"]),
        ({"name__regex": r"^[AB]"}, ["Acme Ltd", "Beta plc"]),
        ({"name__iregex": r"^[ab]"}, ["Acme Ltd", "Beta plc"]),
    ],
)
def test_lookup(firms, lookup, expected):
    assert names(Organisation.objects.filter(**lookup)) == expected


def test_q_trees_and_exclude(firms):
    qs = Organisation.objects.filter(Q(city__iexact="london") | Q(number_of_employees__gt=100))
    assert names(qs) == ["Acme Ltd", "Beta plc", "Café Ltd"]
    assert names(Organisation.objects.exclude(number_of_employees__gt=10)) == [
        "Acme Ltd",
        "Café Ltd",
        "O'Brien & Sons",
    ]
    assert names(Organisation.objects.exclude(Q(uk_organisation=True) | Q(city=""))) == [
        "Beta plc",
        "Café Ltd",
        "O'Brien & Sons",
    ]
    assert names(Organisation.objects.filter(~Q(name__contains="Ltd"), number_of_employees__lt=100)) == [
        "Delta",
        "O'Brien & Sons",
    ]
    assert names(Organisation.objects.filter(uk_organisation=True).filter(number_of_employees__gt=20)) == ["Delta"]


def test_queryset_methods(firms):
    objects = Organisation.objects
    assert objects.count() == 5
    assert objects.filter(city__iexact="london").count() == 2
    assert objects.filter(name="Nobody").exists() is False
    assert objects.filter(name="Delta").exists() is True
    assert (
        objects.order_by("number_of_employees").exclude(number_of_employees=None).first().name == "O'Brien & Sons"
    )
    assert objects.exclude(number_of_employees=None).order_by("number_of_employees").last().name == "Beta plc"
    assert objects.exclude(last_verified=None).latest("last_verified").name == "Delta"
    assert objects.exclude(last_verified=None).earliest("last_verified").name == "Acme Ltd"
    assert objects.aggregate(top=Max("number_of_employees"))["top"] == 250
    by_city = dict(objects.values("uk_organisation").annotate(n=Count("id")).values_list("uk_organisation", "n"))
    assert by_city == {True: 2, False: 2, None: 1}
    assert sorted(objects.values_list("name", flat=True)) == names(objects.all())
    assert objects.values("city").distinct().count() == 5  # London and london differ locally
    org = objects.get(name="Delta")
    assert objects.in_bulk([org.pk]) == {org.pk: org}
    assert [o.name for o in objects.filter(number_of_employees__gte=42).iterator()] == ["Beta plc", "Delta"]
    assert [d.year for d in objects.dates("last_verified", "year")] == [2019, 2020, 2021]
    assert len(objects.datetimes("last_verified", "month")) == 4
    assert len(objects.filter(number_of_employees__gt=5)[1:3]) == 2


def test_get_or_create_and_update_or_create(cdms):
    org, created = Organisation.objects.get_or_create(name="New Co", defaults={"city": "Bath"})
    assert created and cdms.store.get("Account", org.cdms_pk)["Address1_City"] == "Bath"
    again, created = Organisation.objects.get_or_create(name="New Co")
    assert not created and again.pk == org.pk
    updated, created = Organisation.objects.update_or_create(name="New Co", defaults={"city": "Hull"})
    assert not created and cdms.store.get("Account", org.cdms_pk)["Address1_City"] == "Hull"


def test_record_changed_in_crm_is_refreshed_with_a_revision(cdms):
    from reversion.models import Version

    org = Organisation.objects.create(name="Acme")
    cdms.store.update("Account", org.cdms_pk, {"Name": "Acme Renamed"}, modified_on=later())
    assert Organisation.objects.get(pk=org.pk).name == "Acme Renamed"
    versions = Version.objects.get_for_object(org)
    assert versions[0].revision.comment == "CDMS refresh"
    assert versions[0].field_dict["name"] == "Acme Renamed"


def test_stale_local_rows_never_leak(cdms):
    org = Organisation.objects.create(name="Acme", city="Leeds")
    cdms.store.update("Account", org.cdms_pk, {"Address1_City": "York"}, modified_on=later())
    assert list(Organisation.objects.filter(city="Leeds")) == []
    assert Organisation.objects.skip_cdms().get(pk=org.pk).city == "York"


def test_rows_deleted_in_crm_never_leak(cdms):
    keep = Organisation.objects.create(name="Keep", city="Leeds")
    gone = Organisation.objects.create(name="Gone", city="Leeds")
    cdms.store.delete("Account", gone.cdms_pk)
    with count_requests() as counter:
        assert names(Organisation.objects.filter(city="Leeds")) == ["Keep"]
    assert counter.count == 2  # the filter, then the suspect checked by key
    assert not Organisation.objects.skip_cdms().filter(pk=gone.pk).exists()
    assert keep.pk


def test_get_of_a_record_deleted_in_crm_raises_does_not_exist(cdms):
    org = Organisation.objects.create(name="Gone")
    cdms.store.delete("Account", org.cdms_pk)
    with count_requests() as counter, pytest.raises(Organisation.DoesNotExist):
        Organisation.objects.get(pk=org.pk)
    assert counter.count == 1


def test_local_row_newer_than_crm_raises(cdms):
    from migrator.exceptions import ObjectsNotInSyncError

    org = Organisation.objects.create(name="Acme")
    Organisation.objects.skip_cdms().filter(pk=org.pk).update(modified=later(3600))
    with pytest.raises(ObjectsNotInSyncError, match=org.cdms_pk):
        Organisation.objects.get(pk=org.pk)


def test_local_only_rows_stay_in_results(cdms):
    Organisation(name="Local only").save(skip_cdms=True)
    seed_account(cdms, "Remote")
    assert names(Organisation.objects.all()) == ["Local only", "Remote"]


def test_filters_through_the_contact_organisation_relation(cdms):
    acme = seed_account(cdms, "Acme", Address1_City="Leeds")
    beta = seed_account(cdms, "Beta", Address1_City="York")
    seed_contact(cdms, "Ann", "Lee", account=acme)
    seed_contact(cdms, "Bob", "Ray", account=beta)
    seed_contact(cdms, "Cat", "Orphan")
    assert [c.first_name for c in Contact.objects.filter(organisation__name="Acme")] == ["Ann"]
    assert [c.first_name for c in Contact.objects.filter(organisation__cdms_pk=beta)] == ["Bob"]
    org = Organisation.objects.get(cdms_pk=acme)
    assert [c.first_name for c in Contact.objects.filter(organisation=org)] == ["Ann"]
    assert [c.first_name for c in Contact.objects.filter(organisation_id=org.pk)] == ["Ann"]
    assert [c.first_name for c in Contact.objects.filter(organisation__isnull=True)] == ["Cat"]
    assert sorted(c.first_name for c in Contact.objects.exclude(organisation__city="Leeds")) == ["Bob", "Cat"]
    # Through the LEFT JOIN, a contact without an organisation has a null parent column.
    without_size = Contact.objects.filter(organisation__number_of_employees__isnull=True)
    assert sorted(c.first_name for c in without_size) == ["Ann", "Bob", "Cat"]
    assert [o.name for o in Organisation.objects.filter(contacts__first_name="Bob")] == ["Beta"]
    # Renamed in the CRM: the relation filter sees the new name.
    cdms.store.update("Account", acme, {"Name": "Acme Two"}, modified_on=later())
    assert list(Contact.objects.filter(organisation__name="Acme")) == []


def test_prefetch_and_reverse_relation(cdms):
    acme = seed_account(cdms, "Acme")
    seed_contact(cdms, "Ann", "Lee", account=acme)
    seed_contact(cdms, "Bob", "Lee", account=acme)
    org = Organisation.objects.prefetch_related("contacts").get(cdms_pk=acme)
    with count_requests() as counter:
        assert sorted(c.first_name for c in org.contacts.all()) == ["Ann", "Bob"]
    assert counter.count == 0  # prefetched, and the prefetch itself was synced
    seed_contact(cdms, "Cy", "Lee", account=acme)
    assert Organisation.objects.get(cdms_pk=acme).contacts.count() == 3  # a fresh instance, no prefetch cache


def test_sync_cap_logs_a_warning(cdms, settings, caplog):
    settings.CDMS_SYNC_MAX_ROWS = 60
    for i in range(70):
        seed_account(cdms, f"Firm {i}", NumberOfEmployees=1)
    with caplog.at_level("WARNING", logger="migrator.sync"):
        rows = list(Organisation.objects.filter(number_of_employees=1))
    assert len(rows) == 60
    assert "CDMS_SYNC_MAX_ROWS=60" in caplog.text


def test_skip_cdms_queryset_and_context(cdms):
    from migrator.context import skip_cdms

    seed_account(cdms, "Remote")
    base = Organisation.objects.all()
    skipped = base.skip_cdms()
    assert skipped is not base and base.syncs_with_cdms and not skipped.syncs_with_cdms
    with count_requests() as counter:
        assert list(skipped) == []
        with skip_cdms():
            assert Organisation.objects.count() == 0
            Organisation.objects.create(name="Local")

        @skip_cdms()
        def job():
            return Organisation.objects.count()

        assert job() == 1
    assert counter.count == 0
    assert Organisation.objects.count() == 2


def test_union_syncs_each_part(cdms):
    seed_account(cdms, "Acme", NumberOfEmployees=1)
    seed_account(cdms, "Beta", NumberOfEmployees=2)
    seed_account(cdms, "Gamma", NumberOfEmployees=3)
    small = Organisation.objects.filter(number_of_employees=1).order_by()  # as Django needs on SQLite
    large = Organisation.objects.filter(number_of_employees=3).order_by()
    assert sorted(o.name for o in small.union(large)) == ["Acme", "Gamma"]


def test_raw_sql_is_refused_unless_the_crm_is_skipped(cdms):
    from migrator.exceptions import NotSupportedError

    with pytest.raises(NotSupportedError, match=r"raw\(\)"):
        Organisation.objects.raw("SELECT * FROM organisation_organisation")
    assert list(Organisation.objects.skip_cdms().raw("SELECT * FROM organisation_organisation")) == []


def test_skip_cdms_querysets_write_locally(cdms):
    local = Organisation.objects.skip_cdms()
    with count_requests() as counter:
        made = local.create(name="Local")
        again, created = local.get_or_create(name="Local")
        updated, _ = local.update_or_create(name="Local", defaults={"city": "Bath"})
        local.filter(pk=made.pk).update(city="Hull")
        local.bulk_create([Organisation(name="Bulk")])
    assert counter.count == 0
    assert not created and again.pk == made.pk == updated.pk
    assert made.cdms_pk is None and cdms.store.count("Account") == 0
    assert sorted(local.values_list("name", "city")) == [("Bulk", ""), ("Local", "Hull")]


def test_filters_with_a_subquery_of_a_synced_model(cdms):
    acme = seed_account(cdms, "Acme", Address1_City="Leeds")
    beta = seed_account(cdms, "Beta", Address1_City="York")
    seed_contact(cdms, "Ann", "Lee", account=acme)
    seed_contact(cdms, "Bob", "Ray", account=beta)
    in_leeds = Organisation.objects.filter(city="Leeds")
    with count_requests() as counter:
        assert [c.first_name for c in Contact.objects.filter(organisation__in=in_leeds)] == ["Ann"]
    assert counter.count == 2  # the organisations in Leeds, then their contacts
    # The inner rows are re-read: Beta moving to Leeds in the CRM is seen.
    cdms.store.update("Account", beta, {"Address1_City": "Leeds"}, modified_on=later())
    assert sorted(c.first_name for c in Contact.objects.filter(organisation__in=in_leeds)) == ["Ann", "Bob"]
    assert sorted(c.first_name for c in Contact.objects.exclude(organisation__in=in_leeds)) == []
    assert [o.name for o in Organisation.objects.filter(pk__in=in_leeds.filter(name="Beta").values("pk"))] == [
        "Beta"
    ]


def test_a_capped_read_checks_at_most_the_cap_of_local_rows(cdms, settings, caplog):
    for i in range(100):
        seed_account(cdms, f"Firm {i}", NumberOfEmployees=1)
    list(Organisation.objects.all())  # a full local mirror (cap 5000)
    settings.CDMS_SYNC_MAX_ROWS = 20
    with count_requests() as counter, caplog.at_level("WARNING", logger="migrator.sync"):
        assert Organisation.objects.filter(number_of_employees=1).count() == 100
    assert counter.count == 2  # 20 rows fetched, then 20 of the 80 unfetched local rows checked
    assert "could not be checked" in caplog.text
