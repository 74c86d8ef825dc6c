"""Mirror equivalence under a random history: a state machine of CRM users, local writes and reads.

The differential test starts every query from an empty or uniformly stale mirror. Here
hypothesis interleaves another CRM user creating, editing, deleting (with CRM 2011's cascade
of an account's contacts) and re-parenting records, local creates, saves and deletes through
the sync layer, a lowered CDMS_SYNC_MAX_ROWS, and reads of every shape. After each read:

- its answer equals the same query run with `skip_cdms()` on a local database that mirrors
  the CRM at that moment (built in a savepoint that is rolled back), or the read refused with
  ReadCapError (a strict read past the cap never answers short);
- no local row of a record the CRM still has was ever removed (checked after every step).

It runs with VersionNumber sent as a string, as a number and not at all; another CRM user
also edits records within the second of their last change, which only the version (or, with
none, the values) can reveal.

Slices and first()/last() are compared by their order keys (rows that tie may come in any
order) and by membership in the unsliced answer. `make test` runs 6 fixed histories of up to
25 steps for each way of sending VersionNumber; SOAK=1 (`make soak`) runs rounds of
STATEFUL_EXAMPLES (25) random histories of up to STATEFUL_STEPS (40) steps until SOAK_SECONDS
(600) have passed.
"""

import contextlib
import os
import time
import uuid

import pytest
from django.db import transaction
from django.db.models import Count, Max, Min
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from cdms_api import odata
from cdms_api.exceptions import CDMSBadRequestError, CDMSNotFoundError
from contact.models import Contact
from migrator.connection import get_client
from migrator.exceptions import ReadCapError
from migrator.mirror.reconcile import reconcile_page
from organisation.models import Organisation
from tests.sync.test_differential import (
    CITIES,
    DATES,
    EMPLOYEES,
    FIRST_NAMES,
    FLAGS,
    NAMES,
    contact_trees,
    forget_versions,
    q_trees,
    reset_keeping_versions,
)

SOAK = os.environ.get("SOAK") == "1"
SOAK_SECONDS = float(os.environ.get("SOAK_SECONDS", 600))
EXAMPLES = int(os.environ.get("STATEFUL_EXAMPLES", "25" if SOAK else "6"))  # histories per round
STEPS = int(os.environ.get("STATEFUL_STEPS", "40" if SOAK else "25"))
CAPS = [3, 8, 5000]
STATS = {"histories": 0, "steps": 0, "reads": 0, "refused": 0, "capped_reads": 0, "most_accounts": 0}
ORG_ORDERS = ["number_of_employees", "-number_of_employees", "last_verified", "-last_verified"]
ORG_ORDERS += ["name", "-name", "modified", "-created", "pk", "-uk_organisation"]
ORG_SHAPES = ["list", "exclude", "count", "exists", "first", "last", "slice", "slice_exists", "aggregate"]
ORG_SHAPES += ["values", "annotate", "childless", "with_child_named", "without_child_named", "child_subquery"]
ORG_SHAPES += ["prefetch"]
WINDOW_SHAPES = ["first", "last", "slice", "slice_exists", "exists"]
RELATION_SHAPES = ["annotate", "childless", "with_child_named", "without_child_named", "child_subquery"]
RELATION_SHAPES += ["prefetch"]
CONTACT_SHAPES = ["list", "select_related", "values", "count", "slice", "of_organisation", "first"]

account_attrs = st.fixed_dictionaries(
    {
        "Name": st.sampled_from(NAMES),
        "Address1_City": st.sampled_from(CITIES),
        "NumberOfEmployees": st.sampled_from(EMPLOYEES),
        "optevia_ukorganisation": st.sampled_from(FLAGS),
        "optevia_LastVerified": st.sampled_from(DATES),
    }
)
LOCAL_FIELDS = ["name", "city", "number_of_employees", "uk_organisation", "last_verified"]
local_values = st.fixed_dictionaries(
    {
        "name": st.sampled_from(NAMES),
        "city": st.sampled_from(CITIES),
        "number_of_employees": st.sampled_from(EMPLOYEES),
        "uk_organisation": st.sampled_from(FLAGS),
        "last_verified": st.sampled_from(DATES),
    }
)


def _wire(attrs):
    wire = {key: value for key, value in attrs.items() if value not in (None, "")}
    if "optevia_LastVerified" in wire:
        wire["optevia_LastVerified"] = odata.format_date(wire["optevia_LastVerified"])
    return wire


def _crm_keys(crm, entity):
    key = odata.key_attribute(entity)
    return sorted(row[0] for row in crm.store.select(f'SELECT "{key}" FROM "{entity}"'))


class Answer:
    """What one read returned, in a form that compares with the mirror's."""

    def __init__(self, value, order=None, members=None):
        self.value, self.order, self.members = value, order, members


def _order_key(row, order):
    return getattr(row, order.lstrip("-"))


def _window(qs, order, low, high):
    rows = list(qs.order_by(order)[low:high])
    return Answer([_order_key(r, order) for r in rows], order, {r.pk for r in rows})


def _one(row, order):
    return Answer(None if row is None else _order_key(row, order), order, set() if row is None else {row.pk})


def read_organisations(qs, shape, order, low, size, name):
    """Evaluate one read shape on an organisation queryset."""
    high = low + size
    shapes = {
        "list": lambda: {o.pk for o in qs},
        "exclude": lambda: {o.pk for o in qs},
        "count": qs.count,
        "exists": qs.exists,
        "first": lambda: _one(qs.order_by(order).first(), order),
        "last": lambda: _one(qs.order_by(order).last(), order),
        "slice": lambda: _window(qs, order, low, high),
        "slice_exists": lambda: qs.order_by(order)[low:high].exists(),
        "aggregate": lambda: qs.aggregate(Max("number_of_employees"), Min("last_verified"), Count("id")),
        "values": lambda: sorted(qs.values_list("name", "city", "number_of_employees").order_by(), key=repr),
        "annotate": lambda: sorted(qs.annotate(n=Count("contacts")).values_list("pk", "n").order_by()),
        "childless": lambda: {o.pk for o in qs.filter(contacts__isnull=True)},
        "with_child_named": lambda: {o.pk for o in qs.filter(contacts__first_name__iexact=name)},
        "without_child_named": lambda: {o.pk for o in qs.exclude(contacts__first_name__iexact=name)},
        "child_subquery": lambda: {
            o.pk for o in qs.filter(contacts__in=Contact.objects.filter(first_name__icontains=name[:2]))
        },
        "prefetch": lambda: sorted(
            (o.pk, sorted(c.pk for c in o.contacts.all())) for o in qs.prefetch_related("contacts")
        ),
    }
    return shapes[shape]()


def read_contacts(qs, shape, low, size, organisation_pk):
    """Evaluate one read shape on a contact queryset."""
    shapes = {
        "list": lambda: {c.pk for c in qs},
        "select_related": lambda: sorted(
            (c.pk, c.organisation.name if c.organisation else None) for c in qs.select_related("organisation")
        ),
        "values": lambda: sorted(qs.values_list("first_name", "organisation__name").order_by(), key=repr),
        "count": qs.count,
        "slice": lambda: _window(qs, "-modified", low, low + size),
        "of_organisation": lambda: {c.pk for c in qs.filter(organisation_id=organisation_pk)},
        "first": lambda: _one(qs.order_by("created").first(), "created"),
    }
    return shapes[shape]()


CRM_USER = {
    "crm_creates_an_account": st.fixed_dictionaries({"attrs": account_attrs}),
    "crm_creates_a_contact": st.fixed_dictionaries(
        {"first": st.sampled_from(FIRST_NAMES), "parent": st.integers(-1, 20)}
    ),
    "crm_edits_an_account": st.fixed_dictionaries({"which": st.integers(0, 50), "attrs": account_attrs}),
    "crm_deletes_an_account": st.fixed_dictionaries({"which": st.integers(0, 50)}),
    "crm_deletes_a_contact": st.fixed_dictionaries({"which": st.integers(0, 50)}),
    "crm_reparents_a_contact": st.fixed_dictionaries(
        {"which": st.integers(0, 50), "parent": st.integers(-1, 50), "first": st.sampled_from(FIRST_NAMES)}
    ),
}
LOCAL_WRITES = {
    "local_create": st.fixed_dictionaries({"values": local_values}),
    "local_save": st.fixed_dictionaries(
        {
            "which": st.integers(0, 50),
            "values": local_values,
            "fields": st.sets(st.sampled_from(LOCAL_FIELDS), min_size=1),
        }
    ),
    "local_create_contact": st.fixed_dictionaries(
        {"which": st.integers(0, 50), "first": st.sampled_from(FIRST_NAMES)}
    ),
    "local_delete": st.fixed_dictionaries({"which": st.integers(0, 50), "contacts": st.booleans()}),
}


class ReadsMachine(RuleBasedStateMachine):
    """Another CRM user, local writes and reads of every shape, against a mirror of the CRM."""

    crm = None  # the emulator, set by the test
    django_settings = None

    def __init__(self):
        super().__init__()
        reset_keeping_versions(self.crm)
        Contact.objects.skip_cdms().all().delete()
        Organisation.objects.skip_cdms().all().delete()
        self.django_settings.CDMS_SYNC_MAX_ROWS = 5000
        self.local_rows = {}  # cdms_pk -> local pk, for every row ever seen locally
        self.reads = self.refused = 0

    @initialize(
        accounts=st.lists(account_attrs, min_size=2, max_size=14),
        contacts=st.lists(st.tuples(st.sampled_from(FIRST_NAMES), st.integers(-1, 20)), max_size=12),
        mirrored=st.booleans(),
    )
    def the_crm_holds_records(self, accounts, contacts, mirrored):
        """Records made in the CRM before the history starts, optionally mirrored locally already."""
        for attrs in accounts:
            self.crm_creates_an_account(attrs)
        for first, parent in contacts:
            self.crm_creates_a_contact(first, parent)
        if mirrored:
            list(Organisation.objects.all())
            list(Contact.objects.all())

    @rule(action=st.sampled_from(sorted(CRM_USER)), data=st.data())
    def another_crm_user(self, action, data):
        """Another CRM user creates, edits, deletes or re-parents a record."""
        getattr(self, action)(**data.draw(CRM_USER[action], label=action))

    @rule(which=st.integers(0, 50), attrs=account_attrs)
    def another_crm_user_within_the_second(self, which, attrs):
        """Another CRM user edits an account within the second of its last change."""
        self.crm_edits_an_account_in_the_same_second(which, attrs)

    @rule(action=st.sampled_from(sorted(LOCAL_WRITES)), data=st.data())
    def local_write(self, action, data):
        """A local create, save or delete through the sync layer."""
        getattr(self, action)(**data.draw(LOCAL_WRITES[action], label=action))

    # Another CRM user.

    def crm_creates_an_account(self, attrs):
        self.crm.store.insert("Account", {"AccountId": str(uuid.uuid4()), **_wire(attrs)})

    def crm_creates_a_contact(self, first, parent):
        attrs = {"ContactId": str(uuid.uuid4()), "FirstName": first or None}
        accounts = _crm_keys(self.crm, "Account")
        if parent >= 0 and accounts:
            attrs["ParentCustomerId"] = {"Id": accounts[parent % len(accounts)], "LogicalName": "account"}
        self.crm.store.insert("Contact", attrs)

    def crm_edits_an_account(self, which, attrs):
        accounts = _crm_keys(self.crm, "Account")
        if accounts:
            changes = {key: value for key, value in attrs.items() if value is not None}
            cleared = {key: None for key, value in attrs.items() if value is None and key != "Name"}
            self.crm.store.update("Account", accounts[which % len(accounts)], {**_wire(changes), **cleared})

    def crm_edits_an_account_in_the_same_second(self, which, attrs):
        # Within the second of the record's last change (a local write, or the state a read
        # just fetched): only VersionNumber, or with none the values, can show the change.
        accounts = _crm_keys(self.crm, "Account")
        if accounts:
            key = accounts[which % len(accounts)]
            same_second = self.crm.store.get("Account", key)["ModifiedOn"]
            changes = {name: value for name, value in attrs.items() if value is not None}
            self.crm.store.update("Account", key, _wire(changes), modified_on=same_second)

    def crm_deletes_an_account(self, which):
        accounts = _crm_keys(self.crm, "Account")
        if accounts:
            self.crm.store.delete("Account", accounts[which % len(accounts)])  # its contacts go with it

    def crm_deletes_a_contact(self, which):
        contacts = _crm_keys(self.crm, "Contact")
        if contacts:
            self.crm.store.delete("Contact", contacts[which % len(contacts)])

    def crm_reparents_a_contact(self, which, parent, first):
        contacts, accounts = _crm_keys(self.crm, "Contact"), _crm_keys(self.crm, "Account")
        if contacts:
            link = {"Id": None, "LogicalName": None}
            if parent >= 0 and accounts:
                link = {"Id": accounts[parent % len(accounts)], "LogicalName": "account"}
            changes = {"ParentCustomerId": link, "FirstName": first or None}
            self.crm.store.update("Contact", contacts[which % len(contacts)], changes)

    # Local writes through the sync layer.

    def local_create(self, values):
        org = Organisation.objects.create(**values)
        self.local_rows[org.cdms_pk] = org.pk

    def local_save(self, which, values, fields):
        rows = list(Organisation.objects.skip_cdms().order_by("pk"))
        if rows:
            org = rows[which % len(rows)]
            for field in fields:
                setattr(org, field, values.get(field))
            with contextlib.suppress(CDMSNotFoundError):  # deleted in the CRM meanwhile: refused
                org.save()

    def local_create_contact(self, which, first):
        rows = list(Organisation.objects.skip_cdms().exclude(cdms_pk=None).order_by("pk"))
        parent = rows[which % len(rows)] if rows and which % 3 else None
        try:
            contact = Contact.objects.create(first_name=first, last_name="Local", organisation=parent)
        except (CDMSNotFoundError, CDMSBadRequestError):
            return  # the parent is gone from the CRM: refused, nothing written
        self.local_rows[contact.cdms_pk] = contact.pk

    def local_delete(self, which, contacts):
        model = Contact if contacts else Organisation
        rows = list(model.objects.skip_cdms().order_by("pk"))
        if rows:
            rows[which % len(rows)].delete()

    @rule(cap=st.sampled_from(CAPS))
    def set_cap(self, cap):
        self.django_settings.CDMS_SYNC_MAX_ROWS = cap

    # Reads.

    @rule(
        q=q_trees,
        shape=st.sampled_from(WINDOW_SHAPES),
        order=st.sampled_from(ORG_ORDERS),
        low=st.integers(0, 6),
        size=st.integers(1, 4),
        name=st.sampled_from(FIRST_NAMES[:4]),
    )
    def read_organisation_windows(self, q, shape, order, low, size, name):
        self.read_organisations(q, shape, order, low, size, name)

    @rule(
        q=q_trees,
        shape=st.sampled_from(RELATION_SHAPES),
        order=st.sampled_from(ORG_ORDERS),
        low=st.integers(0, 6),
        size=st.integers(1, 4),
        name=st.sampled_from(FIRST_NAMES[:4]),
    )
    def read_organisations_across_the_relation(self, q, shape, order, low, size, name):
        self.read_organisations(q, shape, order, low, size, name)

    @rule(
        q=q_trees,
        shape=st.sampled_from(ORG_SHAPES),
        order=st.sampled_from(ORG_ORDERS),
        low=st.integers(0, 6),
        size=st.integers(1, 4),
        name=st.sampled_from(FIRST_NAMES[:4]),
    )
    def read_organisations(self, q, shape, order, low, size, name):
        def query(model_qs):
            return model_qs.exclude(q) if shape == "exclude" else model_qs.filter(q)

        self._check(
            lambda: read_organisations(query(Organisation.objects.all()), shape, order, low, size, name),
            lambda: read_organisations(query(Organisation.objects.skip_cdms()), shape, order, low, size, name),
            (shape, q, order, low, size, name),
        )

    @rule(q=contact_trees, shape=st.sampled_from(CONTACT_SHAPES), low=st.integers(0, 6), size=st.integers(1, 4))
    def read_contacts(self, q, shape, low, size):
        organisation_pk = Organisation.objects.skip_cdms().order_by("pk").values_list("pk", flat=True).first()
        self._check(
            lambda: read_contacts(Contact.objects.filter(q), shape, low, size, organisation_pk),
            lambda: read_contacts(Contact.objects.skip_cdms().filter(q), shape, low, size, organisation_pk),
            (shape, q, low, size),
        )

    def _check(self, synced_read, mirror_read, described):
        try:
            synced = synced_read()
        except ReadCapError:
            self.refused += 1
            self._remember_local_rows()
            return  # refused, not answered short
        self.reads += 1
        STATS["most_accounts"] = max(STATS["most_accounts"], self.crm.store.count("Account"))
        if self.django_settings.CDMS_SYNC_MAX_ROWS < 5000:
            STATS["capped_reads"] += 1
        self._remember_local_rows()
        full, expected = self._on_a_mirror(mirror_read, described)
        if isinstance(synced, Answer):
            assert synced.value == expected.value, (described, synced.value, expected.value)
            assert synced.members <= full, (described, synced.members, full)
        else:
            assert synced == expected, (described, synced, expected)

    def _on_a_mirror(self, mirror_read, described):
        """(unsliced members, answer) of the read on a local database that mirrors the CRM now."""
        with transaction.atomic():
            self._mirror()
            expected = mirror_read()
            full = None
            if isinstance(expected, Answer):
                # The unsliced answer, to check that each returned row belongs to it.
                shape, q = described[0], described[1]
                if len(described) == 6:
                    base = Organisation.objects.skip_cdms()
                    base = base.exclude(q) if shape == "exclude" else base.filter(q)
                else:
                    base = Contact.objects.skip_cdms().filter(q)
                full = set(base.values_list("pk", flat=True))
            transaction.set_rollback(True)
        return full, expected

    def _mirror(self):
        live = {"Account": set(_crm_keys(self.crm, "Account")), "Contact": set(_crm_keys(self.crm, "Contact"))}
        Contact.objects.skip_cdms().exclude(cdms_pk__in=live["Contact"]).exclude(cdms_pk=None).delete()
        Organisation.objects.skip_cdms().exclude(cdms_pk__in=live["Account"]).exclude(cdms_pk=None).delete()
        forget_versions(Organisation, Contact)  # a refresh of every row, whatever the sync layer thinks
        client = get_client()
        for model, entity in ((Organisation, "Account"), (Contact, "Contact")):
            for page in client.list(entity):
                reconcile_page(model, page)

    def _remember_local_rows(self):
        for model in (Organisation, Contact):
            for key, pk in model.objects.skip_cdms().exclude(cdms_pk=None).values_list("cdms_pk", "pk"):
                self.local_rows.setdefault(key, pk)

    def teardown(self):
        STATS["histories"] += 1
        STATS["reads"] += self.reads
        STATS["refused"] += self.refused

    @invariant()
    def no_local_row_of_a_live_record_was_removed(self):
        STATS["steps"] += 1
        live = set(_crm_keys(self.crm, "Account")) | set(_crm_keys(self.crm, "Contact"))
        kept = set(Organisation.objects.skip_cdms().values_list("pk", "cdms_pk"))
        kept |= set(Contact.objects.skip_cdms().values_list("pk", "cdms_pk"))
        lost = [key for key, pk in self.local_rows.items() if key in live and (pk, key) not in kept]
        assert not lost, f"local rows of live CRM records were removed: {lost}"


@pytest.mark.soak
@pytest.mark.parametrize("version_number", ["string", "int", "absent"])
def test_reads_equal_a_mirror_of_the_crm_under_any_history(cdms, settings, version_number):
    # VersionNumber as OData v2 sends an Int64, as a number, and not at all (null).
    cdms.version_number = version_number
    ReadsMachine.crm = cdms
    ReadsMachine.django_settings = settings
    deadline = time.monotonic() + SOAK_SECONDS
    while True:
        run_state_machine_as_test(ReadsMachine, settings=settings_for_budget())
        if not SOAK or time.monotonic() >= deadline:
            break
    print(f"stateful: {STATS} ({STATS['steps'] - STATS['histories']} rule steps)")
    assert STATS["reads"] > 0


def settings_for_budget():
    """A small fixed budget in `make test`; a long one with SOAK=1."""
    return hypothesis_settings(
        max_examples=EXAMPLES,
        stateful_step_count=STEPS,
        deadline=None,
        derandomize=not SOAK,
        suppress_health_check=list(HealthCheck),
    )
