"""Mirror equivalence, checked by a differential property test.

Random data goes into the emulator and a random Q tree over the supported lookups (on
organisations, and on contacts through their organisation, subqueries included) is
evaluated through the sync layer, from an empty and from a stale local database; the
answer must equal the same query with skip_cdms() on a local database that mirrors the
CRM exactly. Every test runs with each way a CRM may send VersionNumber: as a string (OData
v2's Int64), as a number, and not at all (null), where a change within one second shows only
in the values.
"""

import datetime as dt
import uuid

import pytest
from django.db.models import Q
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cdms_api import odata
from organisation.models import Organisation

UTC = dt.UTC
NAMES = ["Acme", "acme", "Acmé", "ACME Ltd", "Beta", "O'Brien", "", "Zeta & Co", "ßeta"]
CITIES = ["London", "london", "Leeds", "", "Öxford"]
EMPLOYEES = [None, 0, 5, 10, 250]
FLAGS = [None, True, False]
DATES = [
    None,
    dt.datetime(2019, 12, 31, 23, 30, tzinfo=UTC),
    dt.datetime(2020, 1, 1, 0, 0, tzinfo=UTC),
    dt.datetime(2020, 3, 29, 0, 30, tzinfo=UTC),  # the night the clocks go forward
    dt.datetime(2020, 6, 30, 23, 15, 45, tzinfo=UTC),  # 1 July in London
    dt.datetime(2021, 10, 31, 1, 30, tzinfo=UTC),
]

records = st.fixed_dictionaries(
    {
        "Name": st.sampled_from(NAMES),
        "Address1_City": st.sampled_from(CITIES),
        "NumberOfEmployees": st.sampled_from(EMPLOYEES),
        "optevia_ukorganisation": st.sampled_from(FLAGS),
        "optevia_LastVerified": st.sampled_from(DATES),
    }
)

STRING_LOOKUPS = [
    "exact",
    "iexact",
    "contains",
    "icontains",
    "startswith",
    "istartswith",
    "endswith",
    "iendswith",
    "regex",
    "iregex",
    "gt",
    "lt",
]
STRING_VALUES = ["Acme", "acme", "ACM", "Ltd", "é", "o'b", "", "Z", "ss", "^A", "e$"]
DATE_PARTS = {
    "year": [2019, 2020, 2021],
    "month": [1, 3, 7, 10, 12],
    "day": [1, 29, 31],
    "week_day": [1, 2, 4],
    "hour": [0, 1, 23],
    "minute": [0, 15, 30],
    "second": [0, 45],
}


def _leaf():
    string = st.tuples(
        st.sampled_from(["name", "city"]), st.sampled_from(STRING_LOOKUPS), st.sampled_from(STRING_VALUES)
    )
    string_in = st.tuples(
        st.sampled_from(["name", "city"]), st.just("in"), st.lists(st.sampled_from(NAMES + CITIES), max_size=3)
    )
    number = st.tuples(
        st.just("number_of_employees"),
        st.sampled_from(["exact", "gt", "gte", "lt", "lte"]),
        st.sampled_from([0, 5, 7, 10, 250]),
    )
    number_in = st.tuples(
        st.just("number_of_employees"), st.just("in"), st.lists(st.sampled_from([0, 5, 7, 250]), max_size=3)
    )
    number_range = st.tuples(
        st.just("number_of_employees"), st.just("range"), st.sampled_from([(0, 5), (6, 300), (10, 10)])
    )
    isnull = st.tuples(
        st.sampled_from(["number_of_employees", "uk_organisation", "last_verified", "name"]),
        st.just("isnull"),
        st.booleans(),
    )
    flag = st.tuples(st.just("uk_organisation"), st.just("exact"), st.booleans())
    date_compare = st.tuples(
        st.just("last_verified"), st.sampled_from(["exact", "gt", "gte", "lt", "lte"]), st.sampled_from(DATES[1:])
    )
    date_part = st.sampled_from(sorted(DATE_PARTS)).flatmap(
        lambda part: st.tuples(
            st.just(f"last_verified__{part}"),
            st.sampled_from(["exact", "gt", "lte"] if part == "year" else ["exact"]),
            st.sampled_from(DATE_PARTS[part]),
        )
    )
    return st.one_of(
        string, string_in, number, number_in, number_range, isnull, flag, date_compare, date_part
    ).map(lambda t: Q(**{f"{t[0]}__{t[1]}": t[2]}))


def trees_of(leaves, max_leaves):
    """Q trees of `leaves` joined with &, | and ~."""
    return st.recursive(
        leaves,
        lambda children: st.one_of(
            st.tuples(children, children).map(lambda p: p[0] & p[1]),
            st.tuples(children, children).map(lambda p: p[0] | p[1]),
            children.map(lambda q: ~q),
        ),
        max_leaves=max_leaves,
    )


q_trees = trees_of(_leaf(), max_leaves=4)


@pytest.fixture(params=["string", "int", "absent"])
def cdms(request, cdms):
    """The emulator sending VersionNumber in each of the ways a CRM may."""
    cdms.version_number = request.param
    return cdms


def reset_keeping_versions(crm):
    """Empty the emulator, keeping how it sends VersionNumber."""
    mode = crm.version_number
    crm.reset()
    crm.version_number = mode


def _load(crm, rows):
    reset_keeping_versions(crm)
    Organisation.objects.skip_cdms().all().delete()
    for row in rows:
        attrs = {k: v for k, v in row.items() if v not in (None, "")}
        if "optevia_LastVerified" in attrs:
            attrs["optevia_LastVerified"] = odata.format_date(attrs["optevia_LastVerified"])
        crm.store.insert("Account", {"AccountId": str(uuid.uuid4()), **attrs})


def forget_versions(*models):
    """Make every local row older than any CRM state, so the next read refreshes them all.

    The reference mirror must not trust the sync layer's own judgement of what is in sync.
    """
    for model in models:
        model.objects.skip_cdms().update(modified=None)


def _mirrored(q):
    forget_versions(Organisation)
    list(Organisation.objects.all())  # a full mirror of the CRM
    return set(Organisation.objects.skip_cdms().filter(q).values_list("cdms_pk", flat=True))


def _synced(q):
    return set(Organisation.objects.filter(q).values_list("cdms_pk", flat=True))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(records, min_size=1, max_size=8), q=q_trees)
def test_synced_query_equals_query_on_a_mirror(cdms, rows, q):
    _load(cdms, rows)
    synced = _synced(q)
    count = Organisation.objects.filter(q).count()
    assert synced == _mirrored(q), q
    assert count == len(synced)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(records, min_size=2, max_size=8), changes=st.lists(records, min_size=1, max_size=3), q=q_trees
)
def test_synced_query_on_a_stale_mirror(cdms, rows, changes, q):
    _load(cdms, rows)
    list(Organisation.objects.all())
    keys = list(Organisation.objects.skip_cdms().values_list("cdms_pk", flat=True))
    stamp = (dt.datetime.now(UTC) + dt.timedelta(seconds=30)).replace(microsecond=0)
    for key, change in zip(keys, changes, strict=False):
        attrs = dict(change)
        if attrs["optevia_LastVerified"] is not None:
            attrs["optevia_LastVerified"] = odata.format_date(attrs["optevia_LastVerified"])
        cdms.store.update("Account", key, attrs, modified_on=stamp)
    cdms.store.delete("Account", keys[-1])
    synced = _synced(q)
    assert synced == _mirrored(q), q


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(records, min_size=2, max_size=8), changes=st.lists(records, min_size=1, max_size=3), q=q_trees
)
def test_synced_query_on_a_mirror_stale_within_the_same_second(cdms, rows, changes, q):
    # Another CRM user edits records in the very second they were read: ModifiedOn stays put.
    _load(cdms, rows)
    list(Organisation.objects.all())
    keys = list(Organisation.objects.skip_cdms().values_list("cdms_pk", flat=True))
    for key, change in zip(keys, changes, strict=False):
        attrs = dict(change)
        if attrs["optevia_LastVerified"] is not None:
            attrs["optevia_LastVerified"] = odata.format_date(attrs["optevia_LastVerified"])
        same_second = cdms.store.get("Account", key)["ModifiedOn"]
        cdms.store.update("Account", key, attrs, modified_on=same_second)
    synced = _synced(q)
    assert synced == _mirrored(q), q


FIRST_NAMES = ["Ann", "ann", "Ánn", "Bob", "", "O'Neil"]
contact_rows = st.fixed_dictionaries(
    {"FirstName": st.sampled_from(FIRST_NAMES), "LastName": st.sampled_from(["Lee", "lee", "Ray", ""])}
)


def _contact_leaf():
    own = st.tuples(
        st.sampled_from(["first_name", "last_name"]),
        st.sampled_from(["exact", "iexact", "icontains", "startswith"]),
        st.sampled_from(["Ann", "an", "Lee", "", "O'", "é"]),
    ).map(lambda t: Q(**{f"{t[0]}__{t[1]}": t[2]}))
    through = st.tuples(
        st.sampled_from(["organisation__name", "organisation__city"]),
        st.sampled_from(["exact", "iexact", "icontains"]),
        st.sampled_from(STRING_VALUES),
    ).map(lambda t: Q(**{f"{t[0]}__{t[1]}": t[2]}))
    employees = st.tuples(st.sampled_from(["gt", "lte", "isnull"]), st.sampled_from([5, 10])).map(
        lambda t: Q(**{f"organisation__number_of_employees__{t[0]}": t[1] if t[0] != "isnull" else True})
    )
    no_parent = st.booleans().map(lambda b: Q(organisation__isnull=b))
    subquery = st.sampled_from(CITIES).map(
        lambda city: Q(organisation__in=Organisation.objects.filter(city__iexact=city))
    )
    # Two relations away: the other contacts of the same organisation (there and back again).
    colleagues = st.tuples(
        st.sampled_from(["exact", "iexact", "icontains"]), st.sampled_from(["Ann", "an", "Bob", ""])
    ).map(lambda t: Q(**{f"organisation__contacts__first_name__{t[0]}": t[1]}))
    no_colleagues = st.booleans().map(lambda b: Q(organisation__contacts__isnull=b))
    return st.one_of(own, through, employees, no_parent, subquery, colleagues, no_colleagues)


contact_trees = trees_of(_contact_leaf(), max_leaves=3)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    accounts=st.lists(records, min_size=1, max_size=4),
    contacts=st.lists(st.tuples(contact_rows, st.integers(min_value=-2, max_value=3)), min_size=1, max_size=6),
    q=contact_trees,
)
def test_synced_contact_query_equals_query_on_a_mirror(cdms, accounts, contacts, q):
    from contact.models import Contact

    _load_contacts(cdms, accounts, contacts)
    synced = set(Contact.objects.filter(q).values_list("cdms_pk", flat=True))
    assert synced == _mirrored_contacts(q), q


contact_changes = st.lists(
    st.tuples(st.integers(min_value=0, max_value=5), contact_rows, st.integers(min_value=-2, max_value=3)),
    min_size=1,
    max_size=3,
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    accounts=st.lists(records, min_size=1, max_size=4),
    contacts=st.lists(st.tuples(contact_rows, st.integers(min_value=-2, max_value=3)), min_size=1, max_size=6),
    changes=contact_changes,
    renamed=st.lists(records, max_size=2),
    q=contact_trees,
)
def test_synced_contact_query_on_a_stale_mirror(cdms, accounts, contacts, changes, renamed, q):
    """After a first read, another CRM user renames and moves contacts, edits companies and deletes a contact."""
    from contact.models import Contact

    contact_keys = _load_contacts(cdms, accounts, contacts)
    list(Contact.objects.filter(q))
    account_keys = [record["AccountId"] for record in _accounts_in(cdms)]
    stamp = (dt.datetime.now(UTC) + dt.timedelta(seconds=30)).replace(microsecond=0)
    for index, row, parent in changes:
        key = contact_keys[index % len(contact_keys)]
        attrs = {**row, "ParentCustomerId": _parent(parent, account_keys, contact_keys, key)}
        cdms.store.update("Contact", key, attrs, modified_on=stamp)
    for key, row in zip(account_keys, renamed, strict=False):
        cdms.store.update(
            "Account", key, {"Name": row["Name"], "Address1_City": row["Address1_City"]}, modified_on=stamp
        )
    if len(contact_keys) > 1:
        cdms.store.delete("Contact", contact_keys[-1])
    synced = set(Contact.objects.filter(q).values_list("cdms_pk", flat=True))
    assert synced == _mirrored_contacts(q), q


def _load_contacts(crm, accounts, contacts):
    """Accounts, then contacts under an account (0..3), under the contact before (-2), or none; their keys."""
    from contact.models import Contact

    Contact.objects.skip_cdms().all().delete()
    _load(crm, accounts)
    account_keys = [record["AccountId"] for record in _accounts_in(crm)]
    contact_keys = []
    for row, parent in contacts:
        key = str(uuid.uuid4())
        attrs = {k: v for k, v in row.items() if v}
        reference = _parent(parent, account_keys, contact_keys, key)
        if reference["Id"]:
            attrs["ParentCustomerId"] = reference
        crm.store.insert("Contact", {"ContactId": key, **attrs})
        contact_keys.append(key)
    return contact_keys


def _parent(choice, account_keys, contact_keys, own_key):
    """A ParentCustomerId: an account by index, the latest other contact (-2), or empty."""
    if 0 <= choice < len(account_keys):
        return {"Id": account_keys[choice], "LogicalName": "account"}
    others = [key for key in contact_keys if key != own_key]
    if choice == -2 and others:
        return {"Id": others[-1], "LogicalName": "contact"}
    return {"Id": None, "LogicalName": None}


def _mirrored_contacts(q):
    from contact.models import Contact

    forget_versions(Organisation, Contact)
    list(Organisation.objects.all())
    list(Contact.objects.all())
    return set(Contact.objects.skip_cdms().filter(q).values_list("cdms_pk", flat=True))


def _accounts_in(crm):
    import requests

    answer = requests.get(
        f"{crm.service_root}/AccountSet",
        params={"$select": "AccountId", "$orderby": "AccountId"},
        headers={"Accept": "application/json"},
        timeout=5,
    )
    return answer.json()["d"]["results"]
