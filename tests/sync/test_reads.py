"""Synced reads: every QuerySet method answers what Django answers on the CRM's current data."""

import datetime as dt

import pytest
from django.db.models import Count, Max, Q

from cdms_api.counting import count_requests
from cdms_api.exceptions import CDMSError
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


def test_a_strict_read_past_the_cap_raises_naming_the_cap_and_the_ways_out(cdms, settings):
    from migrator.exceptions import ReadCapError

    settings.CDMS_SYNC_MAX_ROWS = 60
    for i in range(70):
        seed_account(cdms, f"Firm {i}", NumberOfEmployees=1)
    with pytest.raises(ReadCapError) as raised:
        list(Organisation.objects.filter(number_of_employees=1))
    message = str(raised.value)
    assert "CDMS_SYNC_MAX_ROWS=60" in message
    assert "Narrow the filter" in message and "cdms_follow" in message and "CDMS_MAX_STALENESS" in message
    assert isinstance(raised.value, CDMSError)
    assert len(list(Organisation.objects.filter(number_of_employees=1, name__startswith="Firm 6"))) == 11


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


def test_a_read_of_a_stale_mirror_past_the_cap_raises_and_removes_nothing(cdms, settings):
    from migrator.exceptions import ReadCapError

    keys = [seed_account(cdms, f"Firm {i}", NumberOfEmployees=1) for i in range(100)]
    list(Organisation.objects.all())  # a full local mirror (cap 5000)
    settings.CDMS_SYNC_MAX_ROWS = 20
    with pytest.raises(ReadCapError):
        Organisation.objects.filter(number_of_employees=1).count()
    with pytest.raises(ReadCapError):
        Organisation.objects.filter(cdms_pk__in=keys).count()
    assert Organisation.objects.skip_cdms().count() == 100


def test_a_key_filter_cut_by_the_cap_deletes_no_live_row(cdms, settings):
    """Regression: keys not fetched because the cap cut the read were taken for deleted."""
    from migrator.exceptions import ReadCapError

    acme = seed_account(cdms, "Acme")
    keys = [seed_account(cdms, f"Firm {i}") for i in range(30)]
    seed_contact(cdms, "Ann", "Lee", account=keys[-1])
    list(Organisation.objects.all())
    list(Contact.objects.all())
    pks = list(Organisation.objects.skip_cdms().values_list("pk", flat=True))
    settings.CDMS_SYNC_MAX_ROWS = 10
    with pytest.raises(ReadCapError):
        list(Organisation.objects.filter(pk__in=pks))
    assert Organisation.objects.skip_cdms().count() == 31
    assert Contact.objects.skip_cdms().get().organisation.cdms_pk == keys[-1]
    cdms.store.delete("Account", acme)
    settings.CDMS_SYNC_MAX_ROWS = 5000
    assert len(Organisation.objects.filter(pk__in=pks)) == 30  # proven gone by key: removed


# Regressions: reads stay exact when the CRM changed ahead of a window, across relations and caps.


EVERY_COUNTED = ["Acme Ltd", "Beta plc", "Delta", "O'Brien & Sons"]  # the firms with a number and a date


def _numbered(crm, n):
    """`n` accounts with NumberOfEmployees 1..n, mirrored locally; returns their keys by number."""
    keys = {i: seed_account(crm, f"Firm {i:03}", NumberOfEmployees=i) for i in range(1, n + 1)}
    list(Organisation.objects.all())
    return keys


def test_a_slice_after_a_row_deleted_ahead_of_the_window_is_the_right_window(cdms):
    keys = _numbered(cdms, 60)
    cdms.store.delete("Account", keys[1])
    window = Organisation.objects.order_by("number_of_employees")[50:55]
    assert [o.number_of_employees for o in window] == [52, 53, 54, 55, 56]


def test_a_slice_after_a_row_changed_ahead_of_the_window_is_the_right_window(cdms):
    keys = _numbered(cdms, 60)
    cdms.store.update("Account", keys[2], {"NumberOfEmployees": 100}, modified_on=later())
    window = Organisation.objects.order_by("number_of_employees")[50:55]
    assert [o.number_of_employees for o in window] == [52, 53, 54, 55, 56]


def test_a_slice_by_name_after_a_row_deleted_ahead_of_the_window(cdms):
    keys = _numbered(cdms, 5)
    cdms.store.delete("Account", keys[1])
    assert [o.name for o in Organisation.objects.order_by("name")[1:3]] == ["Firm 003", "Firm 004"]


def test_first_skips_every_deleted_lowest_row_in_two_requests(cdms):
    keys = _numbered(cdms, 20)
    for i in range(1, 8):
        cdms.store.delete("Account", keys[i])
    with count_requests() as counter:
        first = Organisation.objects.order_by("number_of_employees").first()
    assert first.number_of_employees == 8
    assert counter.count == 2  # the first row in the CRM's order, then the local rows ahead of it by key
    assert Organisation.objects.skip_cdms().count() == 13


def test_first_when_more_rows_were_deleted_than_one_request_checks(cdms):
    keys = _numbered(cdms, 80)
    for i in range(1, 61):
        cdms.store.delete("Account", keys[i])
    assert Organisation.objects.order_by("number_of_employees").first().number_of_employees == 61
    assert Organisation.objects.order_by("-number_of_employees").last().number_of_employees == 61


def test_exists_on_a_slice_respects_its_start(cdms):
    seed_account(cdms, "Acme", NumberOfEmployees=5)
    assert Organisation.objects.filter(number_of_employees=5).exists()
    assert not Organisation.objects.filter(number_of_employees=5)[1:2].exists()
    second = seed_account(cdms, "Acme 2", NumberOfEmployees=5)
    assert Organisation.objects.filter(number_of_employees=5)[1:2].exists()
    assert not Organisation.objects.filter(number_of_employees=5)[2:].exists()
    cdms.store.delete("Account", second)  # the local mirror still holds two matching rows
    assert not Organisation.objects.filter(number_of_employees=5)[1:2].exists()


def _family(crm):
    """Acme with Ann, Beta with Bob, Gamma with no one; all mirrored locally."""
    acme, beta, gamma = (seed_account(crm, name) for name in ("Acme", "Beta", "Gamma"))
    ann = seed_contact(crm, "Ann", "Lee", account=acme)
    bob = seed_contact(crm, "Bob", "Ray", account=beta)
    list(Organisation.objects.all())
    list(Contact.objects.all())
    return acme, beta, gamma, ann, bob


def test_the_reverse_relation_reads_children_changed_in_the_crm(cdms):
    acme, beta, gamma, ann, bob = _family(cdms)
    cdms.store.delete("Contact", bob)
    seed_contact(cdms, "Cy", "Hill", account=gamma)
    seed_contact(cdms, "Di", "Hill", account=acme)
    assert names(Organisation.objects.filter(contacts__isnull=True)) == ["Beta"]
    assert names(Organisation.objects.filter(contacts__isnull=False).distinct()) == ["Acme", "Gamma"]
    counts = dict(Organisation.objects.annotate(n=Count("contacts")).values_list("name", "n"))
    assert counts == {"Acme": 2, "Beta": 0, "Gamma": 1}


def test_the_reverse_relation_with_a_subquery_reads_the_children(cdms):
    acme, beta, gamma, ann, bob = _family(cdms)
    cdms.store.update("Contact", bob, {"FirstName": "Bea"}, modified_on=later())
    seed_contact(cdms, "Bea", "Hill", account=gamma)
    beas = Contact.objects.filter(first_name="Bea")
    assert names(Organisation.objects.filter(contacts__in=beas)) == ["Beta", "Gamma"]
    assert names(Organisation.objects.exclude(contacts__first_name="Ann")) == ["Beta", "Gamma"]


def test_contacts_of_an_organisation_deleted_in_the_crm_are_gone(cdms):
    acme, beta, gamma, ann, bob = _family(cdms)
    org = Organisation.objects.get(cdms_pk=acme)
    # Another CRM user deletes Acme; CRM 2011 deletes its contacts with it (a parental relationship).
    cdms.store.delete("Account", acme)
    assert cdms.store.get("Contact", ann) is None
    assert list(Contact.objects.filter(organisation=org)) == []
    assert [c.first_name for c in Contact.objects.select_related("organisation")] == ["Bob"]
    assert [c.first_name for c in Contact.objects.filter(organisation__name="Acme")] == []


def test_a_join_two_relations_away_is_followed_a_relation_at_a_time(cdms):
    acme, beta, gamma, ann, bob = _family(cdms)
    seed_contact(cdms, "Cy", "Hill", account=acme)
    # Contacts who share a company with an Ann: Ann and Cy at Acme.
    assert sorted(c.first_name for c in Contact.objects.filter(organisation__contacts__first_name="Ann")) == [
        "Ann",
        "Cy",
    ]
    cdms.store.update("Contact", ann, {"FirstName": "Anna"}, modified_on=later())
    assert list(Contact.objects.filter(organisation__contacts__first_name="Ann")) == []


def test_excluding_across_two_relations_syncs_every_row_the_subquery_joins(cdms):
    acme, beta, gamma, ann, bob = _family(cdms)
    loner = seed_contact(cdms, "Cy", "Hill")
    # Contacts whose organisation has contacts: Django begins this NOT EXISTS at the organisations.
    assert sorted(c.first_name for c in Contact.objects.exclude(organisation__contacts__isnull=True)) == [
        "Ann",
        "Bob",
    ]
    # Another CRM user moves Bob away from Beta to Ann's Acme, and removes Cy.
    cdms.store.update(
        "Contact", bob, {"ParentCustomerId": {"Id": acme, "LogicalName": "account"}}, modified_on=later()
    )
    cdms.store.delete("Contact", loner)
    unnamed = Q(organisation__contacts__first_name="Ann")
    assert list(Contact.objects.filter(~unnamed | Q(first_name="x"))) == []
    assert sorted(c.first_name for c in Contact.objects.filter(unnamed)) == ["Ann", "Bob"]


def test_excluding_colleagues_named_ann_sees_an_ann_the_crm_deleted(cdms):
    acme, beta, gamma, ann, bob = _family(cdms)
    cy = seed_contact(cdms, "Cy", "Hill", account=acme)
    # Contacts with no Ann at their organisation: Bob (at Beta).
    assert sorted(c.first_name for c in Contact.objects.exclude(organisation__contacts__first_name="Ann")) == [
        "Bob"
    ]
    cdms.store.delete("Contact", ann)  # another CRM user deletes Ann: Cy has no Ann beside her now
    assert sorted(c.first_name for c in Contact.objects.exclude(organisation__contacts__first_name="Ann")) == [
        "Bob",
        "Cy",
    ]
    # Contacts whose organisation has no contacts: none, whatever the mirror held; Cy moves to Gamma.
    cdms.store.update(
        "Contact", cy, {"ParentCustomerId": {"Id": gamma, "LogicalName": "account"}}, modified_on=later()
    )
    assert list(Contact.objects.exclude(organisation__contacts__isnull=False)) == []
    assert Contact.objects.get(cdms_pk=cy).organisation.name == "Gamma"


@pytest.mark.parametrize(
    ("lookup", "expected"),
    [
        ({"number_of_employees": 2**40}, []),
        ({"number_of_employees__gt": 2**31}, []),
        ({"number_of_employees__lt": 2**40}, EVERY_COUNTED),
        ({"number_of_employees__gte": -(2**40)}, EVERY_COUNTED),
        ({"number_of_employees__in": [2**40, 10]}, ["Acme Ltd"]),
        ({"last_verified__gt": dt.datetime(1, 1, 1, tzinfo=UTC)}, EVERY_COUNTED),
        ({"last_verified__lt": dt.datetime(1700, 1, 1, tzinfo=UTC)}, []),
        ({"last_verified": dt.datetime(999, 1, 1, tzinfo=UTC)}, []),
        ({"last_verified__year": 9999}, []),
        ({"last_verified__year__lte": 9999}, EVERY_COUNTED),
        ({"last_verified__year": 1}, []),
        ({"last_verified__date": dt.date(9999, 12, 31)}, []),
    ],
)
def test_values_outside_the_crms_domain_are_answered_without_a_bad_request(firms, lookup, expected):
    assert names(Organisation.objects.filter(**lookup)) == expected


def test_a_value_that_cannot_match_a_crm_row_costs_no_request(firms):
    with count_requests() as counter:
        assert list(Organisation.objects.filter(number_of_employees=2**40)) == []
        assert list(Organisation.objects.filter(last_verified__lt=dt.datetime(1000, 1, 1, tzinfo=UTC))) == []
    assert counter.count == 0


def test_an_invalid_year_is_a_clear_value_error(firms):
    with pytest.raises(ValueError, match="year 0 is out of range"):
        list(Organisation.objects.filter(last_verified__year=0))


def test_long_and_non_ascii_filter_values_stay_within_the_url_limits(firms):
    from cdms_api.client import MAX_QUERY_BYTES

    seed_account(firms, "Zoë " * 10)
    many = [f"Ünïcödé {i} " * 3 for i in range(200)] + ["Zoë " * 10]
    with count_requests() as counter:
        assert names(Organisation.objects.filter(name__in=many)) == ["Zoë " * 10]
        assert names(Organisation.objects.filter(name="é" * 3000)) == []
        assert names(Organisation.objects.filter(name__icontains="ö" * 1000, number_of_employees=7)) == []
    assert counter.count > 3  # the `in` list went out in several requests, each accepted
    served = firms.stats.requests
    assert all(len(path) < 4096 for _, path in served)
    assert MAX_QUERY_BYTES == 2048 and firms.max_query_bytes == 2048


def test_last_fetches_in_the_reversed_order(cdms):
    keys = _numbered(cdms, 3)
    seed_account(cdms, "Newcomer", NumberOfEmployees=0)  # not local yet
    cdms.store.delete("Account", keys[3])
    with count_requests() as counter:
        assert Organisation.objects.order_by("-number_of_employees").last().name == "Newcomer"
    assert counter.count == 1
    assert Organisation.objects.order_by("number_of_employees").reverse().first().number_of_employees == 2


def test_exists_and_subquery_expressions_over_a_synced_model_are_refused(cdms):
    from django.db.models import Exists, OuterRef, Subquery

    from migrator.exceptions import NotSupportedError

    _family(cdms)
    children = Contact.objects.filter(organisation=OuterRef("pk"))
    with pytest.raises(NotSupportedError, match="Exists\\(\\) or Subquery\\(\\) over contact.Contact"):
        list(Organisation.objects.filter(Exists(children)))
    with pytest.raises(NotSupportedError, match="over contact.Contact"):
        list(Organisation.objects.annotate(first=Subquery(children.values("first_name")[:1])))
    assert names(Organisation.objects.skip_cdms().filter(Exists(children))) == ["Acme", "Beta"]


def test_exclude_across_the_reverse_relation_reads_the_children_it_names(cdms):
    acme, beta, gamma, ann, bob = _family(cdms)
    cdms.store.update("Contact", bob, {"FirstName": "Ann"}, modified_on=later())
    seed_contact(cdms, "Ann", "Hill", account=gamma)
    cdms.store.delete("Contact", ann)
    assert names(Organisation.objects.exclude(contacts__first_name="Ann")) == ["Acme"]
    assert names(Organisation.objects.exclude(contacts__first_name="Ann", contacts__last_name="Hill")) == [
        "Acme",
        "Beta",
    ]


def test_a_child_moved_away_before_its_parent_was_deleted_keeps_its_local_row(cdms):
    acme, beta, gamma, ann, bob = _family(cdms)
    local_ann = Contact.objects.skip_cdms().get(cdms_pk=ann).pk
    # Another CRM user moves Ann to Beta, then deletes Acme (the local Ann still points at Acme).
    cdms.store.update("Contact", ann, {"ParentCustomerId": {"Id": beta, "LogicalName": "account"}})
    cdms.store.delete("Account", acme)
    acme_pk = Organisation.objects.skip_cdms().get(cdms_pk=acme).pk
    assert list(Organisation.objects.filter(pk=acme_pk)) == []  # proven gone by key
    moved = Contact.objects.skip_cdms().get(cdms_pk=ann)
    assert moved.pk == local_ann and moved.organisation.cdms_pk == beta
